"""Rules are checked when a question is created or imported, and rendered in plain words."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forecasts.errors import InvalidInput
from forecasts.models import Question
from forecasts.rules import describe
from forecasts.services.bundle import import_bundle
from forecasts.services.questions import create_question, parse_question
from tests.builders import bundle, make_question, mc_data, question_data

ORDERED = dict(slug="bracket", options=["low", "mid", "high"], ordered=True)
THRESHOLD = {"type": "threshold", "series": "rate", "op": ">=", "value": 0.25, "when": "any"}


@pytest.fixture
def others(session):
    make_question(session, slug="cond-a")
    make_question(session, slug="cond-b")
    create_question(session, mc_data(slug="multi"))
    session.commit()


@pytest.mark.parametrize("data, where, fragment", [
    (question_data(rule={"type": "oracle"}), "rule.type", "unknown rule type 'oracle'"),
    (question_data(rule="deadline"), "rule", "JSON object"),
    (question_data(rule={**THRESHOLD, "extra": 1}), "rule", "unexpected field(s) extra"),
    (question_data(rule={k: v for k, v in THRESHOLD.items() if k != "series"}), "rule.series",
     "not a series name"),
    (question_data(rule={k: v for k, v in THRESHOLD.items() if k != "value"}), "rule.value",
     "not a finite number"),
    (question_data(rule={**THRESHOLD, "op": "=="}), "rule.op", "not a comparison"),
    (question_data(rule={**THRESHOLD, "when": "soon"}), "rule.when", "not one of"),
    (question_data(rule={"type": "deadline", "default": "maybe"}), "rule.default",
     "not an outcome"),
    (mc_data(rule=THRESHOLD), "rule", "threshold rule needs a binary question"),
    (mc_data(**ORDERED, rule={"type": "bins", "series": "rate", "edges": [0.1]}), "rule.edges",
     "1 edges for 3 options; need 2"),
    (mc_data(**ORDERED, rule={"type": "bins", "series": "rate", "edges": [0.3, 0.1]}),
     "rule.edges", "increase"),
    (mc_data(rule={"type": "bins", "series": "rate", "edges": [0.1, 0.2, 0.3]}), "rule",
     "ordered multiple-choice"),
    (question_data(rule={"type": "conditional", "condition": "missing", "outcome": "yes",
                         "then": {"type": "manual"}}), "rule.condition", "no question with slug"),
    (question_data(rule={"type": "conditional", "condition": "cond-a", "outcome": "yes"}),
     "rule.then", "missing the rule"),
    (question_data(rule={"type": "conditional", "condition": "cond-a", "outcome": "maybe",
                         "then": {"type": "manual"}}), "rule.outcome", "not an outcome of"),
    (question_data(rule={"type": "conditional", "condition": "cond-a", "outcome": "yes",
                         "then": {"type": "oracle"}}), "rule.then.type", "unknown rule type"),
    (question_data(rule={"type": "any_of", "questions": ["cond-a", "missing"]}),
     "rule.questions[1]", "no question with slug 'missing'"),
    (question_data(rule={"type": "all_of", "questions": []}), "rule.questions", "non-empty"),
    (question_data(rule={"type": "all_of", "questions": ["cond-a", "multi"]}),
     "rule.questions[1]", "not a binary question"),
    (question_data(rule={"type": "any_of", "questions": ["strike-2027"]}), "rule.questions[0]",
     "cannot depend on the question itself"),
])
def test_bad_rules_are_rejected_at_creation(session, others, data, where, fragment):
    with pytest.raises(InvalidInput) as caught:
        create_question(session, data)
    assert caught.value.where.endswith(where), caught.value.where
    assert fragment in caught.value.message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Question)) == 3


def test_a_cycle_in_an_import_is_rejected_and_nothing_is_written(session):
    doc = bundle(questions_=[
        question_data(slug="a-q", rule={"type": "any_of", "questions": ["b-q"]}),
        question_data(slug="b-q", rule={"type": "conditional", "condition": "c-q",
                                        "outcome": "yes", "then": {"type": "manual"}}),
        question_data(slug="c-q", rule={"type": "all_of", "questions": ["a-q"]}),
    ], forecasts=[])
    with pytest.raises(InvalidInput) as caught:
        import_bundle(session, doc)
    assert "cycle" in caught.value.message and "a-q -> b-q -> c-q -> a-q" in caught.value.message
    assert caught.value.where.startswith("questions[0] (a-q)")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Question)) == 0


def test_an_import_may_reference_questions_later_in_the_file(session):
    doc = bundle(questions_=[
        question_data(slug="both", rule={"type": "all_of", "questions": ["one", "two"]}),
        question_data(slug="one"), question_data(slug="two")], forecasts=[])
    assert import_bundle(session, doc)["questions"] == 3


def test_question_csv_import_names_the_line_of_a_bad_rule(runner, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("slug,title,open_at,close_at,rule\n"
                    "fine,Fine,2026-01-01,2027-01-01,\n"
                    'bad,Bad,2026-01-01,2027-01-01,'
                    '"{""type"": ""any_of"", ""questions"": [""nope""]}"\n')
    result = runner("question", "import", str(path))
    assert result.exit_code == 1
    assert "line 3 (bad).rule.questions[0]" in result.stderr and "nope" in result.stderr


# --- plain words --------------------------------------------------------------

def spec(**changes):
    return parse_question(question_data(**changes))


def test_threshold_any_reads_like_the_issue_example():
    q = spec(close_at="2027-06-30T00:00:00Z")
    assert describe(THRESHOLD | {"series": "us-mx-tariff-rate"}, q) == (
        "Resolves YES as soon as the series us-mx-tariff-rate reaches 0.25 or more before "
        "2027-06-30; otherwise NO.")


@pytest.mark.parametrize("rule, words", [
    ({"type": "manual"}, "Resolved by an administrator"),
    ({"type": "deadline", "default": "no"},
     "Resolves NO at close (2027-01-01) unless an administrator has resolved it earlier."),
    ({**THRESHOLD, "op": "<", "value": 70000.0}, "falls below 70000 before 2027-01-01"),
    ({**THRESHOLD, "op": ">"}, "goes above 0.25"),
    ({**THRESHOLD, "op": "<=", "when": "close"},
     "if the last value of the series rate recorded at or before close (2027-01-01) "
     "is 0.25 or less"),
    ({"type": "any_of", "questions": ["a", "b"]}, "as soon as any of a, b resolves YES"),
    ({"type": "all_of", "questions": ["a", "b"]}, "NO as soon as any resolves NO"),
    ({"type": "conditional", "condition": "strike", "outcome": "yes",
      "then": {"type": "deadline", "default": "no"}},
     "Annulled unless the question strike resolves YES. If it does: Resolves NO at close"),
])
def test_every_rule_has_words(rule, words):
    assert words in describe(rule, spec())


def test_bins_name_each_bin_and_the_edge_rule(session):
    q = create_question(session, mc_data(**ORDERED, close_at="2027-01-01T12:30:00Z",
                                         rule={"type": "bins", "series": "rate",
                                               "edges": [0.1, 0.25]}))
    text = describe(q.rule, q)
    assert "at or before close (2027-01-01 12:30 UTC)" in text
    assert "under 0.1: “low”; 0.1 to under 0.25: “mid”; 0.25 or more: “high”" in text
    assert "exactly on an edge falls in the upper bin" in text


def test_every_demo_rule_has_words():
    from forecasts.services.demo import build_bundle

    for q in build_bundle()["questions"]:
        definition = {k: v for k, v in q.items() if k != "resolution"}
        words = describe(q["rule"], parse_question(definition))
        assert words.endswith((".", ".”")) and "{" not in words, (q["slug"], words)

