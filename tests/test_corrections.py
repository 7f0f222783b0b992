"""Corrections: --force keeps the audit trail, cascades to dependent rules, rescores, and a
dry run shows the leaderboard effect without writing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete

from forecasts.models import Base
from forecasts.services.corrections import board_change
from tests.builders import bundle, question_data
from tests.test_cli import assert_fails
from tests.test_resolve_due import EXPECTED, NOW, current, json_out, load, scenario


def settle_all(runner, tmp_path) -> None:
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0


def test_force_correction_cascades_and_keeps_the_audit_trail(runner, tmp_path):
    settle_all(runner, tmp_path)
    result = runner("resolve", "tariff-any", "no", "--force", "--note", "notice withdrawn")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "resolved tariff-any as no",
        "  cascade: either yes -> no (all of tariff-any, tariff-never resolved no)"]

    old, new = json_out(runner, "history", "tariff-any")
    assert (old["outcome"], old["source"], old["current"]) == ("yes", "rule", False)
    assert old["evidence"]["observation"]["value"] == 0.25
    assert (new["outcome"], new["source"], new["current"]) == ("no", "manual", True)
    assert new["note"] == "notice withdrawn" and new["actor"].startswith("cli:")
    assert old["superseded_at"] == new["made_at"]

    rule_row, cascade_row = json_out(runner, "history", "either")
    assert (rule_row["outcome"], rule_row["current"]) == ("yes", False)
    assert (cascade_row["outcome"], cascade_row["source"]) == ("no", "cascade")
    assert cascade_row["known_at"] == "2025-09-01T00:00:00Z"  # tariff-any's close, the later no
    assert cascade_row["evidence"]["questions"] == {"tariff-any": "no", "tariff-never": "no"}
    # all_of was already NO through tariff-never: unchanged, no new entry.
    assert len(json_out(runner, "history", "both")) == 1

    table = runner("history", "tariff-any").stdout.splitlines()
    assert table[0].split()[:4] == ["made_at", "actor", "source", "outcome"]
    assert len(table) == 3 and "notice withdrawn" in table[2]


def wipe(database) -> None:
    with database.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))


def test_corrected_leaderboard_equals_a_fresh_import_of_the_corrected_data(
        runner, tmp_path, database):
    settle_all(runner, tmp_path)
    assert runner("resolve", "tariff-any", "no", "--force").exit_code == 0
    assert runner("annul", "strike", "--reason", "criteria unclear", "--force").exit_code == 0
    corrected = json_out(runner, "leaderboard")
    assert [r["questions"] for r in corrected] == [6, 6]

    doc = scenario()
    outcomes = {**EXPECTED, "tariff-any": ("no", None), "either": ("no", "2025-09-01T00:00:00Z"),
                "strike": ("annulled", None)}
    for question in doc["questions"]:
        if question["slug"] in outcomes:
            outcome, known_at = outcomes[question["slug"]]
            question["resolution"] = {"outcome": outcome, "known_at": known_at}
    wipe(database)
    path = tmp_path / "corrected.json"
    path.write_text(json.dumps(doc))
    assert runner("import", str(path)).exit_code == 0
    fresh = json_out(runner, "leaderboard")
    # Equal up to the order in which means are summed (row order may differ after a reload).
    assert [(r["rank"], r["user"], r["questions"]) for r in fresh] == \
        [(r["rank"], r["user"], r["questions"]) for r in corrected]
    for got, want in zip(fresh, corrected):
        for key in ("brier", "log", "peer", "peer_total", "coverage"):
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), key
        assert got["interval"] == pytest.approx(want["interval"], rel=1e-12, abs=1e-12)


def test_dry_run_shows_leaderboard_changes_and_writes_nothing(runner, tmp_path):
    settle_all(runner, tmp_path)
    before_export = runner("export", "-").stdout
    before = {r["user"]: r for r in json_out(runner, "leaderboard")}
    dry = runner("resolve", "tariff-any", "no", "--force", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert runner("export", "-").stdout == before_export

    assert runner("resolve", "tariff-any", "no", "--force").exit_code == 0
    after = {r["user"]: r for r in json_out(runner, "leaderboard")}
    expected = ["dry run: nothing was written", "would resolve tariff-any as no",
                "  cascade: either yes -> no (all of tariff-any, tariff-never resolved no)",
                "leaderboard (brier) changes:"]
    expected += ["  " + board_change({"user": u, "before": before[u], "after": after[u]})
                 for u in ("alice", "bob")]
    assert dry.stdout.splitlines() == expected
    assert "alice: rank 2 -> 2, brier" in dry.stdout


def test_annul_dry_run_shows_users_losing_a_question(runner, tmp_path):
    settle_all(runner, tmp_path)
    before_export = runner("export", "-").stdout
    dry = runner("annul", "strike", "--reason", "void", "--force", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would annul strike" in dry.stdout
    assert "questions 7 -> 6" in dry.stdout
    assert "cascade" not in dry.stdout  # if-strike was annulled already and stays so
    assert runner("export", "-").stdout == before_export


def test_dry_run_refuses_what_the_real_command_refuses(runner, tmp_path):
    settle_all(runner, tmp_path)
    before = runner("export", "-").stdout
    assert_fails(runner("resolve", "tariff-any", "no", "--dry-run"), "already resolved", "--force")
    assert_fails(runner("resolve", "tariff-any", "maybe", "--force", "--dry-run"), "not an outcome")
    assert runner("export", "-").stdout == before


def combo_runner(runner, tmp_path):
    doc = bundle(questions_=[
        question_data(slug="x-q", open_at="2025-01-01", close_at="2026-01-01"),
        question_data(slug="y-q", open_at="2025-01-01", close_at="2026-01-01"),
        question_data(slug="any-q", open_at="2025-01-01", close_at="2026-01-01",
                      rule={"type": "any_of", "questions": ["x-q", "y-q"]}),
        question_data(slug="if-any", open_at="2025-01-01", close_at="2026-01-01",
                      rule={"type": "conditional", "condition": "any-q", "outcome": "yes",
                            "then": {"type": "deadline", "default": "no"}}),
    ], forecasts=[])
    path = tmp_path / "combo.json"
    path.write_text(json.dumps(doc))
    assert runner("import", str(path)).exit_code == 0
    return runner


def test_cascade_settles_changes_and_reopens_dependents(runner, tmp_path):
    run = combo_runner(runner, tmp_path)
    first = run("resolve", "x-q", "yes", "--known-at", "2025-03-01")
    assert first.stdout.splitlines() == [
        "resolved x-q as yes",
        "  cascade: any-q unsettled -> yes (x-q resolved yes)",
        "  cascade: if-any unsettled -> no (condition any-q met; closed at "
        "2026-01-01T00:00:00Z without an earlier resolution)"]
    assert current(run, "any-q")["known_at"] == "2025-03-01T00:00:00Z"

    second = run("resolve", "x-q", "no", "--force")
    assert second.stdout.splitlines()[1:] == [
        "  cascade: any-q reopened (waiting for y-q)",
        "  cascade: if-any reopened (waiting for the condition any-q)"]
    assert current(run, "any-q") is None and current(run, "if-any") is None
    assert [r["current"] for r in json_out(run, "history", "any-q")] == [False]
    rows = json_out(run, "question", "list")
    assert {r["slug"]: r["status"] for r in rows}["any-q"] == "closed"

    third = run("resolve", "y-q", "no")
    assert "  cascade: any-q unsettled -> no (all of x-q, y-q resolved no)" in third.stdout
    assert "  cascade: if-any unsettled -> annulled (condition any-q resolved no, not yes)" \
        in third.stdout

    run("annul", "x-q", "--reason", "void", "--force")
    assert current(run, "any-q")["outcome"] == "annulled"
    assert current(run, "if-any")["outcome"] == "annulled"
    assert [r["outcome"] for r in json_out(run, "history", "any-q")] == ["yes", "no", "annulled"]


def test_cascade_leaves_a_dependent_resolved_by_hand(runner, tmp_path):
    run = combo_runner(runner, tmp_path)
    run("resolve", "x-q", "no")
    assert run("resolve", "any-q", "yes", "--note", "admin's call").exit_code == 0
    result = run("resolve", "y-q", "no")
    assert "any-q" not in result.stdout
    assert (current(run, "any-q")["outcome"], current(run, "any-q")["source"]) == ("yes", "manual")
    # Its own dependent still follows its (manual) outcome.
    assert current(run, "if-any")["outcome"] == "no"

