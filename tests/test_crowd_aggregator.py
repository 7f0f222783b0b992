"""The configured crowd aggregator (issue #13): its settings, the figures it makes on every
path (rescore, scheduler, submission, chart, calibration), the rule that a change of
setting rescores the crowd, and `forecasts crowd-compare`."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st
from sqlalchemy import select

import scoring
from forecasts import config
from forecasts.errors import ConfigError
from forecasts.models import CrowdScore, Question, QuestionScore, QuestionStats, User
from forecasts.queries import score_inputs
from forecasts.services import (aggregation, bundle, calibration, crowd, leaderboard,
                                question_stats, scheduler, score_version)
from forecasts.services.forecasts import submit_forecast
from forecasts.timeutil import now as utc_now
from tests.builders import SHOW_CROWD, bundle as make_bundle, mc_data, question_data
from tests.conftest import Runner

MEDIAN = scoring.MEDIAN
RECENCY = scoring.aggregator("recency_median")
EXTREMIZED = scoring.aggregator("extremized_mean", a=1.5)
JOB = tuple(j for j in scheduler.JOBS if j.name == "crowd-aggregator")
USERS = [f"u{i}" for i in range(6)]


def scenario(seed: int = 4) -> dict:
    """Six resolved questions (four binary, two multiple choice) and one open one, each
    with forecasts of six users at spread times (some at the same moment)."""
    rng = np.random.default_rng(seed)
    qs, forecasts = [], []
    for i in range(7):
        resolved = i < 6
        close = "2025-06-01T00:00:00Z" if resolved else "2030-01-01T00:00:00Z"
        slug = f"qq-{i}"
        if i in (4, 5):
            q = mc_data(slug=slug, title=f"Q {i}", options=["a", "b", "c"], tags=["mc"],
                        open_at="2025-01-01T00:00:00Z", close_at=close)
        else:
            q = question_data(slug=slug, title=f"Q {i}", tags=["yn"],
                              open_at="2025-01-01T00:00:00Z", close_at=close, **SHOW_CROWD)
        if resolved:
            outcome = ["a", "b", "c"][i % 3] if i in (4, 5) else ("yes" if i % 2 else "no")
            q["resolution"] = {"outcome": outcome, "known_at": "2025-06-01T00:00:00Z"}
        qs.append(q)
        for _ in range(24):
            user = USERS[int(rng.integers(len(USERS)))]
            day = int(rng.integers(0, 6)) * 20 + 1  # a few shared moments: ties in time
            at = f"2025-{1 + day // 30:02d}-{1 + day % 28:02d}T00:00:00Z"
            if i in (4, 5):
                p = rng.dirichlet([1.0, 1.0, 1.0]) * 0.97 + 0.01
                forecasts.append({"question": slug, "user": user, "at": at,
                                  "probabilities": (p / p.sum()).tolist()})
            else:
                forecasts.append({"question": slug, "user": user, "at": at,
                                  "probability": float(np.round(rng.uniform(0.03, 0.97), 3))})
    return make_bundle(qs, forecasts, users=USERS)


@pytest.fixture
def loaded(database):
    with database.transaction() as s:
        bundle.import_bundle(s, scenario())
    return database


def fresh_crowd(session, agg):
    inputs = score_inputs(session)
    result = scoring.score_questions(inputs.questions, inputs.forecasts, method=agg)
    keep = ~np.isnan(result.crowd_brier)
    return {int(q): (b, lg) for q, b, lg in zip(inputs.question_id[keep],
                                                 result.crowd_brier[keep], result.crowd_log[keep])}


def stored_crowd(session):
    return {r.question_id: (r.brier, r.log, r.aggregator) for r in session.scalars(select(CrowdScore))}


def assert_same_scores(stored, expected):
    assert set(stored) == set(expected)
    for q, values in expected.items():
        assert tuple(stored[q][:2]) == pytest.approx(tuple(values), rel=1e-12)


def expected_relative_brier(session, crowd_brier):
    out: dict[str, list[float]] = {}
    for name, q, brier in session.execute(select(User.username, QuestionScore.question_id,
                                                 QuestionScore.brier).join(User)):
        out.setdefault(name, []).append(brier - crowd_brier[q])
    return {name: float(np.mean(d)) for name, d in out.items()}


# --- settings -------------------------------------------------------------------------

def test_settings_default_and_validation():
    values = config.load(environ={})
    assert values["CROWD_AGGREGATOR"] == "median" and values["CROWD_EXTREMIZE_A"] == 1.5
    assert aggregation.configured(values) == MEDIAN
    assert config.AGGREGATORS == scoring.AGGREGATORS
    chosen = config.load(environ={"CROWD_AGGREGATOR": "extremized_mean", "CROWD_EXTREMIZE_A": "2"})
    assert aggregation.configured(chosen) == scoring.aggregator("extremized_mean", a=2.0)
    for env, message in [({"CROWD_AGGREGATOR": "mean"}, "CROWD_AGGREGATOR: expected one of"),
                         ({"CROWD_EXTREMIZE_A": "0"}, "CROWD_EXTREMIZE_A: expected a number above 0"),
                         ({"CROWD_EXTREMIZE_A": "-1"}, "CROWD_EXTREMIZE_A"),
                         ({"CROWD_EXTREMIZE_A": "inf"}, "CROWD_EXTREMIZE_A"),
                         ({"CROWD_EXTREMIZE_A": "a lot"}, "CROWD_EXTREMIZE_A: expected a number")]:
        with pytest.raises(ConfigError, match=message):
            config.load(environ=env)


def test_labels():
    assert [aggregation.label(a) for a in (MEDIAN, RECENCY, EXTREMIZED)] == \
        ["median", "recency_median", "extremized_mean:1.5"]


@given(st.sampled_from(scoring.AGGREGATORS),
       st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
@hyp_settings(max_examples=60, deadline=None)
def test_the_recorded_aggregator_reads_back_exactly(name, a):
    agg = scoring.aggregator(name, a=a)
    expected = agg if name == "extremized_mean" else scoring.aggregator(name)
    assert aggregation._decoded(aggregation._code(agg)) == expected


# --- the rescore rule -----------------------------------------------------------------

def test_scheduler_rescores_the_crowd_after_a_change_and_then_does_nothing(loaded):
    database = loaded
    with database.session() as s:
        assert not aggregation.differs(s, MEDIAN)
        before_version = score_version.current(s)
        before = {r["user"]: r["relative_brier"] for r in leaderboard.leaderboard(s)}
        assert set(stored_crowd(s).values()) and {v[2] for v in stored_crowd(s).values()} == {"median"}
    settings = {"CROWD_AGGREGATOR": "extremized_mean", "CROWD_EXTREMIZE_A": 1.5}
    result = scheduler.run_once(database, jobs=JOB, settings=settings)
    assert result.failed == [] and result.lines == ["crowd rescored with extremized_mean:1.5"]
    with database.session() as s:
        assert score_version.current(s) > before_version
        expected = fresh_crowd(s, EXTREMIZED)
        stored = stored_crowd(s)
        assert set(stored) == set(expected) and len(stored) == 6
        for q, (brier, log) in expected.items():
            assert stored[q][:2] == pytest.approx((brier, log), rel=1e-12)
            assert stored[q][2] == "extremized_mean:1.5"
        assert fresh_crowd(s, MEDIAN) != expected  # the change is visible in the scores
        ids = list(s.scalars(select(Question.id)))
        fresh_stats = question_stats.compute(s, ids, aggregator=EXTREMIZED)
        rows = {r.question_id: r for r in s.scalars(select(QuestionStats))}
        for q in ids:
            assert json.loads(rows[q].crowd_json) == pytest.approx(fresh_stats[q].crowd, rel=1e-12)
        served = {r["user"]: r["relative_brier"] for r in leaderboard.leaderboard(s)}
        want = expected_relative_brier(s, {q: b for q, (b, _) in expected.items()})
        assert served == pytest.approx(want, rel=1e-9)
        assert served != pytest.approx(before, rel=1e-9)
    # Nothing changed since: the job is one statement and writes nothing.
    with database.statements() as seen:
        again = scheduler.run_once(database, jobs=JOB, settings=settings)
    assert again.lines == [] and again.failed == []
    assert len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) == 1, seen
    assert not [q for q in seen if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_stray_crowd_score_row_is_noticed(loaded):
    """A row made by another aggregator (a process with another setting) triggers it too."""
    with loaded.transaction() as s:
        aggregation.record(s, MEDIAN)
        row = s.scalars(select(CrowdScore)).first()
        row.aggregator = "recency_median"
    with loaded.session() as s:
        assert aggregation.differs(s, MEDIAN)
    assert scheduler.run_once(loaded, jobs=JOB, settings={}).lines == ["crowd rescored with median"]
    with loaded.session() as s:
        assert not aggregation.differs(s, MEDIAN)
        assert {v[2] for v in stored_crowd(s).values()} == {"median"}


def test_rescore_and_init_db_follow_the_setting(loaded, env, tmp_path):
    recency = Runner({**env, "CROWD_AGGREGATOR": "recency_median"}, tmp_path)
    result = recency("rescore")
    assert result.exit_code == 0, result.stderr
    with loaded.session() as s:
        expected = fresh_crowd(s, RECENCY)
        stored = stored_crowd(s)
        assert_same_scores(stored, expected)
        assert {v[2] for v in stored.values()} == {"recency_median"}
        assert aggregation.stored(s, RECENCY) == (RECENCY, False)
    assert "crowd rescored" not in recency("init-db").stdout  # nothing changed
    back = Runner(env, tmp_path)("init-db")
    assert back.exit_code == 0 and "crowd rescored with median" in back.stdout
    with loaded.session() as s:
        assert_same_scores(stored_crowd(s), fresh_crowd(s, MEDIAN))


# --- the submission path, the chart and calibration -------------------------------------

@pytest.mark.parametrize("agg", [MEDIAN, RECENCY, EXTREMIZED], ids=aggregation.label)
def test_each_submission_keeps_the_crowd_of_the_aggregator(loaded, agg):
    """The figures kept on each forecast (from the latest forecasts alone) equal a full
    computation, ties in time included (recency order: the later record)."""
    rng = np.random.default_rng(11)
    base = utc_now() - timedelta(hours=1)
    for step in range(14):
        with loaded.transaction() as s:
            q = s.scalars(select(Question).where(Question.slug == "qq-6")).one()
            user = s.scalars(select(User).where(User.username == USERS[step % 5])).one()
            submit_forecast(s, q, user, probability=float(rng.uniform(0.05, 0.95)),
                            at=base + timedelta(minutes=step // 3), aggregator=agg)
        with loaded.session() as s:
            q = s.scalars(select(Question).where(Question.slug == "qq-6")).one()
            kept = question_stats.stats_of(s, q)
            assert kept.crowd == pytest.approx(
                question_stats.compute(s, [q.id], aggregator=agg)[q.id].crowd, rel=1e-12)


def test_api_submission_uses_the_configured_aggregator(env, loaded):
    from forecasts import create_app
    from forecasts.services.tokens import create_token

    app = create_app({**env, "TESTING": True, "CROWD_AGGREGATOR": "extremized_mean"})
    with loaded.transaction() as s:
        user = s.scalars(select(User).where(User.username == "u1")).one()
        _, token = create_token(s, user, label="t")
    response = app.test_client().post("/api/v1/questions/qq-6/forecasts", json={"probability": 0.9},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    with loaded.session() as s:
        q = s.scalars(select(Question).where(Question.slug == "qq-6")).one()
        crowd_now = question_stats.stats_of(s, q).crowd
        assert crowd_now == pytest.approx(
            question_stats.compute(s, [q.id], aggregator=EXTREMIZED)[q.id].crowd, rel=1e-12)
        assert crowd_now != pytest.approx(question_stats.compute(s, [q.id])[q.id].crowd)
    app.extensions["forecasts_db"].dispose()


def test_chart_history_is_never_served_for_another_aggregator(app, loaded):
    from forecasts.web.question_page import page_history

    with app.app_context(), loaded.session() as s:
        q = s.scalars(select(Question).where(Question.slug == "qq-6")).one()
        stats = question_stats.stats_of(s, q)
        median = page_history(s, q, None, stats)
        assert page_history(s, q, None, stats) == median  # cached
        app.config["CROWD_AGGREGATOR"] = "extremized_mean"
        other = page_history(s, q, None, stats)  # same figures' version, other aggregator
        assert other == crowd.history(s, q, None, recent=60, aggregator=EXTREMIZED)
        assert other.points != median.points


def test_crowd_calibration_is_cached_per_aggregator(app, loaded):
    with app.app_context(), loaded.session() as s:
        median = calibration.calibration(s, calibration.CROWD)
        other = calibration.calibration(s, calibration.CROWD, aggregator=EXTREMIZED)
        assert other == calibration._calibration(s, calibration.CROWD, EXTREMIZED)
        assert other != median
        assert calibration.calibration(s, calibration.CROWD) == median


# --- crowd-compare ----------------------------------------------------------------------

def test_crowd_compare_matches_a_direct_computation(loaded, runner):
    result = runner("crowd-compare", "--format", "json", "--bootstrap", "300", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    assert "scoring the aggregators" not in result.stderr  # no progress bar off a terminal
    doc = json.loads(result.stdout)
    assert doc["reference"] == "median" and doc["bootstrap"] == 300
    rows = {r["aggregator"]: r for r in doc["aggregators"]}
    assert list(rows) == ["median", "recency_median", "extremized_mean:1.5"]
    with loaded.session() as s:
        scored = {label: fresh_crowd(s, agg) for label, agg in
                  (("median", MEDIAN), ("recency_median", RECENCY),
                   ("extremized_mean:1.5", EXTREMIZED))}
    qs = sorted(scored["median"])
    ref = np.array([scored["median"][q] for q in qs])
    for label, values in scored.items():
        mine = np.array([values[q] for q in qs])
        row = rows[label]
        assert row["questions"] == 6
        assert (row["brier"], row["log"]) == pytest.approx(tuple(mine.mean(axis=0)), rel=1e-12)
        if label == "median":
            assert row["brier_diff"] is None and row["log_high"] is None
            continue
        for i, name in enumerate(("brier", "log")):
            mean, lo, hi = scoring.paired_bootstrap(mine[:, i] - ref[:, i], 300, 7)
            assert (row[f"{name}_diff"], row[f"{name}_low"], row[f"{name}_high"]) == \
                pytest.approx((mean, lo, hi), rel=1e-9, abs=1e-12)
            assert lo <= hi
    table = runner("crowd-compare", "--tag", "mc", "--bootstrap", "50")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:4] == \
        ["aggregator", "questions", "brier", "log"]
    assert "minus median" in table.stdout and table.stdout.splitlines()[1].split()[1] == "2"


def test_crowd_compare_against_the_configured_aggregator(loaded, env, tmp_path):
    result = Runner({**env, "CROWD_AGGREGATOR": "recency_median"}, tmp_path)(
        "crowd-compare", "--format", "json", "--bootstrap", "20")
    rows = json.loads(result.stdout)["aggregators"]
    assert [r["brier_diff"] is None for r in rows] == [False, True, False]


@pytest.mark.parametrize("args, message", [
    (("--bootstrap", "0"), "--bootstrap"),
    (("--seed", "-1"), "--seed"),
    (("--format", "xml"), "--format"),
    (("--tag", "nosuch"), "--tag: no resolved question"),
])
def test_crowd_compare_refuses_bad_input(loaded, runner, args, message):
    result = runner("crowd-compare", *args)
    assert result.exit_code != 0 and message in result.stderr


def test_crowd_compare_on_an_empty_database(runner):
    result = runner("crowd-compare")
    assert result.exit_code != 0 and "no resolved question" in result.stderr
