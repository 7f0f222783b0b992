"""User administration from the CLI: list, set-role, set-password, deactivate, reactivate;
the last active admin stays; a deactivated user keeps their scores but loses every way in."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.errors import Conflict
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services import users
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_question
from tests.test_cli import assert_fails

PASSWORD = "correct horse battery"
FAST = Passwords(fast=True)


def create(runner, name: str, *extra: str, password: str | None = PASSWORD) -> None:
    args = ["user", "create", name, *extra]
    if password is not None:
        args.append("--password-stdin")
    result = runner(*args, input=None if password is None else password + "\n")
    assert result.exit_code == 0, result.stderr


def listed(runner) -> dict[str, dict]:
    result = runner("user", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {row["username"]: row for row in json.loads(result.stdout)}


def stored(database, name: str) -> User:
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == name)).one()
        session.expunge(user)
        return user


def test_list_shows_role_state_dates_and_forecast_counts(runner, database):
    create(runner, "root", "--admin")
    create(runner, "alice")
    create(runner, "imported", password=None)
    first = timeutil.now() - timedelta(days=40)
    with database.transaction() as session:
        question = make_question(session, open_at=timeutil.iso(first - timedelta(days=1)),
                                 close_at=timeutil.iso(first + timedelta(days=400)))
        alice = users.get_user(session, "alice")
        for days, p in ((0, 0.2), (10, 0.3), (20, 0.4)):
            submit_forecast(session, question, alice, probability=p,
                            at=first + timedelta(days=days))
    rows = listed(runner)
    assert list(rows) == ["alice", "imported", "root"]  # by username
    assert rows["root"]["role"] == "admin" and rows["alice"]["role"] == "forecaster"
    assert all(row["active"] is True for row in rows.values())
    assert rows["alice"]["forecasts"] == 3 and rows["root"]["forecasts"] == 0
    assert rows["alice"]["first_forecast"] == timeutil.iso(first)
    assert rows["root"]["first_forecast"] is None
    created = timeutil.parse(rows["root"]["created"], where="created")
    assert abs(created - timeutil.now()) < timedelta(minutes=5)

    table = runner("user", "list").stdout.splitlines()
    assert table[0].split() == ["username", "role", "active", "created", "first_forecast",
                                "forecasts"]
    assert table[1].split()[:3] == ["alice", "forecaster", "yes"]
    parsed = list(csv.DictReader(io.StringIO(runner("user", "list", "--format", "csv").stdout)))
    assert [r["username"] for r in parsed] == ["alice", "imported", "root"]
    assert parsed[0]["active"] == "true" and parsed[0]["forecasts"] == "3"


def test_set_role_promotes_and_demotes_but_never_the_last_active_admin(runner):
    create(runner, "root", "--admin")
    create(runner, "alice")
    assert_fails(runner("user", "set-role", "root", "forecaster"), "last active admin", "root")
    assert_fails(runner("user", "set-role", "alice", "owner"), "owner")
    assert_fails(runner("user", "set-role", "nobody", "admin"), "no user named 'nobody'")
    result = runner("user", "set-role", "ALICE", "admin")  # names are case-insensitive
    assert result.exit_code == 0 and result.stdout.strip() == "alice is now admin"
    assert runner("user", "set-role", "alice", "admin").stdout.strip() == "alice is already admin"
    assert runner("user", "set-role", "root", "forecaster").exit_code == 0
    assert {n: r["role"] for n, r in listed(runner).items()} == {"alice": "admin",
                                                                 "root": "forecaster"}
    assert_fails(runner("user", "set-role", "alice", "forecaster"), "last active admin")


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(runner):
    create(runner, "root", "--admin")
    create(runner, "second", "--admin")
    assert runner("user", "deactivate", "second").exit_code == 0
    assert_fails(runner("user", "deactivate", "root"), "last active admin")
    assert_fails(runner("user", "set-role", "root", "forecaster"), "last active admin")
    # Demoting a deactivated admin is fine: it was not administering anything.
    assert runner("user", "set-role", "second", "forecaster").exit_code == 0


def test_set_password_follows_the_registration_rules_and_ends_sessions(runner, database):
    create(runner, "alice")
    before = stored(database, "alice")
    assert_fails(runner("user", "set-password", "alice", "--password-stdin", input="short\n"),
                 "password", "at least 10")
    assert_fails(runner("user", "set-password", "alice"), "--password-stdin")
    assert stored(database, "alice").password_hash == before.password_hash
    result = runner("user", "set-password", "alice", "--password-stdin",
                    input="a new long password\n")
    assert result.exit_code == 0, result.stderr
    assert "0 API tokens revoked" in result.stdout
    after = stored(database, "alice")
    assert after.session_epoch == before.session_epoch + 1
    assert FAST.verify(after.password_hash, "a new long password")
    assert not FAST.verify(after.password_hash, PASSWORD)


def test_deactivate_and_reactivate(runner, database):
    create(runner, "root", "--admin")
    create(runner, "alice")
    epoch = stored(database, "alice").session_epoch
    result = runner("user", "deactivate", "alice")
    assert result.exit_code == 0 and result.stdout.strip() == "alice is now deactivated"
    alice = stored(database, "alice")
    assert alice.deactivated_at is not None and not alice.active
    assert alice.session_epoch == epoch + 1  # a later reactivation revives no old session
    assert listed(runner)["alice"]["active"] is False
    assert runner("user", "deactivate", "alice").stdout.strip() == "alice is already deactivated"
    assert_fails(runner("user", "deactivate", "root"), "last active admin")
    assert runner("user", "reactivate", "alice").stdout.strip() == "alice is now active"
    assert stored(database, "alice").active
    assert runner("user", "reactivate", "alice").stdout.strip() == "alice is already active"


def test_a_deactivated_user_cannot_authenticate_but_keeps_their_scores(session):
    alice = users.create_user(session, "alice", password=PASSWORD, passwords=FAST)
    users.create_user(session, "bob", password=PASSWORD, passwords=FAST)
    now = timeutil.now()
    question = make_question(session, open_at=timeutil.iso(now - timedelta(days=30)),
                             close_at=timeutil.iso(now - timedelta(days=1)))
    submit_forecast(session, question, alice, probability=0.8, at=now - timedelta(days=20))
    assert users.authenticate(session, "alice", PASSWORD, FAST) is alice
    users.deactivate(session, alice)
    assert users.authenticate(session, "alice", PASSWORD, FAST) is None
    assert users.authenticate(session, "alice", "wrong password", FAST) is None
    from forecasts.services import resolution, scores

    resolution.resolve(session, question, "yes", actor="root")
    # Deactivated before the question resolved: scored all the same.
    [row] = scores.user_scores(session, alice)
    assert row["brier"] == pytest.approx(2 * (0.8 - 1) ** 2)
    users.reactivate(session, alice)
    assert users.authenticate(session, "alice", PASSWORD, FAST) is alice


def test_after_one_admin_is_demoted_the_other_cannot_be(session):
    ann = users.create_user(session, "ann", role="admin")
    ben = users.create_user(session, "ben", role="admin")
    assert users.set_role(session, ann, "forecaster") is True
    with pytest.raises(Conflict) as error:
        users.set_role(session, ben, "forecaster")
    assert error.value.where == "user" and "last active admin" in error.value.message
    assert session.scalars(select(User.username).where(User.role == "admin")).all() == ["ben"]


@pytest.mark.parametrize("second", ["set_role", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one(database, second):
    """Each transaction alone may proceed; run together, one of them must be refused."""
    import threading

    with database.transaction() as session:
        users.create_user(session, "ann", role="admin")
        users.create_user(session, "ben", role="admin")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def remove(name: str, how: str) -> None:
        barrier.wait()
        try:
            with database.transaction() as session:
                user = users.get_user(session, name)
                if how == "set_role":
                    users.set_role(session, user, "forecaster")
                else:
                    users.deactivate(session, user)
            outcomes[name] = "done"
        except Conflict:
            outcomes[name] = "refused"

    threads = [threading.Thread(target=remove, args=("ann", "set_role")),
               threading.Thread(target=remove, args=("ben", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["done", "refused"]
    with database.session() as session:
        left = session.scalars(select(User.username).where(
            User.role == "admin", User.deactivated_at.is_(None))).all()
    assert len(left) == 1


def test_member_since_is_the_earlier_of_creation_and_first_forecast(session):
    alice = users.create_user(session, "alice")
    assert users.member_since(alice, None) == alice.created_at
    earlier = alice.created_at - timedelta(days=100)
    assert users.member_since(alice, earlier) == earlier
    later = alice.created_at + timedelta(days=1)
    assert users.member_since(alice, later) == alice.created_at
    [member] = users.directory(session)
    assert member.forecasts == 0 and member.first_forecast is None
    assert member.since == alice.created_at
