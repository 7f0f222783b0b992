"""CDF forecasts of numeric and date questions (SPEC §11): the exact validation rules,
the quantile converter, snapping to the 2**-24 grid, and the exact stored forms."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings as hyp_settings, strategies as st

from forecasts import cdf
from forecasts.errors import InvalidInput


def reference_valid(values, open_lower, open_upper) -> bool:
    """§11 read literally, one value at a time."""
    if len(values) != 201 or not all(isinstance(v, float) and math.isfinite(v) for v in values):
        return False
    if open_lower:
        if not 0.001 <= values[0] <= 0.999:
            return False
    elif values[0] != 0:
        return False
    for k in range(200):
        if not values[k + 1] - values[k] >= 5e-5:
            return False
    if open_upper:
        return values[200] <= 0.999 and values[200] >= values[0]
    return values[200] == 1


def uniform(f0=0.0, f200=1.0) -> np.ndarray:
    f = f0 + np.arange(201) * (f200 - f0) / 200
    f[-1] = f200
    return f


def rejects(values, where, match, *, open_lower=False, open_upper=False):
    with pytest.raises(InvalidInput, match=match) as info:
        cdf.validate_cdf(values, open_lower=open_lower, open_upper=open_upper)
    assert info.value.where == where
    return info.value


# -- validate_cdf ---------------------------------------------------------------------------

def test_valid_cdfs_are_returned_as_float64():
    for lower, upper, f in ((False, False, uniform()), (True, False, uniform(0.3)),
                            (False, True, uniform(0.0, 0.9)), (True, True, uniform(0.001, 0.999))):
        got = cdf.validate_cdf(list(f), open_lower=lower, open_upper=upper)
        assert got.dtype == np.float64 and np.array_equal(got, f)


def test_integer_arrays_are_read_as_numbers():
    ints = np.array([0] + [1] * 200)
    rejects(ints, "cdf[2]", "bucket F_2 − F_1")
    rejects(list(ints.tolist()), "cdf[2]", "bucket F_2 − F_1")


def test_length_is_named():
    rejects(list(uniform())[:200], "cdf", "201 values")
    rejects([], "cdf", "201 values")
    rejects("0" * 201, "cdf", "list")


def test_non_numbers_and_non_finite_values_name_their_index():
    f = list(uniform())
    for bad in ("0.5", None, True, float("nan"), float("inf")):
        g = list(f)
        g[37] = bad
        rejects(g, "cdf[37]", "not a finite number")
    g = uniform()
    g[12] = np.nan
    rejects(g, "cdf[12]", "not a finite number")


def test_lower_bound_rules():
    rejects(uniform(0.0005), "cdf[0]", r"must be 0 \(the lower bound is closed")
    for f0 in (0.0, 0.0009, 0.9995):
        f = uniform(f0, 1.0)
        rejects(f, "cdf[0]", r"between 0.001 and 0.999 \(the lower bound is open", open_lower=True)
    # The limits themselves are accepted.
    cdf.validate_cdf(uniform(0.001), open_lower=True, open_upper=False)


def test_values_outside_zero_one_name_their_index():
    f = uniform()
    f[150] = 1.5
    rejects(f, "cdf[150]", "not a probability")


def test_a_decrease_names_the_index_that_went_down():
    f = uniform()
    f[90] = f[88]
    rejects(f, "cdf[90]", "below F_89")


def test_a_small_bucket_names_its_upper_index():
    f = uniform()
    f[121] = f[120] + 4.9e-5
    rejects(f, "cdf[121]", "bucket F_121 − F_120")
    f = uniform()
    f[1] = 0.0  # a flat first bucket
    rejects(f, "cdf[1]", "bucket F_1 − F_0")
    # Exactly the minimum is allowed.
    f = uniform()
    f[1] = 5e-5
    assert f[1] - f[0] == 5e-5
    cdf.validate_cdf(f, open_lower=False, open_upper=False)


def test_upper_bound_rules():
    rejects(uniform(0.0, 0.9999), "cdf[200]", r"must be 1 \(the upper bound is closed")
    rejects(uniform(0.0, 0.9991), "cdf[200]", r"at most 0.999 \(the upper bound is open",
            open_upper=True)
    rejects(uniform(0.0, 1.0), "cdf[200]", "at most 0.999", open_upper=True)
    cdf.validate_cdf(uniform(0.0, 0.999), open_lower=False, open_upper=True)


@st.composite
def near_valid(draw):
    """CDFs close to the limits, valid or just not."""
    lower, upper = draw(st.booleans()), draw(st.booleans())
    f0 = draw(st.sampled_from([0.001, 0.0009999, 0.5, 0.999])) if lower else 0.0
    f200 = draw(st.sampled_from([0.999, 0.9990001, 0.95])) if upper else 1.0
    weights = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 3.0, 1e-9]),
                                     min_size=200, max_size=200)))
    spare = f200 - f0 - 200 * 5e-5
    d = 5e-5 + (weights * spare / weights.sum() if weights.sum() > 0 else np.zeros(200))
    f = np.concatenate([[f0], f0 + np.cumsum(d)])
    f[-1] = f200
    if draw(st.booleans()):
        k = draw(st.integers(0, 200))
        f[k] += draw(st.sampled_from([-1e-4, -1e-12, 1e-12, 1e-4]))
    return [float(v) for v in f], lower, upper


@hyp_settings(max_examples=300, deadline=None)
@given(near_valid())
def test_validate_agrees_with_a_literal_reading_of_the_rules(case):
    values, lower, upper = case
    expected = reference_valid(values, lower, upper)
    try:
        cdf.validate_cdf(values, open_lower=lower, open_upper=upper)
    except InvalidInput as error:
        assert not expected, error
        assert error.where.startswith("cdf[")
    else:
        assert expected


# -- grid -----------------------------------------------------------------------------------

def test_grid():
    x = cdf.grid(10.0, 30.0)
    assert len(x) == 201 and x[0] == 10.0 and x[-1] == 30.0 and x[100] == 20.0
    assert np.allclose(np.diff(x), 0.1)
    with pytest.raises(InvalidInput) as info:
        cdf.grid(3.0, 3.0)
    assert info.value.where == "range"


# -- quantiles_to_cdf -----------------------------------------------------------------------

def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# Snapping to the 2**-24 grid moves quantiles_to_cdf's values by less than one unit
# (its buckets need no repair, see its docstring).
SNAPPED = 2**-24 + 1e-12


def on_grid(f) -> bool:
    return bool(np.all(f * 2**24 == np.rint(f * 2**24)))


def test_two_quantiles_on_open_sides_give_a_logistic():
    """{0.25: −1, 0.75: 1} is the logistic with scale 1/ln 3: F(x) = σ(x·ln 3)."""
    f = cdf.quantiles_to_cdf({0.25: -1.0, 0.75: 1.0}, -2.0, 2.0, True, True)
    x = cdf.grid(-2.0, 2.0)
    expected = [sigmoid(xk * math.log(3)) for xk in x]
    assert np.abs(f - expected).max() < SNAPPED and on_grid(f)
    assert np.abs(f - expected).max() > 1e-12  # snapped indeed: σ's values are off the grid
    assert f[0] == pytest.approx(0.1) and f[-1] == pytest.approx(0.9)


def test_closed_sides_get_linear_tails_to_the_bounds():
    f = cdf.quantiles_to_cdf({0.5: 1.0, 0.9: 3.0}, 0.0, 4.0, False, False)
    x = cdf.grid(0.0, 4.0)
    for xk, fk in zip(x, f):
        if xk <= 1.0:
            expected = 0.5 * xk
        elif xk <= 3.0:  # logit goes linearly from 0 to ln 9
            expected = sigmoid((xk - 1.0) / 2.0 * math.log(9))
        else:
            expected = 0.9 + 0.1 * (xk - 3.0)
        assert fk == pytest.approx(expected, abs=SNAPPED)
    assert f[0] == 0.0 and f[-1] == 1.0 and on_grid(f)


def test_thin_buckets_are_lifted_by_mixing_in_a_uniform():
    """Tight quantiles leave the tails far below 5e-5 a bucket: the result still passes."""
    f = cdf.quantiles_to_cdf({0.1: 49.9, 0.5: 50.0, 0.9: 50.1}, 0.0, 100.0, True, True)
    assert np.diff(f).min() >= cdf.MIX_BUCKET - 2 * SNAPPED
    # 0.001 and 0.999 are off the grid: snapped to the nearest grid values inside the limits
    assert 0.001 < f[0] < 0.001 + 2**-24 and 0.999 - 2**-24 < f[-1] < 0.999
    assert reference_valid(list(f), True, True)


@pytest.mark.parametrize("quantiles, where, match", [
    ({0.5: 1.0}, "quantiles", "at least two"),
    ([(0.1, 1.0), (0.9, 2.0)], "quantiles", "at least two"),
    ({0.0005: 1.0, 0.5: 2.0}, "quantiles[0.0005]", "between 0.001 and 0.999"),
    ({0.1: 1.0, 1.0: 2.0}, "quantiles[1.0]", "between 0.001 and 0.999"),
    ({0.1: 3.0, 0.5: 2.0, 0.9: 4.0}, "quantiles[0.5]", "must be above 3.0.*quantile 0.1"),
    ({0.1: 2.0, 0.5: 2.0}, "quantiles[0.5]", "must be above 2.0"),
    ({0.1: 1.0, 0.5: "2"}, "quantiles[0.5]", "not a finite number"),
    ({0.1: -1.0, 0.5: 2.0}, "quantiles[0.1]", "range"),
    ({0.1: 1.0, 0.9: 11.0}, "quantiles[0.9]", "range"),
    ({0.1: 0.0, 0.9: 5.0}, "quantiles[0.1]", "strictly inside on a closed side"),
    ({0.1: 1.0, 0.9: 10.0}, "quantiles[0.9]", "strictly inside on a closed side"),
    ({0.5: 1.0, 0.51: 2.0}, "quantiles", "span at least 0.02"),
])
def test_bad_quantiles_are_named(quantiles, where, match):
    with pytest.raises(InvalidInput, match=match) as info:
        cdf.quantiles_to_cdf(quantiles, 0.0, 10.0, False, False)
    assert info.value.where == where


def test_a_bad_range_is_named():
    for lo, hi, where in ((1.0, 1.0, "range"), (2.0, 1.0, "range"),
                          (float("nan"), 1.0, "range.min"), (0.0, float("inf"), "range.max")):
        with pytest.raises(InvalidInput) as info:
            cdf.quantiles_to_cdf({0.1: 0.5, 0.9: 0.7}, lo, hi, True, True)
        assert info.value.where == where


def test_quantiles_on_an_open_bound_are_allowed():
    f = cdf.quantiles_to_cdf({0.2: 0.0, 0.8: 10.0}, 0.0, 10.0, True, True)
    assert abs(f[0] - 0.2) < SNAPPED and abs(f[-1] - 0.8) < SNAPPED


def interpolated(f, x, v):
    """The piecewise-linear CDF through (x_k, F_k) at v (clamped to the range)."""
    return float(np.interp(min(max(v, x[0]), x[-1]), x, f))


@st.composite
def quantile_sets(draw):
    lo = draw(st.floats(-1e6, 1e6))
    width = draw(st.floats(1e-3, 1e7))
    hi = lo + width
    lower, upper = draw(st.booleans()), draw(st.booleans())
    n = draw(st.integers(2, 5))
    probs = sorted(draw(st.lists(st.floats(0.001, 0.999), min_size=n, max_size=n, unique=True)))
    assume(probs[-1] - probs[0] >= 0.02)
    where = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n, unique=True)))
    values = [lo + w * (hi - lo) for w in where]
    assume(all(b > a for a, b in zip(values, values[1:])))
    assume(lo <= values[0] and values[-1] <= hi)
    assume(lower or values[0] > lo)
    assume(upper or values[-1] < hi)
    return dict(zip(probs, values)), lo, hi, lower, upper


@hyp_settings(max_examples=300, deadline=None)
@given(quantile_sets())
def test_any_valid_quantile_set_converts_to_a_valid_cdf_near_its_quantiles(case):
    """Valid per §11 (checked by the literal reading, after storage too), and close to the
    quantiles: the linear CDF at v ± h (h the grid step) brackets p within ε, the weight
    of the uniform mixed in, which is at most 200·1.02·5e-5 / (p_max − p_min). Closer than
    one grid cell cannot be promised: the grid cannot tell points inside one cell apart.
    Snapping to the 2**-24 grid adds less than 2**-24 to ε, and the result is stored in
    804 bytes as it is."""
    quantiles, lo, hi, lower, upper = case
    f = cdf.quantiles_to_cdf(quantiles, lo, hi, lower, upper)
    assert reference_valid([float(v) for v in f], lower, upper)
    data = cdf.encode(f)
    assert len(data) == 804  # snapped to the 2**-24 grid
    assert cdf.decode(data).tolist() == f.tolist()
    x = cdf.grid(lo, hi)
    h = (hi - lo) / 200
    probs = sorted(quantiles)
    eps = 200 * cdf.MIX_BUCKET / (probs[-1] - probs[0]) + SNAPPED + 1e-9
    for p, v in quantiles.items():
        assert interpolated(f, x, v - h) <= p + eps
        assert interpolated(f, x, v + h) >= p - eps


# -- snap -----------------------------------------------------------------------------------

@st.composite
def valid_cdfs(draw):
    """Valid CDFs with many buckets at exactly the float64 least above 5e-5 and the ends
    at their limits."""
    lower, upper = draw(st.booleans()), draw(st.booleans())
    f0 = draw(st.sampled_from([0.001, 0.5, 0.98])) if lower else 0.0
    f200 = draw(st.sampled_from([0.999, 0.95, float(np.nextafter(0.999, 0))])) if upper else 1.0
    assume(f200 - f0 >= 0.0101)
    weights = draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 1.0, 3.0, 1e-9]),
                            min_size=200, max_size=200))
    weights[-1] = 1.0  # room to land exactly on F_200
    spare = f200 - f0 - 200 * 5e-5
    values = [f0]
    for w in weights[:-1]:
        nxt = values[-1] + 5e-5 + w * spare / sum(weights)
        while nxt - values[-1] < 5e-5:
            nxt = float(np.nextafter(nxt, 2.0))
        values.append(nxt)
    values.append(f200)
    assume(reference_valid(values, lower, upper))
    return values, lower, upper


@hyp_settings(max_examples=300, deadline=None)
@given(valid_cdfs())
def test_snap_keeps_every_valid_cdf_valid_and_close(case):
    values, lower, upper = case
    snapped = cdf.snap(values)
    assert snapped.dtype == np.float64
    assert reference_valid([float(v) for v in snapped], lower, upper)
    assert np.abs(snapped - np.array(values)).max() <= 2e-6
    assert np.all(snapped * 2**24 == np.rint(snapped * 2**24))
    assert cdf.snap(snapped).tolist() == snapped.tolist()  # values on the grid are kept
    data = cdf.encode(snapped)
    assert len(data) == 804 and cdf.decode(data).tolist() == snapped.tolist()


@hyp_settings(max_examples=300, deadline=None)
@given(valid_cdfs())
def test_storage_keeps_every_valid_cdf_exactly(case):
    """The stored values are the given ones, bit for bit: 804 bytes when all are on the
    2**-24 grid, 1608 otherwise; storing the decoded values gives the same bytes."""
    values, lower, upper = case
    data = cdf.encode(values)
    on_grid = all((v * 2**24).is_integer() for v in values)
    assert len(data) == (804 if on_grid else 1608)
    stored = cdf.decode(data)
    assert stored.dtype == np.float64
    assert [v.hex() for v in stored.tolist()] == [float(v).hex() for v in values]
    assert cdf.encode(stored) == data
    assert cdf.canonical(values).tolist() == values


def test_off_grid_cdfs_are_stored_in_float64_on_grid_ones_in_float32():
    k = np.arange(201)
    open_both = 0.001 + k * (0.998 / 200)
    for values in (k / 200, k / 300, open_both):  # F_200 = 2/3: an open upper side
        data = cdf.encode(values)
        assert len(data) == 1608
        assert data == np.asarray(values, "<f8").tobytes()
        assert cdf.decode(data).tolist() == values.tolist()
    half = np.where(k < 200, k / 512, 1.0)  # a jump in the last bucket
    for values in (k / 256, half, cdf.snap(open_both)):
        data = cdf.encode(values)
        assert len(data) == 804
        assert data == np.asarray(values, "<f4").tobytes()
        assert cdf.decode(data).tolist() == values.tolist()
    # One value off the grid is enough for float64.
    f = k / 256
    f[100] += 2**-30
    assert len(cdf.encode(f)) == 1608 and cdf.decode(cdf.encode(f))[100] == f[100]


def minimal_steps(start, n, direction):
    """n values from `start`, each the float64 nearest 5e-5 beyond the last."""
    values = [start]
    for _ in range(n):
        nxt = values[-1] + direction * 5e-5
        while abs(nxt - values[-1]) < 5e-5:
            nxt = float(np.nextafter(nxt, direction * 2.0))
        values.append(nxt)
    return values


def test_snap_at_the_exact_limits():
    """0.999 and a bucket of exactly 5e-5 have no float32 at or inside the limit: the
    snapped values are moved just inside (the stored ones are the given ones)."""
    assert float(np.float32(0.999)) > 0.999  # why plain float32 would not do
    cases = [(minimal_steps(0.001, 199, 1) + [0.999], True, True),
             ([0.001] + minimal_steps(0.999, 199, -1)[::-1], True, True),
             ([0.0] + minimal_steps(1.0, 199, -1)[::-1], False, False),
             (minimal_steps(0.0, 199, 1) + [0.999], False, True)]
    for values, lower, upper in cases:
        assert reference_valid(values, lower, upper)
        assert cdf.canonical(values).tolist() == values  # stored exactly ...
        snapped = cdf.snap(values)  # ... and snapped, still valid
        assert reference_valid([float(v) for v in snapped], lower, upper)
        assert np.abs(snapped - np.array(values)).max() <= 2e-6
        assert len(cdf.encode(snapped)) == 804


def test_a_million_snapped_forecasts_fit_in_a_gigabyte():
    assert len(cdf.encode(uniform())) == 1608  # k/200 is off the 2**-24 grid
    assert 1_000_000 * len(cdf.encode(cdf.snap(uniform()))) <= 1e9


def test_encode_rejects_an_invalid_cdf_and_decode_a_wrong_size():
    f = uniform()
    f[5] = f[4]
    with pytest.raises(InvalidInput) as info:
        cdf.encode(f)
    assert info.value.where == "cdf[5]"
    with pytest.raises(InvalidInput) as info:
        cdf.snap(f)
    assert info.value.where == "cdf[5]"
    for size in (0, 800, 805, 1600, 1612):
        with pytest.raises(ValueError, match=f"804 or 1608 bytes, not {size}$"):
            cdf.decode(b"\0" * size)


# -- decode_many ----------------------------------------------------------------------------

def _blobs(seed, n, off_grid):
    """n stored CDFs, those where `off_grid` is true stored in float64, the others snapped."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        steps = rng.exponential(1.0, 200) + 0.05  # buckets well above 5e-5
        f = np.concatenate(([0.0], np.cumsum(steps) / steps.sum()))
        f[-1] = 1.0
        out.append(cdf.encode(f if off_grid[i] else cdf.snap(f)))
    assert [len(b) for b in out] == [1608 if o else 804 for o in off_grid]
    return out


def test_decode_many_reads_a_float32_view_when_every_cdf_is_on_the_grid():
    blobs = _blobs(1, 7, [False] * 7)
    got = cdf.decode_many(blobs)
    assert got.dtype == np.float32 and got.shape == (7, 201)
    assert np.array_equal(got.astype(np.float64), np.array([cdf.decode(b) for b in blobs]))
    empty = cdf.decode_many([])
    assert empty.shape == (0, 201)


@pytest.mark.parametrize("off_grid", [[True], [True, False], [False, True, True, False, True],
                                      [True] * 4, [False, False, True]])
def test_decode_many_equals_decode_row_by_row_for_mixed_batches(off_grid):
    blobs = _blobs(len(off_grid), len(off_grid), off_grid)
    got = cdf.decode_many(blobs)
    assert got.dtype == np.float64 and got.shape == (len(off_grid), 201)
    for row, blob in zip(got, blobs):
        assert row.tolist() == cdf.decode(blob).tolist()
    # bytes-like rows (memoryview, as some drivers return) read the same
    assert np.array_equal(cdf.decode_many([memoryview(b) for b in blobs]), got)


def test_decode_many_names_the_first_blob_of_a_wrong_size():
    blobs = _blobs(3, 4, [False, True, False, False])
    for bad in (blobs[:2] + [b"\0" * 1604] + blobs[2:], blobs[:2] + [b""] + blobs[2:]):
        with pytest.raises(ValueError, match=r"stored CDF 2 has \d+ bytes, not 804 or 1608"):
            cdf.decode_many(bad)
    # Sizes whose total is that of 804-byte rows are still told apart.
    assert len(blobs[1]) == 2 * 804
    with pytest.raises(ValueError, match="stored CDF 0 has 0 bytes"):
        cdf.decode_many([b"", blobs[1]])
