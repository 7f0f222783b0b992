"""A forecaster against another or the crowd: GET /users/{username}/compare?with=..."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from forecasts.api import params
from forecasts.api.blueprint import bp
from forecasts.db import get_session
from forecasts.services import comparison
from forecasts.services.users import get_user


def _metric(m: comparison.Metric) -> dict:
    return {"metric": m.metric, "higher_is_better": m.higher_is_better, "user": m.mean_a,
            "with": m.mean_b, "difference": m.difference,
            "interval": None if m.low is None else [m.low, m.high],
            "verdict": m.verdict, "verdict_text": m.verdict_text}


def _row(row: dict) -> dict:
    names = {"a": "user", "b": "with", "tie": "tie"}
    return {"question": row["question"], "title": row["title"], "user": row["a"],
            "with": row["b"], "better": {k: names[v] for k, v in row["better"].items()}}


@bp.get("/users/<username>/compare", merge_slashes=False)
def compare_users(username: str) -> Response:
    """Mean differences with paired bootstrap intervals and verdicts, and a page of rows."""
    args = params.query("compareUsers")
    session = get_session()
    user = get_user(session, username)
    other = comparison.resolve_other(session, user, args["with"], where="with")
    result = comparison.compare(session, user, other, start=args["offset"], count=args["limit"],
                                n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
                                seed=current_app.config["LEADERBOARD_SEED"])
    return jsonify({"user": result.user, "with": result.other, "questions": result.questions,
                    "level": comparison.LEVEL, "metrics": [_metric(m) for m in result.metrics],
                    "limit": args["limit"], "offset": args["offset"],
                    "rows": [_row(r) for r in result.rows]})
