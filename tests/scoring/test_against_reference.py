"""The vectorised engine against the scalar reference on generated inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring
from scoring import engine, median
from tests.scoring import reference_impl as ref
from tests.scoring.compare import assert_matches_reference, close
from tests.scoring.strategies import bundles, random_bundle

EXAMPLES = settings(max_examples=150, deadline=None)


@EXAMPLES
@given(bundles())
def test_score_questions_matches_reference(bundle):
    assert_matches_reference(*bundle)


@EXAMPLES
@given(bundles())
def test_wavelet_path_matches_reference(bundle):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(median, "_BITSET_MAX_RANKS", 0)
        assert_matches_reference(*bundle)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("bitset_max", [4096, 0])
def test_large_questions_match_reference(seed, bitset_max, monkeypatch):
    # Questions of ~150-700 forecasts exercise bitsets of 4 to 16 words,
    # and the wavelet matrix over 8-10 rank bits when bitsets are disabled.
    monkeypatch.setattr(median, "_BITSET_MAX_RANKS", bitset_max)
    rng = np.random.default_rng(seed)
    assert_matches_reference(*random_bundle(rng, 4, 1500, 60))


def test_small_chunks_match_reference(monkeypatch):
    monkeypatch.setattr(median, "_CHUNK_WORDS", 64)
    rng = np.random.default_rng(7)
    assert_matches_reference(*random_bundle(rng, 30, 1200, 20))


@pytest.mark.parametrize("workers", [1, 3])
def test_many_parts_and_blocks_match_reference(workers, monkeypatch):
    # Tiny parts and blocks: questions are split over 20+ parts and their
    # blocks, scored by several threads, and put back in question order.
    monkeypatch.setattr(engine, "_PART_EVENTS", 100)
    monkeypatch.setattr(engine, "_BLOCK_EVENTS", 30)
    rng = np.random.default_rng(11)
    assert_matches_reference(*random_bundle(rng, 60, 2500, 25), workers=workers)


def test_a_last_question_larger_than_a_block(monkeypatch):
    # Regression: a block boundary that fell inside the last question
    # indexed past the question starts.
    monkeypatch.setattr(engine, "_BLOCK_EVENTS", 30)
    rng = np.random.default_rng(13)
    assert_matches_reference(*random_bundle(rng, 1, 200, 15), workers=1)


def test_result_does_not_depend_on_the_number_of_threads(monkeypatch):
    monkeypatch.setattr(engine, "_PART_EVENTS", 100)
    monkeypatch.setattr(engine, "_BLOCK_EVENTS", 30)
    bundle = random_bundle(np.random.default_rng(12), 60, 2500, 25, kinds=(2, 2, 3, 5))
    one, many = (scoring.score_questions(*bundle, crowd_points=True, workers=w) for w in (1, 4))
    assert one.crowd_points_question.size > 0
    for name, a in vars(one).items():
        np.testing.assert_array_equal(a, getattr(many, name), err_msg=name)


@EXAMPLES
@given(bundles(max_questions=1))
def test_crowd_series_matches_reference(bundle):
    questions, forecasts = bundle
    k = int(questions.n_options[0])
    probs = forecasts.probs.reshape(-1, k)
    times, crowd, count = scoring.crowd_series(forecasts.user, forecasts.at, probs)
    want = ref.crowd_series(forecasts.user.tolist(), forecasts.at.tolist(), probs.tolist())
    assert times.tolist() == [t for t, _, _ in want]
    assert count.tolist() == [n for _, _, n in want]
    for row, (_, vector, _) in zip(crowd, want):
        assert all(close(float(a), b) for a, b in zip(row, vector))


@EXAMPLES
@given(bundles())
def test_current_crowd_matches_reference(bundle):
    questions, forecasts = bundle
    got = scoring.current_crowd(questions.n_options, forecasts)
    k = questions.n_options[forecasts.question]
    offsets = np.concatenate(([0], np.cumsum(k)))
    for q in range(len(questions)):
        rows = np.flatnonzero(forecasts.question == q)
        if rows.size == 0:
            assert got.n_forecasters[q] == 0 and np.isnan(got.probs[q]).all()
            continue
        vectors = [forecasts.probs[offsets[i]:offsets[i + 1]].tolist() for i in rows]
        series = ref.crowd_series(forecasts.user[rows].tolist(), forecasts.at[rows].tolist(),
                                  vectors)
        _, vector, n = series[-1]
        assert got.n_forecasters[q] == n
        assert all(close(float(a), b) for a, b in zip(got.probs[q], vector))
        assert np.isnan(got.probs[q, len(vector):]).all()


@EXAMPLES
@given(bundles(max_questions=6, max_forecasts=60), st.sampled_from(
    ["brier", "log", "peer", "peer_total"]), st.integers(1, 3))
def test_leaderboard_matches_reference(bundle, metric, min_questions):
    scores = scoring.score_questions(*bundle)
    values = {k: getattr(scores, k) for k in ("brier", "log", "peer", "coverage")}
    got = scoring.leaderboard(scores.user, values, metric=metric,
                              min_questions=min_questions, n_boot=50)
    want = ref.leaderboard(scores.user.tolist(), {k: v.tolist() for k, v in values.items()},
                           metric, min_questions)
    assert got.user.tolist() == [r["user"] for r in want]
    assert got.rank.tolist() == [r["rank"] for r in want]
    assert got.questions.tolist() == [r["questions"] for r in want]
    for name in ("brier", "log", "peer", "peer_total", "coverage"):
        assert all(close(float(a), r[name]) for a, r in zip(getattr(got, name), want))
