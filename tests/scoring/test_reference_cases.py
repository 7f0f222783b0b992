"""The hand-checked cases of tests/reference/scoring_cases.json through the
public functions of ``scoring`` (the CLI path is tested in tests/test_scores.py).

``flat`` cases go through the per-forecast rules (and peer_instant /
murphy_decomposition where the case gives those results); ``bundles`` go
through score_questions and leaderboard. Each case is its own test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import scoring
from tests.scoring.builders import bundle_arrays, load_cases

TOL = 1e-9
CASES = load_cases()
FLAT = CASES["flat"]
BUNDLES = CASES["bundles"]


def _bundle_id(index, case):
    return case.get("id") or f"bundle{index}-{case['bundle']['questions'][0]['slug']}"


BUNDLE_IDS = [_bundle_id(i, c) for i, c in enumerate(BUNDLES)]


def assert_close(got, want, what, tol=TOL):
    """``got`` equals ``want`` within tol (absolute below 1, else relative)."""
    got, want = float(got), float(want)
    assert math.isfinite(got), (what, got, want)
    assert abs(got - want) <= tol * max(1.0, abs(want)), (what, got, want)


def assert_all_close(got, want, what):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == (len(want),), (what, got, want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, f"{what}[{i}]")


# --- flat cases -------------------------------------------------------------

def _flat_rows(case):
    """The forecasts of a per-forecast case: (probability rows, outcome indices).

    Binary cases give P(yes) (stored as [1 - p, p]); the others give
    vectors, possibly of different lengths. A scalar outcome applies to all.
    """
    if "p_yes" in case:
        rows = [np.array([1.0 - p, p]) for p in case["p_yes"]]
        outcome = case["outcome"]
    else:
        rows = [np.asarray(r, dtype=np.float64) for r in case["probs"]]
        outcome = case["outcome_index"]
    if isinstance(outcome, int):
        outcome = [outcome] * len(rows)
    assert len(outcome) == len(rows)
    return rows, np.asarray(outcome, dtype=np.int64)


def _score(rule, rows, outcome):
    """``rule`` on all rows at once, or row by row when their lengths differ."""
    if len({r.size for r in rows}) == 1:
        return rule(np.vstack(rows), outcome)
    return np.array([rule(r[None, :], [o])[0] for r, o in zip(rows, outcome)])


_RULES = {"brier": scoring.brier_score, "log": scoring.log_score, "rps": scoring.rps_score}
_MURPHY_FIELDS = {"one_sided_brier": "brier", "reliability": "reliability",
                  "resolution": "resolution", "uncertainty": "uncertainty"}
_INPUT_FIELDS = {"id", "kind", "note", "p_yes", "outcome", "probs", "outcome_index"}


@pytest.mark.parametrize("case", FLAT, ids=[c["id"] for c in FLAT])
def test_flat_case(case):
    rows, outcome = _flat_rows(case)
    results = set(case) - _INPUT_FIELDS
    assert results, f"case {case['id']} gives no expected values"
    unknown = results - set(_RULES) - {"peer"} - set(_MURPHY_FIELDS)
    assert not unknown, f"case {case['id']}: no check for {sorted(unknown)}"

    for name in results & set(_RULES):
        assert_all_close(_score(_RULES[name], rows, outcome), case[name],
                         f"{case['id']}.{name}")
    if "peer" in case:
        # Everyone stands at one instant; peer_instant takes each one's p_o.
        p_outcome = [r[o] for r, o in zip(rows, outcome)]
        assert_all_close(scoring.peer_instant(p_outcome), case["peer"], f"{case['id']}.peer")
    if results & set(_MURPHY_FIELDS):
        got = scoring.murphy_decomposition([r[1] for r in rows], outcome)
        for field in results & set(_MURPHY_FIELDS):
            assert_close(getattr(got, _MURPHY_FIELDS[field]), case[field],
                         f"{case['id']}.{field}")


# --- bundle cases -----------------------------------------------------------

def _scored(case):
    questions, forecasts, slugs, names = bundle_arrays(case["bundle"])
    return questions, forecasts, slugs, names, scoring.score_questions(questions, forecasts)


@pytest.mark.parametrize("case", BUNDLES, ids=BUNDLE_IDS)
def test_bundle_scores(case):
    questions, _, slugs, names, got = _scored(case)
    want = case["expected"]["scores"]

    rows = {(slugs[q], names[u]): i for i, (q, u) in
            enumerate(zip(got.question.tolist(), got.user.tolist()))}
    expected_pairs = {(slug, user) for slug, entry in want.items() for user in entry["users"]}
    # Exactly the expected pairs: annulled, unresolved and out-of-window
    # forecasts produce no row.
    assert set(rows) == expected_pairs
    for (slug, user), i in rows.items():
        for name, value in want[slug]["users"][user].items():
            assert_close(getattr(got, name)[i], value, f"{slug}/{user}.{name}")

    for q, slug in enumerate(slugs):
        if slug not in want:
            assert got.crowd_start[q] == -1, slug
            assert np.isnan([got.crowd_brier[q], got.crowd_log[q], got.crowd_rps[q]]).all()
            continue
        for name, value in want[slug]["crowd"].items():
            assert_close(getattr(got, "crowd_" + name)[q], value, f"{slug}/crowd.{name}")


def _leaderboard_expectations(case):
    prefix = "leaderboard_"
    return [(key[len(prefix):], rows) for key, rows in case["expected"].items()
            if key.startswith(prefix)]


@pytest.mark.parametrize("case", BUNDLES, ids=BUNDLE_IDS)
def test_bundle_leaderboard(case):
    _, _, _, names, scores = _scored(case)
    expectations = _leaderboard_expectations(case)
    assert expectations, "case has no expected leaderboard"
    values = {k: getattr(scores, k) for k in ("brier", "log", "peer", "coverage")}
    # The crowd's Brier on each row's question, for relative_brier.
    crowd_brier = scores.crowd_brier[scores.question]
    for metric, want in expectations:
        got = scoring.leaderboard(scores.user, values, metric=metric, crowd_brier=crowd_brier)
        assert [names[u] for u in got.user.tolist()] == [r["user"] for r in want], metric
        assert got.rank.tolist() == [r["rank"] for r in want], metric
        assert got.questions.tolist() == [r["questions"] for r in want], metric
        for i, row in enumerate(want):
            where = f"{metric}/{row['user']}"
            for name in ("brier", "log", "peer", "peer_total", "peer_global", "relative_brier",
                         "coverage"):
                if name in row:
                    assert_close(getattr(got, name)[i], row[name], f"{where}.{name}")
            if "interval" in row:
                low, high = row["interval"]
            else:
                low, high = row.get("interval_low"), row.get("interval_high")
            if low is not None:
                assert_close(got.interval_low[i], low, f"{where}.interval_low")
            if high is not None:
                assert_close(got.interval_high[i], high, f"{where}.interval_high")
            # Not in the file (seed-dependent), but an interval must hold the value;
            # a single question has none.
            if row["questions"] == 1:
                assert np.isnan([got.interval_low[i], got.interval_high[i]]).all(), where
                continue
            value = getattr(got, metric)[i]
            slack = 1e-12 * max(1.0, abs(value))
            assert got.interval_low[i] - slack <= value <= got.interval_high[i] + slack, where
