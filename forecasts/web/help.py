"""The scoring help page: every score explained, with a worked example computed by the
scoring engine from the first hand-checked reference case (tests/reference/scoring_cases.json;
tests/web/test_help.py checks that the inputs and results still match it)."""
from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, current_app, render_template

import scoring

bp = Blueprint("help", __name__)

DAY = 86_400
# Reference bundle 0: a binary question open 1 to 11 January 2026 that resolved yes.
EXAMPLE_DAYS = 10
EXAMPLE_FORECASTS = (("alice", 0, 0.6), ("alice", 4, 0.9), ("bob", 2, 0.3), ("carol", 5, 0.8))
# Flat case rps_ordered: four ordered options, the third happened.
RPS_EXAMPLE = ((0.1, 0.2, 0.3, 0.4), 2)


def _stands(forecasts: list[tuple[str, int, float]]) -> list[int]:
    """Days each forecast stands: until the same user's next one, the last until the close."""
    days = []
    for i, (user, day, _) in enumerate(forecasts):
        later = [d for u, d, _ in forecasts[i + 1:] if u == user]
        days.append((later[0] if later else EXAMPLE_DAYS) - day)
    return days


def worked_example(peer_prior: float) -> dict[str, Any]:
    """The example's forecasts, crowd steps and leaderboard rows, computed by `scoring`."""
    forecasts = list(EXAMPLE_FORECASTS)
    names = sorted({u for u, _, _ in forecasts})
    user = [names.index(u) for u, _, _ in forecasts]
    at = [day * DAY for _, day, _ in forecasts]
    p_yes = np.array([p for _, _, p in forecasts])
    probs = np.column_stack([1.0 - p_yes, p_yes])
    yes = np.ones(len(forecasts), np.int64)
    questions = scoring.Questions(open_at=[0], close_at=[EXAMPLE_DAYS * DAY],
                                  end_at=[EXAMPLE_DAYS * DAY], outcome=[1], n_options=[2],
                                  ordered=[False])
    scores = scoring.score_questions(questions, scoring.Forecasts.from_binary(
        np.zeros(len(forecasts), np.int64), user, at, p_yes))
    board = scoring.leaderboard(
        scores.user, {k: getattr(scores, k) for k in ("brier", "log", "peer", "coverage")},
        metric="peer_global", peer_prior=peer_prior, n_boot=50,
        crowd_brier=scores.crowd_brier[scores.question])
    times, crowd, count = scoring.crowd_series(user, at, probs)
    ends = np.append(times[1:], EXAMPLE_DAYS * DAY)
    crowd_brier = scoring.brier_score(crowd, np.ones(times.size, np.int64))
    return {
        "days": EXAMPLE_DAYS, "prior": peer_prior,
        "forecasts": [{"user": u, "day": d, "p_yes": p, "days": n, "brier": float(b),
                       "log": float(lg)}
                      for (u, d, p), n, b, lg in zip(forecasts, _stands(forecasts),
                                                     scoring.brier_score(probs, yes),
                                                     scoring.log_score(probs, yes))],
        "crowd_steps": [{"from": int(t // DAY), "to": int(e // DAY), "forecasters": int(c),
                         "p_yes": float(p), "brier": float(b)}
                        for t, e, c, p, b in zip(times, ends, count, crowd[:, 1], crowd_brier)],
        "crowd": {"brier": float(scores.crowd_brier[0]), "log": float(scores.crowd_log[0])},
        "rows": [{"user": names[int(board.user[i])], "rank": int(board.rank[i]),
                  **{k: float(getattr(board, k)[i]) for k in
                     ("brier", "log", "peer", "coverage", "peer_global", "relative_brier")}}
                 for i in range(board.user.size)],
        "rps": {"probs": RPS_EXAMPLE[0], "outcome": RPS_EXAMPLE[1],
                "value": float(scoring.rps_score([RPS_EXAMPLE[0]], [RPS_EXAMPLE[1]])[0])},
    }


@bp.get("/help/scoring")
def scoring_help():
    """How forecasts are scored and ranked, with a worked example."""
    return render_template("help/scoring.html", example=worked_example(
        current_app.config["LEADERBOARD_PEER_PRIOR"]))
