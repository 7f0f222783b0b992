"""The scheduler settles due questions by itself: `forecasts worker [--once]`, the loop in
`forecasts serve`, and several of them at once on one database settling each question once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.models import QuestionScore, Resolution
from forecasts.services import scheduler
from tests.test_cli import assert_fails
from tests.test_resolve_due import EXPECTED, NOW, current, json_out, load

FORECASTS = Path(sys.executable).with_name("forecasts")  # the console script of this venv
ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 60


def settled_counts(database) -> dict[int, int]:
    """Resolution rows per question id."""
    with database.session() as s:
        return dict(s.execute(select(Resolution.question_id, func.count())
                              .group_by(Resolution.question_id)).all())


def test_worker_once_settles_what_resolve_due_would_and_is_idempotent(runner, tmp_path):
    load(runner, tmp_path)
    preview = runner("resolve-due", "--now", NOW, "--dry-run").stdout
    expected = sorted(line.replace("would settle ", "settled ", 1)
                      for line in preview.splitlines() if line.startswith("would settle "))
    result = runner("worker", "--once", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    # The notifications job reports too (what the settled questions notified).
    assert sorted(x for x in result.stdout.splitlines() if x.startswith("settled ")) == expected
    assert len(expected) == len(EXPECTED)
    for slug, (outcome, _known) in EXPECTED.items():
        row = current(runner, slug)
        assert (row["outcome"], row["actor"], row["source"]) == (outcome, "scheduler", "rule")
    again = runner("worker", "--once", "--now", NOW)
    assert again.exit_code == 0 and "settled" not in again.stdout
    assert runner("resolve-due", "--now", NOW, "--dry-run").stdout.count("would settle") == 0


def test_worker_refuses_a_future_now_and_now_without_once(runner, tmp_path):
    load(runner, tmp_path)
    assert_fails(runner("worker", "--once", "--now", "2999-01-01"), "--now", "future")
    assert_fails(runner("worker", "--now", NOW), "--now", "--once")
    assert_fails(runner("worker", "--once", "--now", "soon"), "--now", "ISO 8601")
    assert json_out(runner, "history", "tariff-any") == []


def test_a_failing_job_does_not_stop_the_others(database):
    ran = []

    def broken(db, now, recorded_at, settings):
        raise RuntimeError("mail server down\nsecond line")

    def fine(db, now, recorded_at, settings):
        ran.append((now, recorded_at))
        return ["did it"]

    moment = timeutil.parse(NOW, where="now")
    result = scheduler.run_once(database, now=moment,
                                jobs=(scheduler.Job("mail", broken), scheduler.Job("ok", fine)))
    assert result.lines == ["did it"]
    assert [name for name, _ in result.failed] == ["mail"]
    assert result.errors() == ["mail: mail server down"]
    assert ran[0][0] == moment and ran[0][1] >= moment


def test_the_loop_keeps_going_after_errors_and_stops_cleanly(database, caplog):
    calls: list[int] = []
    stop = threading.Event()

    def flaky(db, now, recorded_at, settings):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first pass fails")
        if len(calls) == 3:
            stop.set()
        return [f"pass {len(calls)}"]

    reported: list[str] = []
    passes = scheduler.run_forever(database, 0.01, stop, report=reported.append,
                                   jobs=(scheduler.Job("flaky", flaky),))
    assert passes == 3 and reported == ["pass 2", "pass 3"]
    assert "scheduled job flaky failed" in caplog.text and "first pass fails" in caplog.text


def test_background_scheduler_settles_and_stops(runner, tmp_path, database):
    load(runner, tmp_path)
    lines: list[str] = []
    background = scheduler.Background(database, 0.05, report=lines.append).start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(lines) < len(EXPECTED) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        background.stop()
    assert not background.thread.is_alive()
    # Without --now the rules decide as of today: the scenario's `later` is due too.
    assert {line.split()[1] for line in lines} >= set(EXPECTED)
    assert set(settled_counts(database).values()) == {1}


def _spawn(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(FORECASTS), *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = DEADLINE_S) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{proc.args} did not finish in {timeout} s: {err}")
    return proc.returncode, out, err


def test_several_worker_processes_settle_each_question_once(runner, tmp_path, env, database):
    load(runner, tmp_path)
    procs = [_spawn(env, "worker", "--once", "--now", NOW) for _ in range(4)]
    results = [_finish(p) for p in procs]
    assert [rc for rc, _, _ in results] == [0] * 4, [err for _, _, err in results]
    lines = [line for _, out, _ in results for line in out.splitlines()
             if line.startswith("settled ")]
    # Each question settled by exactly one process, and printed once.
    assert sorted(line.split()[1] for line in lines) == sorted(EXPECTED)
    counts = settled_counts(database)
    assert len(counts) == len(EXPECTED) and set(counts.values()) == {1}
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QuestionScore)) == 2 * 7


def test_worker_loop_runs_until_sigterm(runner, tmp_path, env, database):
    load(runner, tmp_path)
    proc = _spawn({**env, "SCHEDULER_INTERVAL_S": "1"}, "worker")
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(settled_counts(database)) < len(EXPECTED) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc, out, err = _finish(proc, 30)
    assert rc == 0, err
    assert out.splitlines()[-1] == "worker: stopped"
    assert {line.split()[1] for line in out.splitlines() if line.startswith("settled ")} \
        >= set(EXPECTED)
    assert set(settled_counts(database).values()) == {1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.communicate()[1]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer in {DEADLINE_S} s")


def _unnotified(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Resolution)
                        .where(Resolution.notified_at.is_(None)))


@pytest.mark.parametrize("scheduled", [True, False])
def test_serve_runs_the_scheduler_unless_told_not_to(runner, tmp_path, env, database, scheduled):
    load(runner, tmp_path)
    port = _free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "2"]
    proc = _spawn({**env, "SCHEDULER_INTERVAL_S": "1"},
                  *(args if scheduled else [*args, "--no-scheduler"]))
    try:
        _wait_for_http(f"http://127.0.0.1:{port}/questions/tariff-any", proc)
        deadline = time.monotonic() + (DEADLINE_S if scheduled else 2.5)
        while len(settled_counts(database)) < len(EXPECTED) and time.monotonic() < deadline:
            time.sleep(0.1)
        # The pass reports its lines once its later jobs (notifications) are done too.
        while scheduled and _unnotified(database) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5 if scheduled else 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, out, _ = _finish(proc, 30)
    counts = settled_counts(database)
    if scheduled:
        assert len(counts) >= len(EXPECTED) and set(counts.values()) == {1}
        assert "scheduler: settled tariff-any as yes" in out
    else:
        assert counts == {} and "scheduler" not in out
