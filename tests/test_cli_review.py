"""`forecasts question review | approve | reject`: the CLI side of the proposal queue."""
from __future__ import annotations

import json

from forecasts import timeutil
from forecasts.models import DRAFT, PUBLISHED, REJECTED
from forecasts.services import proposals, questions
from forecasts.services.users import create_user
from tests.test_cli import assert_fails

NOW = timeutil.parse("2026-06-01T00:00:00Z", where="now")


def draft(database, title: str, user: str = "alice") -> str:
    with database.transaction() as s:
        proposer = create_user(s, user)
        return proposals.propose(s, {"title": title, "open_at": "2026-06-01T00:00:00Z",
                                     "close_at": "2099-01-01T00:00:00Z"}, proposer, now=NOW).slug


def state(database, slug: str) -> tuple[str, str | None]:
    with database.session() as s:
        q = questions.find_question(s, slug)
        return q.review_state, q.review_note


def test_review_lists_drafts(runner, database):
    assert runner("question", "review", "--format", "json").stdout.strip() == "[]"
    first = draft(database, "Will the first thing happen?")
    draft(database, "Will the second thing happen?", user="bob")
    rows = json.loads(runner("question", "review", "--format", "json").stdout)
    assert [(r["slug"], r["proposed_by"]) for r in rows] == [
        (first, "alice"), ("will-the-second-thing-happen", "bob")]
    table = runner("question", "review").stdout.splitlines()
    assert table[0].split() == ["slug", "proposed_by", "proposed_at", "close_at", "title"]
    assert len(table) == 3


def test_approve_and_reject(runner, database):
    one, two = draft(database, "Will one happen?"), draft(database, "Will two happen?", "bob")
    result = runner("question", "approve", one)
    assert result.exit_code == 0 and result.stdout.strip() == f"published {one}"
    assert state(database, one) == (PUBLISHED, None)
    assert_fails(runner("question", "approve", one), "no proposal waiting", one)
    assert_fails(runner("question", "reject", two, "--reason", "  "), "reason")
    assert state(database, two) == (DRAFT, None)
    assert runner("question", "reject", two, "--reason", "Duplicate.").exit_code == 0
    assert state(database, two) == (REJECTED, "Duplicate.")
    assert_fails(runner("question", "approve", "no-such-question"), "no proposal waiting")
    assert runner("question", "reject", two).exit_code != 0  # --reason is required
