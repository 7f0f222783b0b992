"""`forecasts worker` processes deliver the outbox to a real SMTP server: several at once
send each mail exactly once, also when the server is down for a while in between."""
from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select, update

from forecasts import timeutil
from forecasts.models import MailMessage
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
        assert {m.state for m in got if m.to_addr.startswith("outage")} == {"pending"}
        assert any("cannot reach the SMTP server" in (m.last_error or "") for m in got)
        smtp_server.start()
        # The mails the outage put off wait a minute; let that minute pass at once.
        with database.transaction() as s:
            s.execute(update(MailMessage).where(MailMessage.state == "pending")
                      .values(next_attempt_at=timeutil.now()))
        queue(database, 30, to="after{i}@example.org")
        expected += [f"after{i}@example.org" for i in range(30)]
        smtp_server.wait_for(90, timeout=20)
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
