"""`forecasts resolve-due` end to end: rules settle questions with evidence and scores,
in dependency order, once, and a dry run writes nothing."""
from __future__ import annotations

import copy
import json
import math
import threading

import pytest
from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.db import Database
from forecasts.models import QuestionScore, Resolution
from forecasts.services import resolve_due
from tests.builders import bundle, mc_data, question_data
from tests.test_cli import assert_fails

OPEN = "2025-01-01T00:00:00Z"
NOW = "2025-10-01T00:00:00Z"


def q(slug: str, rule: dict, close: str, **extra) -> dict:
    return question_data(slug=slug, title=slug, open_at=OPEN, close_at=close, rule=rule, **extra)


def threshold(op: str, value: float, when: str, series: str = "rate") -> dict:
    return {"type": "threshold", "series": series, "op": op, "value": value, "when": when}


QUESTIONS = [
    q("tariff-any", threshold(">=", 0.25, "any"), "2025-09-01T00:00:00Z"),
    q("tariff-never", threshold(">", 0.5, "any"), "2025-06-01T00:00:00Z"),
    q("seizures-close", threshold(">=", 200, "close", "seizures"), "2025-07-15T00:00:00Z"),
    mc_data(slug="bracket", title="bracket", options=["low", "mid", "high"], ordered=True,
            open_at=OPEN, close_at="2025-06-30T00:00:00Z",
            rule={"type": "bins", "series": "rate", "edges": [0.1, 0.25]}),
    q("strike", {"type": "deadline", "default": "no"}, "2025-08-01T00:00:00Z"),
    q("if-strike", {"type": "conditional", "condition": "strike", "outcome": "yes",
                    "then": {"type": "deadline", "default": "no"}}, "2025-08-01T00:00:00Z"),
    q("either", {"type": "any_of", "questions": ["tariff-any", "tariff-never"]},
      "2025-12-01T00:00:00Z"),
    q("both", {"type": "all_of", "questions": ["tariff-any", "tariff-never"]},
      "2025-12-01T00:00:00Z"),
    q("by-hand", {"type": "manual"}, "2025-05-01T00:00:00Z"),
    q("later", {"type": "deadline", "default": "no"}, "2026-06-01T00:00:00Z"),
]
# slug -> (outcome, known_at) that resolve-due --now NOW must give.
EXPECTED = {
    "tariff-any": ("yes", "2025-03-04T05:00:00Z"),
    "tariff-never": ("no", "2025-06-01T00:00:00Z"),
    "seizures-close": ("no", "2025-07-15T00:00:00Z"),
    "bracket": ("mid", "2025-06-30T00:00:00Z"),
    "strike": ("no", "2025-08-01T00:00:00Z"),
    "if-strike": ("annulled", None),
    "either": ("yes", "2025-03-04T05:00:00Z"),
    "both": ("no", "2025-06-01T00:00:00Z"),
}
P = {"alice": 0.8, "bob": 0.3}
P_BRACKET = {"alice": [0.2, 0.6, 0.2], "bob": [0.6, 0.3, 0.1]}
OBSERVATIONS_CSV = ("series,at,value,source\n"
                    "rate,2024-12-01T00:00:00Z,0,schedule\n"
                    "rate,2025-06-30T00:00:00Z,0.1,schedule\n"  # exactly at bracket's close
                    "seizures,2025-07-10T00:00:00Z,190,cabinet\n"
                    "seizures,2025-07-20T00:00:00Z,250,cabinet\n")  # after seizures-close closed


def scenario() -> dict:
    """The bundle: every rule type, and alice and bob each forecasting once at opening."""
    forecasts = []
    for question in QUESTIONS:
        for user in P:
            entry = {"question": question["slug"], "user": user, "at": OPEN}
            if question["slug"] == "bracket":
                entry["probabilities"] = P_BRACKET[user]
            else:
                entry["probability"] = P[user]
            forecasts.append(entry)
    # After tariff-any became known: kept, never scored.
    forecasts.append({"question": "tariff-any", "user": "alice", "at": "2025-04-01T00:00:00Z",
                      "probability": 0.01})
    return bundle(questions_=copy.deepcopy(QUESTIONS), forecasts=forecasts, users=list(P))


def expected_brier(user: str) -> float:
    """Hand-computed mean Brier over the seven scored questions (if-strike is annulled)."""
    total = 0.0
    for slug, (outcome, _) in EXPECTED.items():
        if slug == "bracket":
            total += sum((p - (k == 1)) ** 2 for k, p in enumerate(P_BRACKET[user]))
        elif outcome != "annulled":
            total += 2 * (P[user] - (outcome == "yes")) ** 2
    return total / 7


def load(runner, tmp_path, doc=None) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc or scenario()))
    assert runner("import", str(path)).exit_code == 0
    csv_path = tmp_path / "obs.csv"
    csv_path.write_text(OBSERVATIONS_CSV)
    assert runner("observe", "import", str(csv_path)).exit_code == 0
    recorded = runner("observe", "rate", "0.25", "--at", "2025-03-04T05:00:00Z")
    assert recorded.exit_code == 0, recorded.stderr


def json_out(runner, *args):
    result = runner(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def current(runner, slug: str) -> dict | None:
    rows = [r for r in json_out(runner, "history", slug) if r["current"]]
    return rows[0] if rows else None


def test_resolve_due_settles_exactly_the_expected_questions(runner, tmp_path):
    load(runner, tmp_path)
    assert json_out(runner, "leaderboard") == []
    result = runner("resolve-due", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    assert {line.split()[1] for line in lines} == set(EXPECTED)
    assert all(line.startswith("settled ") for line in lines)
    # Dependency order: what a rule reads settles before the rule.
    order = [line.split()[1] for line in lines]
    assert order.index("strike") < order.index("if-strike")
    assert order.index("tariff-never") < order.index("both")
    for slug, (outcome, known_at) in EXPECTED.items():
        row = current(runner, slug)
        assert (row["outcome"], row["known_at"]) == (outcome, known_at), slug
        assert row["source"] == "rule" and row["evidence"]["as_of"] == NOW
    assert current(runner, "by-hand") is None and current(runner, "later") is None
    assert current(runner, "bracket")["evidence"]["observation"]["at"] == "2025-06-30T00:00:00Z"
    assert current(runner, "either")["evidence"]["questions"] == {"tariff-any": "yes",
                                                                   "tariff-never": "no"}

    board = json_out(runner, "leaderboard")
    ranked = [(r["rank"], r["user"], r["questions"]) for r in board]
    assert ranked == [(1, "bob", 7), (2, "alice", 7)]
    for row in board:
        assert math.isclose(row["brier"], expected_brier(row["user"]), rel_tol=1e-9)
    assert json_out(runner, "scores", "tariff-any")["users"]["alice"]["brier"] == \
        pytest.approx(2 * 0.2 ** 2)

    again = runner("resolve-due", "--now", NOW)
    assert again.exit_code == 0 and again.stdout == ""
    assert json_out(runner, "leaderboard") == board
    assert all(len(json_out(runner, "history", slug)) == 1 for slug in EXPECTED)


def test_a_rule_decides_as_of_now(runner, tmp_path):
    load(runner, tmp_path)
    early = runner("resolve-due", "--now", "2025-04-01")
    assert [line.split()[1] for line in early.stdout.splitlines()] == ["tariff-any", "either"]
    assert current(runner, "either")["known_at"] == "2025-03-04T05:00:00Z"
    rest = runner("resolve-due", "--now", NOW)
    assert {line.split()[1] for line in rest.stdout.splitlines()} == set(EXPECTED) - {
        "tariff-any", "either"}
    assert current(runner, "both")["outcome"] == "no"


def test_dry_run_prints_the_plan_and_writes_nothing(runner, tmp_path):
    load(runner, tmp_path)
    before = runner("export", "-").stdout
    dry = runner("resolve-due", "--now", NOW, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert runner("export", "-").stdout == before
    real = runner("resolve-due", "--now", NOW)
    assert dry.stdout.replace("would settle ", "settled ") == real.stdout


def test_dry_run_lists_closed_questions_that_wait(runner, tmp_path):
    load(runner, tmp_path)
    lines = runner("resolve-due", "--now", "2026-07-01", "--dry-run").stdout.splitlines()
    assert "would settle later as no, known 2026-06-01T00:00:00Z: closed at " \
           "2026-06-01T00:00:00Z without an earlier resolution" in lines
    assert not any("by-hand" in line for line in lines)  # manual questions never wait on a rule


def test_waiting_for_an_observation_is_reported(runner, tmp_path):
    doc = bundle(questions_=[q("no-data", threshold(">=", 1, "close", "missing"),
                               "2025-02-01T00:00:00Z")], forecasts=[])
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    assert runner("import", str(path)).exit_code == 0
    assert runner("resolve-due", "--now", NOW).stdout == ""
    assert runner("resolve-due", "--now", NOW, "--dry-run").stdout.strip() == \
        "waiting no-data: no observation of missing at or before close"


def test_resolve_due_refuses_a_future_now_unless_dry_run(runner, tmp_path):
    load(runner, tmp_path)
    assert_fails(runner("resolve-due", "--now", "2999-01-01"), "--now", "future", "--dry-run")
    assert_fails(runner("resolve-due", "--now", "tomorrow"), "--now", "ISO 8601")
    assert runner("resolve-due", "--now", "2999-01-01", "--dry-run").exit_code == 0
    assert current(runner, "later") is None


def test_resolve_due_defaults_to_the_current_time(runner, tmp_path):
    load(runner, tmp_path)
    result = runner("resolve-due")
    assert result.exit_code == 0, result.stderr
    # The scenario lies in the past: everything due by NOW is due now; `later` from mid-2026.
    settled = {line.split()[1] for line in result.stdout.splitlines()}
    assert set(EXPECTED) <= settled
    assert ("later" in settled) == (timeutil.now() >= timeutil.parse("2026-06-01", where="t"))


def test_concurrent_runs_settle_each_question_once(db_url, database, runner, tmp_path):
    load(runner, tmp_path)
    now = timeutil.parse(NOW, where="now")
    settled: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            with db.transaction() as session:
                plan = resolve_due.resolve_due(session, now=now, actor="test",
                                               recorded_at=timeutil.now())
            settled.append(len(plan.settle))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(settled) == [0, 0, 0, len(EXPECTED)]
    with database.session() as s:
        per_question = s.execute(select(Resolution.question_id, func.count())
                                 .group_by(Resolution.question_id)).all()
        assert len(per_question) == len(EXPECTED) and {n for _, n in per_question} == {1}
        assert s.scalar(select(func.count()).select_from(QuestionScore)) == 2 * 7
