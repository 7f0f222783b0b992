"""The leaderboard page and its CSV download."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import browse
from forecasts.services import leaderboard as board

bp = Blueprint("leaderboard", __name__)

METRIC_NAMES = {"brier": "Brier score", "log": "Log score", "peer": "Peer score (mean)",
                "peer_total": "Peer score (total)"}


def _filters() -> dict[str, Any]:
    """The query string as the page shows it back (unparsed text kept for the form)."""
    return {"metric": request.args.get("metric", "").strip() or "brier",
            "tag": request.args.get("tag", "").strip(),
            "min": request.args.get("min", "").strip() or "1",
            # The form sends crowd=0 and, when ticked, crowd=1; a bare link shows the crowd.
            "crowd": "1" in request.args.getlist("crowd") if "crowd" in request.args else True}


def _rows(filters: dict[str, Any]) -> list[dict[str, Any]]:
    text = filters["min"]
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput(f"{text!r} is not a whole number of at least 1", where="min")
    return board.leaderboard(get_session(), metric=filters["metric"], tag=filters["tag"] or None,
                             min_questions=int(text), with_crowd=filters["crowd"],
                             n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
                             seed=current_app.config["LEADERBOARD_SEED"])


@bp.get("/leaderboard")
def index():
    """The ranked table with metric, tag, minimum and crowd selectors."""
    filters = _filters()
    error, rows = None, []
    try:
        rows = _rows(filters)
    except InvalidInput as exc:
        error = exc
    return render_template("leaderboard/index.html", rows=_in_place(rows, filters["metric"]),
                           filters=filters, error=error, metrics=METRIC_NAMES,
                           scale=_scale(rows), tags=browse.tags_in_use(get_session())), \
        400 if error else 200


def _in_place(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The crowd's row moved among the ranked rows to where its score would place it."""
    crowd = [r for r in rows if r["rank"] is None]
    ranked = [r for r in rows if r["rank"] is not None]
    if not crowd or crowd[0][metric] is None:
        return ranked + crowd
    better = (lambda r: r[metric] < crowd[0][metric]) if metric in ("brier", "log") else \
        (lambda r: r[metric] > crowd[0][metric])
    at = sum(1 for r in ranked if better(r))
    return ranked[:at] + crowd + ranked[at:]


def _scale(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The range the interval bars share, so that rows compare at a glance."""
    ends = [v for r in rows for v in r["interval"] if v is not None]
    if not ends:
        return (0.0, 1.0)
    low, high = min(ends), max(ends)
    return (low, high if high > low else low + 1.0)


@bp.get("/leaderboard.csv")
def csv():
    """The same rows as a CSV download, formula-like cells neutralised."""
    filters = _filters()
    text = board.leaderboard_csv(_rows(filters))
    name = "leaderboard-" + filters["metric"] + (f"-{filters['tag']}" if filters["tag"] else "")
    safe = "".join(c for c in name if c.isalnum() or c in "-_")[:80]
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{safe}.csv"'})
