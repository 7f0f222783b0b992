"""Forecasts scoring engine: numpy/scipy arrays in, arrays out.

Imports only numpy, scipy and the standard library (SPEC section 2).
"""

from .aggregate import AGGREGATORS, MEDIAN, Aggregator, aggregator
from .calibration import Calibration, Murphy, calibration, murphy_decomposition
from .crowd import CurrentCrowd, crowd_series, current_crowd
from .compare import paired_bootstrap
from .data import Forecasts, Questions
from .engine import QuestionScores, score_questions
from .leaderboard import Leaderboard, leaderboard
from .numeric import (Coverage, PitHistogram, bucket_log, bucket_probability, central_interval,
                      crps, interval_coverage, pit, pit_histogram)
from .numeric_engine import NumericForecasts, NumericQuestions, NumericScores, score_numeric
from .peer import peer_instant
from .rules import brier_score, log_score, rps_score
from .track import (HORIZON_EDGES_DAYS, HORIZON_LABELS, HorizonBins, auc_interval,
                    horizon_bins, rolling_mean, weighted_auc)

__all__ = [
    "HORIZON_EDGES_DAYS",
    "HORIZON_LABELS",
    "HorizonBins",
    "auc_interval",
    "horizon_bins",
    "rolling_mean",
    "weighted_auc",
    "AGGREGATORS",
    "Aggregator",
    "Calibration",
    "CurrentCrowd",
    "Forecasts",
    "Leaderboard",
    "MEDIAN",
    "Murphy",
    "QuestionScores",
    "Questions",
    "aggregator",
    "brier_score",
    "calibration",
    "crowd_series",
    "current_crowd",
    "leaderboard",
    "log_score",
    "murphy_decomposition",
    "Coverage",
    "NumericForecasts",
    "NumericQuestions",
    "NumericScores",
    "PitHistogram",
    "bucket_log",
    "bucket_probability",
    "central_interval",
    "crps",
    "interval_coverage",
    "pit",
    "pit_histogram",
    "score_numeric",
    "paired_bootstrap",
    "peer_instant",
    "rps_score",
    "score_questions",
]
