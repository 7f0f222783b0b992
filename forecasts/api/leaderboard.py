"""The leaderboard: rows exactly as `forecasts leaderboard --format json` prints them."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from forecasts.api import params
from forecasts.api.blueprint import bp
from forecasts.db import get_session
from forecasts.services import leaderboard as board

PARAMS = ("metric", "tag", "min_questions", "with_crowd", "from", "to")
MAX_MIN_QUESTIONS = 1_000_000


@bp.get("/leaderboard", merge_slashes=False)
def leaderboard() -> Response:
    """Ranked rows over resolved questions, with seeded bootstrap intervals."""
    args = params.query(*PARAMS)
    rows = board.leaderboard(
        get_session(), metric=params.text(args, "metric") or board.DEFAULT_METRIC,
        tag=params.text(args, "tag"),
        resolved_from=params.timestamp(args, "from"), resolved_to=params.timestamp(args, "to"),
        min_questions=params.integer(args, "min_questions", default=1, low=1,
                                     high=MAX_MIN_QUESTIONS),
        with_crowd=params.boolean(args, "with_crowd", default=False),
        n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
        seed=current_app.config["LEADERBOARD_SEED"],
        peer_prior=current_app.config["LEADERBOARD_PEER_PRIOR"])
    return jsonify(rows)
