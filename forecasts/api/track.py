"""A forecaster's track record: GET /users/{username}/track-record?tag=&tournament=&from=&to=,
the numbers of the track record page (forecasts.services.track_record) as JSON."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from forecasts import timeutil
from forecasts.api import params
from forecasts.api.blueprint import bp
from forecasts.db import get_session
from forecasts.services.track_record import ROLLING_DAYS, TrackRecord, track_record


def document(record: TrackRecord) -> dict[str, Any]:
    """The track record as the API answers it."""
    d = record.discrimination
    return {
        "user": record.user,
        "filters": {"tag": record.filters["tag"], "tournament": record.filters["tournament"],
                    "from": timeutil.iso(record.filters["from"]),
                    "to": timeutil.iso(record.filters["to"])},
        "rolling_days": ROLLING_DAYS,
        "questions": record.questions,
        "series": [{"time": timeutil.iso(p.time), "question": p.question, "title": p.title,
                    "peer": p.peer, "brier": p.brier, "relative_brier": p.relative_brier,
                    "peer_mean": p.peer_mean, "brier_mean": p.brier_mean,
                    "relative_brier_mean": p.relative_brier_mean,
                    "window_questions": p.window_questions} for p in record.series],
        "horizons": [{"label": h.label, "mean_brier": h.mean_brier, "forecasts": h.forecasts,
                      "questions": h.questions} for h in record.horizons],
        "discrimination": None if d is None else {
            "auc": d.auc, "interval": None if d.low is None else [d.low, d.high],
            "level": d.level, "forecasts": d.forecasts, "questions": d.questions},
        "calibration": [{"low_edge": b.low_edge, "high_edge": b.high_edge,
                         "mean_forecast": b.mean_forecast, "observed": b.observed,
                         "weight": b.weight, "forecasts": b.forecasts,
                         "questions": b.questions} for b in record.calibration],
    }


@bp.get("/users/<username>/track-record", merge_slashes=False)
def get_track_record(username: str) -> Response:
    """Rolling scores, the horizon split, discrimination and calibration counts."""
    args = params.query("getTrackRecord")
    record = track_record(get_session(), username, tag=args["tag"],
                          tournament=args["tournament"], start=args["from"], end=args["to"],
                          n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
                          seed=current_app.config["LEADERBOARD_SEED"])
    return jsonify(document(record))
