"""score_numeric against the scalar reference (tests/scoring/numeric_reference.py)
on hypothesis-generated bundles, and its invariants (SPEC sections 5 and 11)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import scoring
from scoring import numeric_engine
from tests.scoring import numeric_reference as ref
from tests.scoring.compare import close
from tests.scoring.numeric_strategies import as_lists, numeric_bundles, random_numeric_bundle

EXAMPLES = settings(max_examples=100, deadline=None)


def assert_matches_reference(questions, forecasts, tol=1e-9, **options):
    got = scoring.score_numeric(questions, forecasts, **options)
    want = ref.score_numeric(*as_lists(questions, forecasts))
    keys = list(zip(got.question.tolist(), got.user.tolist()))
    assert keys == sorted(want["rows"]), "rows differ or are not sorted by (question, user)"
    for i, key in enumerate(keys):
        for name in ("crps", "log", "peer", "coverage"):
            g, w = float(getattr(got, name)[i]), want["rows"][key][name]
            assert close(g, w, tol), (key, name, g, w)
    for q in range(len(questions)):
        c = want["crowd"].get(q)
        if c is None:
            assert got.crowd_start[q] == -1
            assert np.isnan([got.crowd_crps[q], got.crowd_log[q]]).all()
            continue
        assert got.crowd_start[q] == c["start"]
        for name in ("crps", "log"):
            g = float(getattr(got, "crowd_" + name)[q])
            assert close(g, c[name], tol), (q, name, g, c[name])
    for i, (w, p) in enumerate(zip(want["weight"], want["pit"])):
        assert close(float(got.forecast_weight[i]), w), (i, got.forecast_weight[i], w)
        if p is None:
            assert math.isnan(got.forecast_pit[i])
        else:
            assert close(float(got.forecast_pit[i]), p), (i, got.forecast_pit[i], p)
    return got


@EXAMPLES
@given(numeric_bundles())
def test_score_numeric_matches_reference(bundle):
    assert_matches_reference(*bundle)


@settings(max_examples=20, deadline=None)
@given(numeric_bundles(dtype=np.float32))
def test_float32_cdfs_match_reference(bundle):
    # The reference reads the same float32 values (as float64): no loss but the input's.
    assert_matches_reference(*bundle)


@pytest.mark.parametrize("workers", [1, 2])
def test_many_parts_and_blocks_match_reference(workers, monkeypatch):
    monkeypatch.setattr(numeric_engine, "_PART_EVENTS", 60)
    monkeypatch.setattr(numeric_engine, "_BLOCK_EVENTS", 20)
    rng = np.random.default_rng(5)
    assert_matches_reference(*random_numeric_bundle(rng, 25, 400, 12), workers=workers)


def test_result_does_not_depend_on_blocks_or_threads(monkeypatch):
    bundle = random_numeric_bundle(np.random.default_rng(6), 40, 1500, 30)
    whole = scoring.score_numeric(*bundle, workers=1)
    monkeypatch.setattr(numeric_engine, "_PART_EVENTS", 100)
    monkeypatch.setattr(numeric_engine, "_BLOCK_EVENTS", 30)
    split = scoring.score_numeric(*bundle, workers=3)
    for name, a in vars(whole).items():
        np.testing.assert_allclose(getattr(split, name), a, rtol=1e-12, atol=1e-12,
                                   err_msg=name)


@EXAMPLES
@given(numeric_bundles(max_questions=3, max_forecasts=25))
def test_peer_sums_to_zero_per_question(bundle):
    got = scoring.score_numeric(*bundle)
    for q in np.unique(got.question):
        assert abs(got.peer[got.question == q].sum()) < 1e-7


def test_crowd_of_one_forecaster_is_that_forecaster():
    # One user: the crowd is their CDF, scored over the same window.
    bundle = random_numeric_bundle(np.random.default_rng(8), 10, 200, 1)
    got = scoring.score_numeric(*bundle)
    for i, q in enumerate(got.question):
        assert got.crowd_crps[q] == pytest.approx(got.crps[i], rel=1e-12, abs=1e-14)
        assert got.crowd_log[q] == pytest.approx(got.log[i], rel=1e-12, abs=1e-14)
        assert got.peer[i] == 0.0


def test_known_at_truncates_and_unscored_questions_are_absent():
    rng = np.random.default_rng(9)
    from tests.scoring.numeric_strategies import random_cdf
    cdf = np.array([random_cdf(rng, False, False) for _ in range(3)])
    # Question 0 open [0, 100), known at 50; question 1 unresolved (NaN).
    questions = scoring.NumericQuestions([0, 0], [100, 100], [50, 100], [0.3, np.nan],
                                         [0.0, 0.0], [1.0, 1.0])
    forecasts = scoring.NumericForecasts([0, 0, 1], [1, 1, 1], [10, 60, 10], cdf)
    got = scoring.score_numeric(questions, forecasts)
    assert got.question.tolist() == [0] and got.user.tolist() == [1]
    # The forecast at 60 comes after T1 = 50: only the first one counts, for 40 of 100.
    assert got.crps[0] == pytest.approx(scoring.crps(cdf[:1], [0.3], 0.0, 1.0)[0], rel=1e-12)
    assert got.coverage[0] == pytest.approx(0.4)
    assert got.forecast_weight.tolist() == [1.0, 0.0, 0.0]
    assert np.isnan(got.forecast_pit[1:]).all()
    assert np.isnan(got.crowd_crps[1]) and got.crowd_start[1] == -1


@pytest.mark.parametrize("chunk_tiles", [1, 2, 3])
def test_small_chunks_match_reference(chunk_tiles, monkeypatch):
    # Chunks of 16 to 48 rows: segments run over several chunks (the carry) and
    # chunks hold several segment heads (the restarts).
    monkeypatch.setattr(numeric_engine, "_CHUNK_TILES", chunk_tiles)
    rng = np.random.default_rng(11)
    assert_matches_reference(*random_numeric_bundle(rng, 5, 450, 14))


@pytest.mark.parametrize("chunk_tiles", [1, 3, 5, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sums_against_plain_running_sums(chunk_tiles, dtype):
    from scoring import _numeric_kernels as k
    rng = np.random.default_rng(chunk_tiles)
    lengths = rng.integers(1, 60, 9)
    m = int(lengths.sum())
    seg_start = np.cumsum(lengths) - lengths
    segment = np.repeat(np.arange(lengths.size), lengths)
    cdf = np.sort(rng.random((m + 5, k.GRID + 1)), axis=1).astype(dtype)
    forecast = rng.permutation(m + 5)[:m]
    # Each event replaces an earlier event of its segment, or nothing.
    prev = np.full(m, -1)
    for e in range(m):
        earlier = np.arange(seg_start[segment[e]], e)
        if earlier.size and rng.random() < 0.6:
            prev[e] = rng.choice(earlier)
    cells = rng.integers(0, k.GRID, m)
    position, size, head = k.chunk_layout(segment, seg_start, chunk_tiles)
    index = np.full(size, -1)
    index[position] = forecast
    replaced = np.full(size, -1)
    replaced[position[prev >= 0]] = forecast[prev[prev >= 0]]
    j = np.zeros(size, dtype=np.int64)
    j[position] = cells
    got = [s[position] for s in k.row_sums(cdf, index, j, replaced, head, chunk_tiles)]
    rows = cdf.astype(np.float64)
    for e in range(m):  # the slow definition, event by event
        if e == seg_start[segment[e]]:
            running = np.zeros(k.GRID + 1)
        running += rows[forecast[e]] - (rows[forecast[prev[e]]] if prev[e] >= 0 else 0.0)
        f = rows[forecast[e]]
        want = [f @ f, f[:-1] @ f[1:], f[cells[e] + 1:].sum(), f[cells[e]], f[cells[e] + 1],
                f[0], f[-1], running @ running, running[:-1] @ running[1:], running[0],
                running[-1]]
        np.testing.assert_allclose([g[e] for g in got], want, rtol=1e-13, atol=1e-13,
                                   err_msg=f"event {e}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cdf_check_names_the_first_bad_value_across_chunks(dtype, monkeypatch):
    from scoring import numeric
    monkeypatch.setattr(numeric, "_CHECK_ROWS", 3)
    good = np.tile(np.linspace(0.0, 1.0, 201), (11, 1)).astype(dtype)
    assert numeric.cdf_rows("cdf", good) is good
    bad = good.copy()
    bad[7, 50] = bad[7, 52]  # a decrease from 50 to 51 in the third chunk
    with pytest.raises(ValueError, match=r"^cdf\[7\]: the CDF decreases from position 50 "):
        numeric.cdf_rows("cdf", bad)
    bad[9, 3] = np.nan  # a value out of range is named first, even in a later row
    with pytest.raises(ValueError, match=r"^cdf\[\(9, 3\)\] = nan: must be finite and in \[0, 1\]"):
        numeric.cdf_rows("cdf", bad)
