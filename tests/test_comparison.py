"""Comparing forecasters (issue #13): the figures equal a fresh scalar computation over the
stored scores, the verdicts read right on constructed cases, and bad input is refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import CrowdScore, Question, QuestionScore
from forecasts.services import comparison, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import create_question
from scoring import paired_bootstrap
from tests.builders import question_data
from tests.web.conftest import add_user

BOOT = {"n_boot": 200, "seed": 7}


@pytest.fixture
def club(session):
    """12 resolved questions: `sharp` leans the right way, `dull` the wrong way, `twin`
    forecasts exactly as `sharp`, `some` only on every third question."""
    now = timeutil.now()
    names = ("sharp", "dull", "twin", "some")
    users = {n: add_user(session, n, password=None) for n in names}
    for i in range(12):
        q = create_question(session, question_data(
            slug=f"q-{i:02d}", title=f"Question {i}",
            open_at=timeutil.iso(now - timedelta(days=100)),
            close_at=timeutil.iso(now - timedelta(days=50 - i))))
        yes = i % 2 == 0
        right = 0.8 + 0.01 * (i % 5)
        for name, p in (("sharp", right), ("twin", right), ("dull", 0.35 - 0.02 * (i % 4))):
            submit_forecast(session, q, users[name], probability=p if yes else 1 - p,
                            at=now - timedelta(days=90, hours=i))
        if i % 3 == 0:
            submit_forecast(session, q, users["some"], probability=0.5,
                            at=now - timedelta(days=80))
        resolution.resolve(session, q, "yes" if yes else "no", actor="root",
                           now=now - timedelta(days=49 - i))
    session.commit()
    return users


def _scalar(session, a, b, metrics):
    """The comparison by plain loops over the stored rows (b None: the crowd)."""
    def rows(user_id):
        got = session.execute(select(QuestionScore, Question.close_at).join(
            Question, Question.id == QuestionScore.question_id)
            .where(QuestionScore.user_id == user_id)).all()
        return {s.question_id: (s, close) for s, close in got}
    mine = rows(a.id)
    if b is None:
        theirs = {c.question_id: (c, None) for c in session.scalars(select(CrowdScore))}
    else:
        theirs = rows(b.id)
    common = sorted((q for q in mine if q in theirs), key=lambda q: (mine[q][1], q),
                    reverse=True)
    out = {}
    for m in metrics:
        diffs = [getattr(mine[q][0], m) - getattr(theirs[q][0], m) for q in common]
        out[m] = (sum(diffs) / len(diffs), diffs)
    return common, out


@pytest.mark.parametrize("pair", [("sharp", "dull"), ("dull", "some"), ("sharp", None)])
def test_comparison_equals_a_scalar_computation(session, club, pair):
    a = club[pair[0]]
    b = club[pair[1]] if pair[1] else None
    metrics = comparison.CROWD_METRICS if b is None else comparison.USER_METRICS
    got = comparison.compare(session, a, b, **BOOT, count=100)
    common, want = _scalar(session, a, b, metrics)
    assert got.questions == len(common) and len(got.rows) == len(common)
    slugs = dict(session.execute(select(Question.id, Question.slug)).all())
    assert [r["question"] for r in got.rows] == [slugs[q] for q in common]
    for metric in got.metrics:
        mean, diffs = want[metric.metric]
        assert metric.difference == pytest.approx(mean, rel=1e-12, abs=1e-12)
        assert metric.mean_a - metric.mean_b == pytest.approx(mean, rel=1e-9, abs=1e-12)
        _, low, high = paired_bootstrap(diffs, n=BOOT["n_boot"], seed=BOOT["seed"])
        assert (metric.low, metric.high) == pytest.approx((low, high), rel=1e-12, abs=1e-12)
        for row, d in zip(got.rows, diffs):
            assert row["a"][metric.metric] - row["b"][metric.metric] == pytest.approx(d)
            up = metric.higher_is_better
            expect = "tie" if abs(d) < 1e-9 else ("a" if (d > 0) == up else "b")
            assert row["better"][metric.metric] == expect


def test_verdicts_on_constructed_cases(session, club):
    clear = comparison.compare(session, club["sharp"], club["dull"], **BOOT)
    assert {m.metric: m.verdict for m in clear.metrics} == {"peer": "better", "brier": "better"}
    assert clear.metrics[0].verdict_text == "better, and the interval excludes zero"
    worse = comparison.compare(session, club["dull"], club["sharp"], **BOOT)
    assert {m.verdict for m in worse.metrics} == {"worse"}
    same = comparison.compare(session, club["sharp"], club["twin"], **BOOT)
    assert {m.verdict_text for m in same.metrics} == {"cannot tell apart yet"}
    assert all(set(r["better"].values()) == {"tie"} for r in same.rows)
    crowd = comparison.compare(session, club["dull"], None, **BOOT)
    assert {m.metric for m in crowd.metrics} == {"brier", "log"}
    assert {m.verdict for m in crowd.metrics} == {"worse"}


def test_verdict_rules():
    v = comparison.verdict
    assert v(0.1, 0.3, higher_is_better=True, questions=5) == "better"
    assert v(0.1, 0.3, higher_is_better=False, questions=5) == "worse"
    assert v(-0.3, -0.1, higher_is_better=False, questions=5) == "better"
    assert v(-0.1, 0.1, higher_is_better=True, questions=5) == "undecided"
    assert v(0.0, 0.0, higher_is_better=True, questions=5) == "undecided"
    assert v(None, None, higher_is_better=True, questions=1) == "undecided"
    assert v(None, None, higher_is_better=True, questions=0) == "none"


def test_no_questions_in_common_and_the_tally(session, club):
    loner = add_user(session, "loner", password=None)
    session.commit()
    none = comparison.compare(session, club["sharp"], loner, **BOOT)
    assert none.questions == 0 and none.rows == []
    assert {m.verdict_text for m in none.metrics} == {"no questions in common"}
    tally = comparison.against_crowd(session, club["sharp"], **BOOT)
    _, want = _scalar(session, club["sharp"], None, ("brier",))
    diffs = want["brier"][1]
    assert (tally.won, tally.lost, tally.tied) == (sum(d < 0 for d in diffs),
                                                   sum(d > 0 for d in diffs),
                                                   sum(d == 0 for d in diffs))
    assert comparison.crowd_mark(0.1, 0.2) == "won" and comparison.crowd_mark(0.3, 0.2) == "lost"
    assert comparison.crowd_mark(0.2, 0.2) == "tied" and comparison.crowd_mark(0.2, None) is None


@pytest.mark.parametrize("text, message", [("", "give a username"), ("  ", "give a username"),
                                           ("nobody", "no user named 'nobody'"),
                                           ("SHARP", "that is sharp")])
def test_bad_names_are_refused(session, club, text, message):
    with pytest.raises(InvalidInput) as caught:
        comparison.resolve_other(session, club["sharp"], text)
    assert message in caught.value.message and caught.value.where == "compare"


def test_crowd_and_names_resolve(session, club):
    assert comparison.resolve_other(session, club["sharp"], "Crowd") is None
    assert comparison.resolve_other(session, club["sharp"], "dull").id == club["dull"].id
