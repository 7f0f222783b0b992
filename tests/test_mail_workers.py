"""`forecasts worker` processes deliver the outbox to a real SMTP server: several at once
send each mail exactly once, also when the server is down for a while in between."""
from __future__ import annotations

import importlib.util
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from forecasts import timeutil
from forecasts.models import Follow, MailMessage
from tests.builders import make_question, make_user
from tests.mailserver import MailServer, mail_env
from tests.servers import BIN, ROOT, server_env
from tests.test_mail_delivery import queue, rows

DEADLINE_S = 60


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([str(BIN / "forecasts"), "worker", *args], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def assert_each_once(server: MailServer, expected: list[str]) -> None:
    received = Counter(m["To"] for m in server.messages)
    assert received == Counter(expected), (
        f"duplicates: {[a for a, n in received.items() if n > 1]}, "
        f"missing: {sorted(set(expected) - set(received))}")


def test_two_worker_once_processes_send_each_of_100_mails_once(database, env, smtp_server,
                                                               tmp_path):
    queue(database, 100)
    proc_env = server_env(mail_env(env, smtp_server))
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    procs = [start_worker(proc_env, log, "--once") for log in logs]
    try:
        for proc in procs:
            proc.wait(DEADLINE_S)
    finally:
        stop(procs)
    outputs = [log.read_text() for log in logs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    mailed = [line for out in outputs for line in out.splitlines() if line.startswith("mailed")]
    assert len(mailed) == 100
    smtp_server.wait_for(100)
    assert_each_once(smtp_server, [f"user{i}@example.org" for i in range(100)])
    assert {m.state for m in rows(database).values()} == {"sent"}


def test_two_running_workers_deliver_every_mail_once_across_a_server_outage(
        database, env, smtp_server, tmp_path):
    began = time.monotonic()
    proc_env = server_env(mail_env(env, smtp_server), SCHEDULER_INTERVAL_S="1")
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    expected = [f"before{i}@example.org" for i in range(30)]
    queue(database, 30, to="before{i}@example.org")
    procs = [start_worker(proc_env, log) for log in logs]
    try:
        smtp_server.wait_for(30, timeout=20)
        smtp_server.stop()
        queue(database, 30, to="outage{i}@example.org")
        expected += [f"outage{i}@example.org" for i in range(30)]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # both workers meet the closed port
            got = rows(database).values()
            if sum(1 for m in got if m.last_error and m.state == "pending") >= 2:
                break
            time.sleep(0.2)
        time.sleep(1.0)
        got = rows(database).values()
        # Nothing goes out while the server is down (a row may be caught mid-claim,
        # `sending` for the moment a worker tries to connect, then pending again).
        assert {m.state for m in got if m.to_addr.startswith("outage")} <= {"pending", "sending"}
        assert any("cannot reach the SMTP server" in (m.last_error or "") for m in got)
        smtp_server.start()
        fast_forward(database)
        queue(database, 30, to="after{i}@example.org")
        expected += [f"after{i}@example.org" for i in range(30)]
        # A worker that met the closed port just before the restart puts its mail back
        # with a backoff after the fast-forward above: keep making such mail due.
        deadline = time.monotonic() + 20
        while len(smtp_server.messages) < 90 and time.monotonic() < deadline:
            time.sleep(0.5)
            fast_forward(database)
        smtp_server.wait_for(90, timeout=1)
        time.sleep(2.5)  # two more passes each: nothing is sent again
    finally:
        stop(procs)
    outputs = [log.read_text() for log in logs]
    assert all("server unavailable" in out or "mailed" in out for out in outputs), outputs
    assert any("server unavailable" in out for out in outputs), outputs
    assert_each_once(smtp_server, expected)
    with database.session() as s:
        states = Counter(s.scalars(select(MailMessage.state)))
    assert states == Counter({"sent": 90})
    assert time.monotonic() - began < DEADLINE_S


def fast_forward(database) -> None:
    """Make the mail that an outage put off (a minute's backoff) due at once."""
    with database.transaction() as s:
        s.execute(update(MailMessage).where(MailMessage.state == "pending")
                  .values(next_attempt_at=timeutil.now()))


@pytest.mark.skipif(importlib.util.find_spec("forecasts.services.notification_mail") is None,
                    reason="needs the notifications' mail (forecasts/services/notification_mail.py)")
def test_running_workers_mail_each_due_closing_notification_once_across_an_outage(
        database, env, smtp_server, tmp_path):
    """Followers with a verified address of a question closing within 24 h: two workers
    record the notifications and mail each follower once, though the server is down at
    first; the follower without a verified address gets none."""
    began = time.monotonic()
    now = timeutil.now()
    with database.transaction() as s:
        question = make_question(s, slug="closing-soon",
                                 open_at=timeutil.iso(now - timedelta(days=3)),
                                 close_at=timeutil.iso(now + timedelta(hours=12)))
        for i in range(40):
            user = make_user(s, f"follower{i}")
            user.email = f"follower{i}@example.org"
            user.email_verified_at = None if i == 39 else now
            s.add(Follow(user_id=user.id, question_id=question.id, following=True))
    expected = [f"follower{i}@example.org" for i in range(39)]
    smtp_server.stop()
    proc_env = server_env(mail_env(env, smtp_server), SCHEDULER_INTERVAL_S="1")
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    procs = [start_worker(proc_env, log) for log in logs]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # queued, and put off by the closed port
            got = rows(database).values()
            if len(got) == 39 and sum(1 for m in got if m.last_error) >= 2:
                break
            time.sleep(0.2)
        assert {m.state for m in rows(database).values()} == {"pending"}
        smtp_server.start()
        fast_forward(database)
        smtp_server.wait_for(39, timeout=20)
        time.sleep(2.5)  # two more passes each: nothing is recorded or sent again
    finally:
        stop(procs)
    outputs = [log.read_text() for log in logs]
    assert any("server unavailable" in out for out in outputs), outputs
    assert_each_once(smtp_server, expected)
    assert all("closing-soon" in m.get_body(("plain",)).get_content()
               for m in smtp_server.messages)
    assert {m.state for m in rows(database).values()} == {"sent"}
    assert time.monotonic() - began < DEADLINE_S
