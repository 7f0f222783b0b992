"""The leaderboard: rows exactly as `forecasts leaderboard --format json` prints them."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from forecasts.api import params
from forecasts.api.blueprint import bp
from forecasts.db import get_session
from forecasts.services import leaderboard as board


@bp.get("/leaderboard", merge_slashes=False)
def leaderboard() -> Response:
    """Ranked rows over resolved questions, with seeded bootstrap intervals."""
    args = params.query("getLeaderboard")
    rows = board.leaderboard(
        get_session(), metric=args["metric"], tag=args["tag"],
        resolved_from=args["from"], resolved_to=args["to"],
        min_questions=args["min_questions"], with_crowd=args["with_crowd"],
        n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
        seed=current_app.config["LEADERBOARD_SEED"],
        peer_prior=current_app.config["LEADERBOARD_PEER_PRIOR"])
    return jsonify(rows)
