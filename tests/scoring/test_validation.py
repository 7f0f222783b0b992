"""Bad inputs to the public functions raise ValueError naming the argument.

Each case is (id, the pattern the message must start with, the call): the
pattern begins with the argument's name and, for element checks, the first
offending position and value.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import scoring
from scoring import Forecasts, Questions

VALUES = {k: [0.1] for k in ("brier", "log", "peer", "coverage")}


def questions(**changes):
    """One binary question open on [0, 10), resolved yes; ``changes`` override columns."""
    cols = dict(open_at=[0], close_at=[10], end_at=[10], outcome=[1], n_options=[2],
                ordered=[False])
    cols.update(changes)
    return Questions(**cols)


def forecasts(**changes):
    """One forecast of P(yes) 0.5 at time 1 on question 0 by user 0."""
    cols = dict(question=[0], user=[0], at=[1], probs=[0.5, 0.5])
    cols.update(changes)
    return Forecasts(**cols)


def board(user=(0,), values=None, **kw):
    kw.setdefault("metric", "brier")
    return scoring.leaderboard(list(user), VALUES if values is None else values, **kw)


CASES = [
    # probabilities out of range or not finite
    ("probability_above_one", r"probs\[1\] = .*1\.2", lambda: forecasts(probs=[0.5, 1.2])),
    ("probability_1.2_in_rule", r"probs\[\(1, 1\)\] = .*1\.2",
     lambda: scoring.brier_score([[0.5, 0.5], [0.3, 1.2]], [0, 1])),
    ("probability_zero", r"probs\[\(0, 0\)\] = .*0\.0",
     lambda: scoring.log_score([[0.0, 1.0]], [1])),
    ("p_yes_above_one", r"p_yes\[0\] = .*1\.2",
     lambda: Forecasts.from_binary([0], [0], [1], [1.2])),
    ("p_yes_nan", r"p_yes\[0\] = .*nan", lambda: Forecasts.from_binary([0], [0], [1], [np.nan])),
    ("probs_nan", r"probs\[1\] = .*nan", lambda: forecasts(probs=[0.5, np.nan])),
    ("probs_inf_in_rule", r"probs\[\(0, 0\)\]",
     lambda: scoring.rps_score([[np.inf, 0.5, 0.5]], [0])),
    ("peer_probability_nan", r"p_outcome\[1\]", lambda: scoring.peer_instant([0.5, np.nan])),
    ("calibration_p_yes_1.2", r"p_yes\[1\]", lambda: scoring.calibration([0.5, 1.2], [1, 1], None)),
    ("calibration_p_yes_nan", r"p_yes\[0\]", lambda: scoring.calibration([np.nan], [1], None)),
    ("murphy_p_yes_negative", r"p_yes\[0\]", lambda: scoring.murphy_decomposition([-0.1], [1])),
    ("leaderboard_value_nan", r"values\['log'\]\[0\] = .*nan",
     lambda: board(values={**VALUES, "log": [np.nan]})),
    # rows not summing to 1
    ("rule_row_sum", r"probs: the probabilities of row 1 .*1\.1",
     lambda: scoring.brier_score([[0.5, 0.5], [0.5, 0.6]], [0, 1])),
    ("crowd_series_row_sum", r"probs: the probabilities of row 0",
     lambda: scoring.crowd_series([0], [0], [[0.3, 0.3, 0.3]])),
    ("current_crowd_row_sum", r"probs: the probabilities of row 0",
     lambda: scoring.current_crowd([2], forecasts(probs=[0.5, 0.6]))),
    ("score_questions_row_sum", r"probs: the probabilities of forecast 1 sum to .*0\.8",
     lambda: scoring.score_questions(questions(), forecasts(
         question=[0, 0], user=[0, 1], at=[1, 2], probs=[0.5, 0.5, 0.4, 0.4]))),
    # negative or out-of-range indices
    ("negative_question", r"question\[0\] = .*-1", lambda: forecasts(question=[-1])),
    ("question_beyond_questions", r"question\[0\] = .*\b3\b.*below 1",
     lambda: scoring.score_questions(questions(), forecasts(question=[3]))),
    ("negative_user", r"user\[0\] = .*-2", lambda: forecasts(user=[-2])),
    ("leaderboard_negative_user", r"user\[0\]", lambda: board(user=[-1])),
    ("crowd_series_negative_user", r"user\[0\]",
     lambda: scoring.crowd_series([-1], [0], [[0.5, 0.5]])),
    # mismatched lengths
    ("forecast_columns", r"user: length 2 .*question \(1\)", lambda: forecasts(user=[0, 1])),
    ("forecast_at", r"at: length 0", lambda: forecasts(at=[])),
    ("question_columns", r"end_at: length 2 .*open_at \(1\)", lambda: questions(end_at=[10, 10])),
    ("probs_for_questions", r"probs: length 3 .* 2 probabilities",
     lambda: scoring.score_questions(questions(), forecasts(probs=[0.2, 0.3, 0.5]))),
    ("rule_outcomes", r"outcome: length 2", lambda: scoring.brier_score([[0.5, 0.5]], [0, 1])),
    ("leaderboard_values", r"values\['brier'\]: length 1 .*user \(2\)", lambda: board(user=[0, 1])),
    ("calibration_weight", r"weight: length 2",
     lambda: scoring.calibration([0.5], [1], [1.0, 1.0])),
    ("calibration_outcome", r"outcome: length 1",
     lambda: scoring.calibration([0.5, 0.5], [1], None)),
    ("crowd_series_at", r"at: length 1",
     lambda: scoring.crowd_series([0, 1], [0], [[0.5, 0.5]] * 2)),
    # times
    ("close_equals_open", r"close_at\[0\] = .*\b0\b.*must be after open_at",
     lambda: questions(close_at=[0], end_at=[0])),
    ("close_before_open", r"close_at\[0\] = .*-5", lambda: questions(close_at=[-5], end_at=[-5])),
    ("end_after_close", r"end_at\[0\] = .*11", lambda: questions(end_at=[11])),
    # outcomes and option counts
    ("outcome_too_large", r"outcome\[0\] = .*2", lambda: questions(outcome=[2])),
    ("outcome_below_minus_one", r"outcome\[0\] = .*-2", lambda: questions(outcome=[-2])),
    ("rule_outcome_too_large", r"outcome\[0\] = .*3",
     lambda: scoring.log_score([[0.2, 0.3, 0.5]], [3])),
    ("rule_outcome_negative", r"outcome\[0\] = .*-1",
     lambda: scoring.rps_score([[0.5, 0.5]], [-1])),
    ("calibration_outcome_2", r"outcome\[0\]", lambda: scoring.calibration([0.5], [2], None)),
    ("one_option", r"n_options\[0\] = .*1", lambda: questions(n_options=[1], outcome=[0])),
    ("rule_one_option", r"probs: need at least 2", lambda: scoring.brier_score([[1.0]], [0])),
    ("ordered_not_boolean", r"ordered\[0\]", lambda: questions(ordered=[2])),
    # leaderboard options
    ("unknown_metric", r"metric: must be one of .*'rps'", lambda: board(metric="rps")),
    ("missing_value_column", r"values: missing 'peer'",
     lambda: board(values={k: v for k, v in VALUES.items() if k != "peer"})),
    ("min_questions_zero", r"min_questions: must be >= 1", lambda: board(min_questions=0)),
    ("level_one", r"level: must be strictly between 0 and 1", lambda: board(level=1.0)),
    ("level_text", r"level: expected a number", lambda: board(level="high")),
    ("seed_negative", r"seed: must be >= 0", lambda: board(seed=-1)),
    ("calibration_n_bins_zero", r"n_bins: ",
     lambda: scoring.calibration([0.5], [1], None, n_bins=0)),
    ("calibration_negative_weight", r"weight\[0\]",
     lambda: scoring.calibration([0.5], [1], [-1.0])),
    ("murphy_zero_weight", r"weight: ", lambda: scoring.murphy_decomposition([0.5], [1], [0.0])),
    # floats (or booleans, strings) where integers are expected
    ("float_open_at", r"open_at: expected integers, got dtype float",
     lambda: questions(open_at=[0.0])),
    ("float_outcome", r"outcome: expected integers", lambda: questions(outcome=[1.0])),
    ("float_n_options", r"n_options: expected integers", lambda: questions(n_options=[2.0])),
    ("float_question", r"question: expected integers", lambda: forecasts(question=[0.0])),
    ("float_user", r"user: expected integers", lambda: forecasts(user=[0.5])),
    ("float_at", r"at: expected integers", lambda: forecasts(at=[1.5])),
    ("bool_at", r"at: expected integers, got dtype bool", lambda: forecasts(at=[True])),
    ("text_at", r"at: expected integers", lambda: forecasts(at=["2026-01-01"])),
    ("float_rule_outcome", r"outcome: expected integers",
     lambda: scoring.brier_score([[0.5, 0.5]], [1.0])),
    ("float_leaderboard_user", r"user: expected integers", lambda: board(user=[0.0])),
    ("float_min_questions", r"min_questions: expected an integer",
     lambda: board(min_questions=1.5)),
    ("float_n_boot", r"n_boot: expected an integer", lambda: board(n_boot=100.0)),
    ("bool_n_boot", r"n_boot: expected an integer", lambda: board(n_boot=True)),
    ("float_seed", r"seed: expected an integer", lambda: board(seed=1.0)),
    ("float_n_bins", r"n_bins: expected an integer",
     lambda: scoring.calibration([0.5], [1], None, n_bins=10.0)),
    ("float_calibration_outcome", r"outcome: expected integers",
     lambda: scoring.calibration([0.5], [1.0], None)),
    ("float_current_crowd_n_options", r"n_options: expected integers",
     lambda: scoring.current_crowd([2.0], forecasts())),
    # shapes and types
    ("rule_probs_1d", r"probs: expected a 2-D array", lambda: scoring.brier_score([0.5, 0.5], [0])),
    ("question_column_2d", r"open_at: expected a 1-D array", lambda: questions(open_at=[[0]])),
    ("ragged_probs", r"probs: ", lambda: scoring.log_score([[0.5, 0.5], [1.0]], [0, 0])),
    ("score_questions_questions_type", r"questions: ",
     lambda: scoring.score_questions({}, forecasts())),
    ("score_questions_forecasts_type", r"forecasts: ",
     lambda: scoring.score_questions(questions(), {})),
    ("score_questions_workers", r"workers: must be >= 1",
     lambda: scoring.score_questions(questions(), forecasts(), workers=0)),
    ("score_questions_workers_type", r"workers: expected an integer",
     lambda: scoring.score_questions(questions(), forecasts(), workers=1.5)),
    ("current_crowd_forecasts_type", r"forecasts: ", lambda: scoring.current_crowd([2], None)),
]


@pytest.mark.parametrize("pattern, call", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(pattern, call):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert re.match(pattern, message), f"{message!r} does not match {pattern!r}"


def test_the_valid_versions_of_the_bad_inputs_are_accepted():
    # The builders above, unchanged, make inputs every function accepts, so
    # each case fails because of its one change.
    got = scoring.score_questions(questions(), forecasts())
    assert got.brier.tolist() == [0.5]
    assert scoring.brier_score([[0.5, 0.5]], [1]).tolist() == [0.5]
    assert board().rank.tolist() == [1]
    assert scoring.calibration([0.5], [1], None).count.sum() == 1
    assert scoring.crowd_series([0], [0], [[0.5, 0.5]])[2].tolist() == [1]
    assert scoring.current_crowd([2], forecasts()).n_forecasters.tolist() == [1]


def test_unscored_forecasts_are_not_checked_for_row_sums():
    # Documented: row sums are checked on scored forecasts; one after T1 is ignored.
    got = scoring.score_questions(
        questions(), forecasts(question=[0, 0], user=[0, 1], at=[1, 10],
                               probs=[0.5, 0.5, 0.4, 0.4]))
    assert got.user.tolist() == [0]
