"""The mail job sends the outbox through a real SMTP server (tests/mailserver.py): each
message at most once, with retries after a backoff while the server is down or puts a
message off, `failed` for a refused recipient, and several passes at once sending each
message exactly once."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forecasts import config, timeutil
from forecasts.errors import ConfigError
from forecasts.models import MailMessage
from forecasts.services import delivery, outbox
from tests.builders import errors_in_threads
from tests.mailserver import MailServer

UNSUBSCRIBE = {"List-Unsubscribe": "<https://forecasts.example/unsubscribe/t0k3n>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def settings_for(server: MailServer | None, **extra) -> dict:
    values = {"MAIL_FROM": "Forecasts <mail@forecasts.example>", **extra}
    if server is not None:
        values.setdefault("SMTP_URL", server.url)
    return config.load(values, environ={})


def queue(database, n: int = 1, *, to: str = "user{i}@example.org", **fields) -> list[int]:
    """Queue n mails (kind notification, text and HTML); their ids in order."""
    with database.transaction() as s:
        return [outbox.enqueue(s, kind="notification", to=to.format(i=i),
                               subject=fields.get("subject", f"Mail {i}"),
                               text=f"Plain body {i}", html=f"<p>HTML body {i}</p>",
                               headers=fields.get("headers")).id for i in range(n)]


def rows(database) -> dict[int, MailMessage]:
    with database.session() as s:
        return {m.id: m for m in s.scalars(select(MailMessage))}


def later(minutes: float):
    return timeutil.now() + timedelta(minutes=minutes)


def test_a_queued_mail_arrives_with_its_headers_and_both_parts(database, smtp_server):
    [mid] = queue(database, to="ada@example.org", subject="Closing soon: strike-2027",
                  headers=UNSUBSCRIBE)
    lines = delivery.deliver(database, now=timeutil.now(), settings=settings_for(smtp_server))
    assert lines == [f"mailed notification #{mid} to ada@example.org"]
    [got] = smtp_server.wait_for(1)
    assert got.envelope_to == ["ada@example.org"]
    assert got.envelope_from == "mail@forecasts.example"
    assert got["From"] == "Forecasts <mail@forecasts.example>"
    assert got["To"] == "ada@example.org"
    assert got["Subject"] == "Closing soon: strike-2027"
    assert got["Date"] and got["Message-ID"].endswith("@forecasts.example>")
    assert got["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.get_content_type() == "multipart/alternative"
    assert got.get_body(("plain",)).get_content().strip() == "Plain body 0"
    assert got.get_body(("html",)).get_content().strip() == "<p>HTML body 0</p>"
    row = rows(database)[mid]
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None and row.claimed_by.startswith(delivery.WORKER)
    # Sent is sent: another pass has nothing to do.
    assert delivery.deliver(database, now=later(120), settings=settings_for(smtp_server)) == []
    assert len(smtp_server.messages) == 1


def test_a_server_that_is_down_leaves_the_mail_pending_and_a_later_pass_sends_it_once(
        database, smtp_server):
    ids = queue(database, 3)
    settings = settings_for(smtp_server)
    smtp_server.stop()
    start = timeutil.now()
    lines = delivery.deliver(database, now=start, settings=settings)
    assert len(lines) == 1 and lines[0].startswith("mail: server unavailable")
    assert lines[0].endswith("3 waiting")
    got = rows(database)
    assert {m.state for m in got.values()} == {"pending"}
    first = got[ids[0]]  # the one claimed when the connection failed
    assert first.attempts == 1 and "cannot reach the SMTP server" in first.last_error
    assert first.next_attempt_at == start + timedelta(seconds=60)
    assert first.claimed_by is None
    # Down still, a minute and a half on: the next due (never tried) is claimed and put off.
    assert delivery.deliver(database, now=start + timedelta(seconds=90),
                            settings=settings)[0].startswith("mail: server unavailable")
    got = rows(database)
    assert [(got[i].attempts, got[i].next_attempt_at - start) for i in ids[:2]] == [
        (1, timedelta(seconds=60)), (1, timedelta(seconds=150))]
    # Up again; a pass before the second's backoff is over sends the two others only.
    smtp_server.start()
    sent = delivery.deliver(database, now=start + timedelta(seconds=100), settings=settings)
    assert sent == [f"mailed notification #{i} to user{n}@example.org"
                    for n, i in ((2, ids[2]), (0, ids[0]))]
    sent = delivery.deliver(database, now=start + timedelta(seconds=151), settings=settings)
    assert sent == [f"mailed notification #{ids[1]} to user1@example.org"]
    assert delivery.deliver(database, now=later(600), settings=settings) == []
    assert sorted(m["To"] for m in smtp_server.wait_for(3)) == [
        "user0@example.org", "user1@example.org", "user2@example.org"]
    assert {m.state for m in rows(database).values()} == {"sent"}


def test_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 6, 7, 30)] == [
        60, 120, 240, 1920, 3600, 3600]


def test_two_passes_at_once_send_each_of_100_mails_exactly_once(database, smtp_server):
    ids = queue(database, 100)
    settings = settings_for(smtp_server)
    lines: list[list[str]] = [[], []]

    def run(i: int) -> None:
        lines[i] = delivery.deliver(database, now=timeutil.now(), settings=settings)

    assert errors_in_threads(run, 2) == []
    assert len(lines[0]) + len(lines[1]) == 100
    received = Counter(m["To"] for m in smtp_server.wait_for(100))
    assert len(received) == 100 and set(received.values()) == {1}
    assert {(m.state, m.attempts) for m in rows(database).values()} == {("sent", 1)}
    assert len(smtp_server.messages) == len(ids)


def test_a_mail_left_sending_by_a_crash_is_never_sent_again(database, smtp_server):
    crashed, other = queue(database, 2)
    assert delivery.claim(database, crashed, timeutil.now()) is not None  # then "crash"
    lines = delivery.deliver(database, now=later(120), settings=settings_for(smtp_server))
    assert lines == [f"mailed notification #{other} to user1@example.org"]
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["user1@example.org"]
    assert rows(database)[crashed].state == "sending"
    assert delivery.claim(database, crashed, later(240)) is None


def test_a_refused_recipient_fails_for_good_and_the_others_are_sent(database, smtp_server):
    ids = queue(database, 3)
    smtp_server.refuse.add("user1@example.org")
    lines = delivery.deliver(database, now=timeutil.now(), settings=settings_for(smtp_server))
    assert lines[1] == f"mail #{ids[1]} to user1@example.org refused: 550 5.1.1 mailbox unavailable"
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == [
        "user0@example.org", "user2@example.org"]
    got = rows(database)
    assert [got[i].state for i in ids] == ["sent", "failed", "sent"]
    assert got[ids[1]].last_error == "550 5.1.1 mailbox unavailable"
    assert delivery.deliver(database, now=later(600), settings=settings_for(smtp_server)) == []
    assert len(smtp_server.messages) == 2


def test_a_recipient_put_off_is_retried_after_the_backoff(database, smtp_server):
    [mid] = queue(database, to="busy@example.org")
    smtp_server.defer.add("busy@example.org")
    start = timeutil.now()
    [line] = delivery.deliver(database, now=start, settings=settings_for(smtp_server))
    assert "put off until" in line and "451 4.3.0 try again later" in line
    row = rows(database)[mid]
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == start + timedelta(seconds=60)
    smtp_server.defer.clear()
    assert delivery.deliver(database, now=start + timedelta(seconds=61),
                            settings=settings_for(smtp_server)) == [
        f"mailed notification #{mid} to busy@example.org"]
    assert rows(database)[mid].attempts == 2
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["busy@example.org"]


def test_a_connection_lost_mid_send_is_retried_and_the_next_mail_reconnects(database,
                                                                             smtp_server):
    lost, other = queue(database, 2)
    smtp_server.drop.add("user0@example.org")
    start = timeutil.now()
    lines = delivery.deliver(database, now=start, settings=settings_for(smtp_server))
    assert "put off until" in lines[0] and "SMTPServerDisconnected" in lines[0]
    assert lines[1] == f"mailed notification #{other} to user1@example.org"
    assert (rows(database)[lost].state, rows(database)[lost].attempts) == ("pending", 1)
    smtp_server.drop.clear()
    assert len(delivery.deliver(database, now=start + timedelta(seconds=61),
                                settings=settings_for(smtp_server))) == 1
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == [
        "user0@example.org", "user1@example.org"]


def test_without_smtp_url_mail_is_logged_and_marked_sent(database, caplog):
    [mid] = queue(database, to="dev@example.org", subject="Verify your address")
    with caplog.at_level(logging.INFO, logger="forecasts.mail"):
        lines = delivery.deliver(database, now=timeutil.now(), settings=settings_for(None))
    assert lines == [f"mailed notification #{mid} to dev@example.org"]
    assert "mail not sent (SMTP_URL is unset): to=dev@example.org" in caplog.text
    assert "'Verify your address'" in caplog.text and "Plain body 0" in caplog.text
    assert rows(database)[mid].state == "sent"
    assert delivery.kick(database, settings_for(None)) is None  # nothing to hurry


def test_a_bad_smtp_url_fails_the_job_before_claiming_anything(database):
    [mid] = queue(database)
    with pytest.raises(ConfigError, match="SMTP_URL"):
        delivery.deliver(database, now=timeutil.now(),
                         settings={**settings_for(None), "SMTP_URL": "http://mail:25"})
    assert (rows(database)[mid].state, rows(database)[mid].attempts) == ("pending", 0)


def test_the_url_credentials_log_in(database):
    with MailServer(users={"forecasts": "s3cr:t"}) as server:
        queue(database, 2)
        url = f"smtp://forecasts:s3cr%3At@127.0.0.1:{server.port}"
        assert len(delivery.deliver(database, now=timeutil.now(),
                                    settings=settings_for(server, SMTP_URL=url))) == 2
        assert len(server.wait_for(2)) == 2
        # A wrong password is a connection failure: nothing is lost.
        queue(database, 1)
        wrong = f"smtp://forecasts:nope@127.0.0.1:{server.port}"
        [line] = delivery.deliver(database, now=timeutil.now(),
                                  settings=settings_for(server, SMTP_URL=wrong))
        assert line.startswith("mail: server unavailable") and line.endswith("1 waiting")


def test_kick_sends_in_the_background(database, smtp_server):
    [mid] = queue(database, to="reset@example.org")
    thread = delivery.kick(database, settings_for(smtp_server))
    assert thread is not None and thread.daemon
    thread.join(10)
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["reset@example.org"]
    assert rows(database)[mid].state == "sent"


def test_only_due_mail_is_sent_oldest_first_in_bounded_batches(database, smtp_server):
    ids = queue(database, 5)
    with database.transaction() as s:
        s.execute(update(MailMessage).where(MailMessage.id == ids[0])
                  .values(next_attempt_at=later(30)))
    settings = settings_for(smtp_server)
    first = delivery.deliver(database, now=timeutil.now(), settings=settings, limit=2)
    assert first == [f"mailed notification #{i} to user{i - ids[0]}@example.org"
                     for i in ids[1:3]]
    assert len(delivery.deliver(database, now=timeutil.now(), settings=settings)) == 2
    assert rows(database)[ids[0]].state == "pending"
    assert len(delivery.deliver(database, now=later(31), settings=settings)) == 1
    assert len(smtp_server.wait_for(5)) == 5


def test_mail_status_shows_the_states_and_requeue_sends_a_stuck_mail_again(
        database, runner, smtp_server):
    from tests.test_cli import assert_fails

    stuck, refused, sent = queue(database, 3)
    smtp_server.refuse.add("user1@example.org")
    delivery.claim(database, stuck, timeutil.now())  # a worker died after claiming it
    delivery.deliver(database, now=timeutil.now(), settings=settings_for(smtp_server))
    result = runner("mail", "status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pending 0  sending 1  sent 1  failed 1"
    assert lines[1].startswith(f"sending #{stuck} notification to user0@example.org, "
                               f"claimed by {delivery.WORKER}")
    assert lines[2] == (f"failed #{refused} notification to user1@example.org: "
                        "550 5.1.1 mailbox unavailable")
    assert_fails(runner("mail", "requeue", str(sent)), "ID", f"mail #{sent} is sent")
    assert_fails(runner("mail", "requeue", "999"), "ID", "no mail #999")
    result = runner("mail", "requeue", str(stuck), str(refused))
    assert result.stdout.splitlines() == [f"requeued #{stuck} to user0@example.org",
                                          f"requeued #{refused} to user1@example.org"]
    smtp_server.refuse.clear()
    assert len(delivery.deliver(database, now=timeutil.now(),
                                settings=settings_for(smtp_server))) == 2
    assert sorted(m["To"] for m in smtp_server.wait_for(3)) == [
        "user0@example.org", "user1@example.org", "user2@example.org"]
    assert runner("mail", "status").stdout == "pending 0  sending 0  sent 3  failed 0\n"
