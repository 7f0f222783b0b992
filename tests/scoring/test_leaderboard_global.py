"""Global peer, relative Brier and the no-interval rule for one question (SPEC section 6),
against the plain-Python leaderboard and bootstrap of tests/scoring/reference_impl.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring
from scoring.leaderboard import replicate_weights
from tests.scoring import reference_impl as ref
from tests.scoring.compare import close

SETTINGS = settings(max_examples=120, deadline=None)
ALL_METRICS = ("peer_global", "brier", "log", "peer", "peer_total")
COLUMNS = ("brier", "log", "peer", "peer_total", "peer_global", "relative_brier", "coverage")
N_BOOT = 40


@st.composite
def boards(draw):
    """Rows of 1..5 users with 1..8 questions each, interleaved in a random order. Values
    come from small grids so that equal means (ties) are common."""
    n_users = draw(st.integers(1, 5))
    user, rows = [], []
    for u in range(n_users):
        n = draw(st.integers(1, 8))
        user += [3 * u + 1] * n
        rows += [(draw(st.sampled_from([0.0, 0.18, 0.5, 1.62])),
                  draw(st.sampled_from([0.1, 0.7, 2.3])),
                  draw(st.sampled_from([-40.0, -5.5, 0.0, 12.5, 60.0])),
                  draw(st.sampled_from([0.25, 0.5, 1.0])),
                  draw(st.sampled_from([0.0, 0.257, 0.5]))) for _ in range(n)]
    order = draw(st.permutations(range(len(user))))
    user = [user[i] for i in order]
    rows = [rows[i] for i in order]
    values = {k: [r[j] for r in rows] for j, k in enumerate(("brier", "log", "peer", "coverage"))}
    return user, values, [r[4] for r in rows]


def _weights(user, u):
    """The reference bootstrap's weights: row i of the fixed matrix for the user's i-th row."""
    n = user.count(u)
    w = replicate_weights(7, n, 0, N_BOOT)
    return w.tolist()


@SETTINGS
@given(data=boards(), metric=st.sampled_from(ALL_METRICS), min_questions=st.integers(1, 3),
       prior=st.sampled_from([0.5, 1.0, 3.0, 30.0]))
def test_board_matches_the_reference(data, metric, min_questions, prior):
    user, values, crowd = data
    got = scoring.leaderboard(np.array(user), values, metric=metric,
                              min_questions=min_questions, n_boot=N_BOOT, seed=7,
                              peer_prior=prior, crowd_brier=crowd)
    want = ref.leaderboard(user, values, metric, min_questions, peer_prior=prior,
                           crowd_brier=crowd)
    assert got.user.tolist() == [r["user"] for r in want]
    assert got.rank.tolist() == [r["rank"] for r in want]
    assert got.questions.tolist() == [r["questions"] for r in want]
    for name in COLUMNS:
        assert all(close(float(a), r[name]) for a, r in zip(getattr(got, name), want)), name
    for i, row in enumerate(want):
        u = row["user"]
        mine = [r for r, who in enumerate(user) if who == u]
        x = [values["peer" if metric.startswith("peer") else metric][r] for r in mine]
        cover = [values["coverage"][r] for r in mine] if metric == "peer_global" else None
        interval = ref.bootstrap_interval(x, _weights(user, u), 0.9, cover, prior)
        if interval is None:
            assert math.isnan(got.interval_low[i]) and math.isnan(got.interval_high[i])
            continue
        scale = row["questions"] if metric == "peer_total" else 1
        assert close(float(got.interval_low[i]), interval[0] * scale, 1e-9), (u, "low")
        assert close(float(got.interval_high[i]), interval[1] * scale, 1e-9), (u, "high")


def test_the_prior_keeps_a_few_lucky_questions_from_the_top():
    # lucky: 2 questions at +50 peer; steady: 40 questions at +5, all fully covered.
    user = [0, 0] + [1] * 40
    values = {"brier": [0.1] * 42, "log": [0.2] * 42, "peer": [50.0, 50.0] + [5.0] * 40,
              "coverage": [1.0] * 42}
    by_mean = scoring.leaderboard(user, values, metric="peer", n_boot=20)
    assert by_mean.user.tolist() == [0, 1]
    default = scoring.leaderboard(user, values, metric="peer_global", n_boot=20)
    assert default.user.tolist() == [1, 0]
    # 200 / max(30, 40) = 5 and 100 / max(30, 2) = 100 / 30.
    assert default.peer_global.tolist() == pytest.approx([5.0, 100.0 / 30.0], rel=1e-15)
    weak = scoring.leaderboard(user, values, metric="peer_global", peer_prior=1.0, n_boot=20)
    assert weak.user.tolist() == [0, 1]
    assert weak.peer_global.tolist() == pytest.approx([50.0, 5.0], rel=1e-15)


def test_partial_coverage_counts_toward_the_prior():
    # 60 questions each half covered: the divisor is max(30, 30) = 30, not 60.
    got = scoring.leaderboard([0] * 60, {"brier": [0.0] * 60, "log": [0.0] * 60,
                                         "peer": [1.0] * 60, "coverage": [0.5] * 60},
                              metric="peer_global", n_boot=20)
    assert got.peer_global[0] == pytest.approx(2.0, rel=1e-15)


def test_sums_in_another_order_still_tie():
    # (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1 in floating point; the two users still share a
    # rank, listed by user id.
    user = [5, 5, 5, 2, 2, 2, 9]
    peer = [0.1, 0.2, 0.3, 0.3, 0.2, 0.1, -1.0]
    values = {"brier": [0.1] * 7, "log": [0.1] * 7, "peer": peer, "coverage": [1.0] * 7}
    got = scoring.leaderboard(user, values, metric="peer_global", n_boot=20)
    assert got.peer_global[0] != got.peer_global[1]
    assert got.user.tolist() == [2, 5, 9] and got.rank.tolist() == [1, 1, 3]


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_one_question_has_no_interval(metric):
    user = [0, 1, 1, 1]
    values = {"brier": [0.2, 0.1, 0.4, 0.3], "log": [0.3, 0.2, 0.9, 0.5],
              "peer": [10.0, -3.0, 4.0, 8.0], "coverage": [1.0, 0.5, 0.9, 1.0]}
    got = scoring.leaderboard(user, values, metric=metric, n_boot=200)
    one = got.user.tolist().index(0)
    assert np.isnan([got.interval_low[one], got.interval_high[one]]).all()
    three = 1 - one
    assert got.interval_low[three] < got.interval_high[three]  # a real interval


def test_relative_brier_is_the_mean_difference_from_the_crowd():
    values = {"brier": [0.14, 0.98, 0.08, 0.5], "log": [0.0] * 4, "peer": [0.0] * 4,
              "coverage": [1.0] * 4}
    crowd = [0.257, 0.257, 0.257, 0.1]
    got = scoring.leaderboard([0, 1, 2, 0], values, metric="brier", n_boot=20,
                              crowd_brier=crowd)
    by_user = dict(zip(got.user.tolist(), got.relative_brier.tolist()))
    assert by_user == pytest.approx({0: ((0.14 - 0.257) + (0.5 - 0.1)) / 2,
                                     1: 0.98 - 0.257, 2: 0.08 - 0.257}, rel=1e-12)
    # Unknown crowd (NaN) on a question leaves that user's value unknown, not wrong.
    partial = scoring.leaderboard([0, 1, 2, 0], values, metric="brier", n_boot=20,
                                  crowd_brier=[np.nan, 0.257, 0.257, 0.1])
    assert np.isnan(dict(zip(partial.user.tolist(), partial.relative_brier))[0])
    assert np.isnan(scoring.leaderboard([0], {k: [0.1] for k in values}, metric="brier",
                                        n_boot=20).relative_brier).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"peer_prior": 0}, r"peer_prior: must be a finite number > 0"),
    ({"peer_prior": -1.0}, r"peer_prior: must be"),
    ({"peer_prior": float("inf")}, r"peer_prior: must be"),
    ({"peer_prior": "thirty"}, r"peer_prior: expected a number"),
    ({"peer_prior": True}, r"peer_prior: expected a number"),
    ({"crowd_brier": [0.1, 0.2]}, r"crowd_brier: length 2 does not match user \(1\)"),
    ({"crowd_brier": [np.inf]}, r"crowd_brier\[0\] = inf"),
    ({"crowd_brier": ["x"]}, r"crowd_brier: expected numbers"),
    ({"metric": "relative_brier"}, r"metric: must be one of"),
])
def test_bad_arguments_are_named(kwargs, message):
    kwargs = {"metric": "peer_global", **kwargs}
    with pytest.raises(ValueError, match=message):
        scoring.leaderboard([0], {k: [0.1] for k in ("brier", "log", "peer", "coverage")},
                            **kwargs)
