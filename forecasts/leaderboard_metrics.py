"""The leaderboard's metrics (SPEC sections 6 and 11), in one place for the service, the
CLI, the web page and the API; free of heavy imports so the CLI can read it at start."""
from __future__ import annotations

METRICS = ("peer_global", "brier", "log", "peer", "peer_total", "crps")
DEFAULT_METRIC = METRICS[0]
LOWER_IS_BETTER = ("brier", "log", "crps")
# The boards that rank over only the questions having that score: Brier for binary and
# multiple-choice questions, CRPS for numeric and date ones.
OWN_QUESTIONS = ("brier", "crps")
