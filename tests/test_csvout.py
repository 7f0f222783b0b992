"""Every CSV the project writes goes through forecasts.csvout: formula-like text is
neutralised with a leading apostrophe, numbers (negative ones too) stay numbers."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from forecasts import csvout, timeutil
from forecasts.services import resolution
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_question, make_user

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)",
            "\t=1", "\r=1"]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_like_text_is_neutralised(value):
    [header, row] = rows_of(csvout.write([{"a": value, "b": 1}], ["a", "b"]))
    assert header == ["a", "b"] and row == ["'" + value, "1"]


@pytest.mark.parametrize("value, written", [
    (-0.5, "-0.5"), (-3, "-3"), (0.25, "0.25"), (None, ""), ("plain", "plain"),
    ("a=b", "a=b"), ("", ""), (True, "True"), ([0.2, 0.8], "[0.2, 0.8]"),
])
def test_numbers_and_harmless_text_are_kept(value, written):
    [_, row] = rows_of(csvout.write([{"a": value}], ["a"]))
    assert row == [written]


def test_every_cell_of_a_row_is_checked_and_unlisted_keys_are_ignored():
    text = csvout.write([{"x": "=1", "y": "@2", "z": "=3"}], ["x", "y"])
    assert rows_of(text) == [["x", "y"], ["'=1", "'@2"]]


def test_observe_list_csv_neutralises_a_formula_source(runner):
    for day, source in enumerate(FORMULAS, start=1):
        assert runner("observe", "rate", "-12.5", "--at", f"2025-01-0{day}", "--source",
                      source, "--new-series").exit_code == 0
    lines = rows_of(runner("observe", "list", "rate", "--format", "csv").stdout)
    assert [line[2] for line in lines[1:]] == ["'" + s for s in FORMULAS]
    assert {line[1] for line in lines[1:]} == {"-12.5"}  # a negative number stays a number


EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def scored(session):
    """A resolved question forecast by two users, one of them renamed to a formula behind
    the validation's back (an old bundle, a hand-edited database): defence in depth."""
    now = timeutil.now()
    question = make_question(session, slug="csv-case", open_at=timeutil.iso(now - timedelta(40)),
                             close_at=timeutil.iso(now - timedelta(2)))
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    alice.username = EVIL
    session.flush()
    submit_forecast(session, question, alice, probability=0.9, at=now - timedelta(30))
    submit_forecast(session, question, bob, probability=0.2, at=now - timedelta(30))
    resolution.resolve(session, question, "yes", actor="root", now=now - timedelta(1))
    session.commit()
    return question.slug


def _user_cells(text: str, column: str) -> tuple[list[str], list[list[str]]]:
    header, *body = rows_of(text)
    return [row[header.index(column)] for row in body], [header, *body]


def _assert_negative_number_kept(table: list[list[str]], column: str) -> None:
    header, *body = table
    cells = [row[header.index(column)] for row in body if row[header.index(column)]]
    assert any(c.startswith("-") for c in cells), cells  # bob's peer score is negative
    assert not any(c.startswith("'") for c in cells)
    [float(c) for c in cells]


def test_scores_csv_neutralises_a_formula_username(runner, scored):
    result = runner("scores", scored, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    users, table = _user_cells(result.stdout, "user")
    assert "'" + EVIL in users and EVIL not in users
    _assert_negative_number_kept(table, "peer")


def test_leaderboard_csv_cli_neutralises_a_formula_username(runner, scored):
    result = runner("leaderboard", "--format", "csv", "--metric", "peer")
    assert result.exit_code == 0, result.stderr
    users, table = _user_cells(result.stdout, "user")
    assert "'" + EVIL in users and EVIL not in users
    _assert_negative_number_kept(table, "peer")


def test_leaderboard_csv_web_neutralises_a_formula_username(client, scored):
    response = client.get("/leaderboard.csv?metric=peer")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    users, table = _user_cells(response.get_data(as_text=True), "user")
    assert "'" + EVIL in users and EVIL not in users
    _assert_negative_number_kept(table, "peer")


def test_user_list_csv_neutralises_a_formula_username(runner, scored):
    result = runner("user", "list", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    users, _ = _user_cells(result.stdout, "username")
    assert sorted(users) == sorted(["'" + EVIL, "bob"])
