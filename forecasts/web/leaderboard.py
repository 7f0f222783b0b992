"""The leaderboard page and its CSV download."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import browse
from forecasts.services import leaderboard as board

bp = Blueprint("leaderboard", __name__)

METRIC_NAMES = {"peer_global": "Global peer score", "brier": "Brier score",
                "log": "Log score", "peer": "Peer score (mean)",
                "peer_total": "Peer score (total)"}
# One line per metric for the page's legend; {prior} is LEADERBOARD_PEER_PRIOR.
METRIC_HELP = {
    "peer_global": "Your peer scores summed, divided by the larger of {prior} and your total "
                   "coverage: doing better than the others on many questions counts, a lucky "
                   "few do not. Higher is better.",
    "brier": "Mean squared error of your probabilities (0 is perfect, 0.5 a coin flip on a "
             "yes/no question). Lower is better.",
    "log": "Mean of −ln of the probability you gave to what happened. Lower is better.",
    "peer": "Mean over your questions of how much better your log score was than the other "
            "forecasters’ at the same time, ×100. Higher is better.",
    "peer_total": "Your peer scores summed over your questions. Higher is better.",
}
MAX_MIN_QUESTIONS = 1_000_000
DEFAULT_FORM = {"metric": board.DEFAULT_METRIC, "tag": "", "min_questions": "1", "from": "",
                "to": "", "crowd": True}


def _parse() -> tuple[dict[str, Any], dict[str, Any]]:
    """The query string as (form values to show, service arguments). A bad value raises
    InvalidInput naming the parameter as the URL names it; messages never repeat the value
    (the page must not reflect what a link put there)."""
    args = request.args
    form = dict(DEFAULT_FORM)
    metric = args.get("metric", "").strip() or board.DEFAULT_METRIC
    if metric not in board.METRICS:
        raise InvalidInput(f"is not a metric (choose {', '.join(board.METRICS)})",
                           where="metric")
    form["metric"] = metric
    tag = args.get("tag", "").strip().lower()
    if tag and tag not in browse.tags_in_use(get_session()):
        raise InvalidInput("is not the tag of any question", where="tag")
    form["tag"] = tag
    # `min` is the name older links use.
    name = "min_questions" if "min_questions" in args or "min" not in args else "min"
    text = args.get(name, "").strip() or "1"
    if not (text.isascii() and text.isdigit() and len(text) <= 7
            and 1 <= int(text) <= MAX_MIN_QUESTIONS):
        raise InvalidInput("is not a whole number of at least 1", where=name)
    form["min_questions"] = str(int(text))
    dates = {}
    for key in ("from", "to"):
        raw = args.get(key, "").strip()
        try:
            dates[key] = timeutil.parse(raw, where=key) if raw and len(raw) <= 40 else None
        except InvalidInput:
            dates[key] = None
        if raw and dates[key] is None:
            raise InvalidInput("is not a date such as 2026-01-31", where=key)
        form[key] = raw
    # The form sends crowd=0 and, when ticked, crowd=1; a bare link shows the crowd.
    form["crowd"] = "1" in args.getlist("crowd") if "crowd" in args else True
    return form, {"metric": metric, "tag": tag or None, "min_questions": int(text),
                  "resolved_from": dates["from"], "resolved_to": dates["to"],
                  "with_crowd": form["crowd"]}


def _rows(query: dict[str, Any]) -> list[dict[str, Any]]:
    config = current_app.config
    return board.leaderboard(get_session(), **query, n_boot=config["LEADERBOARD_BOOTSTRAP"],
                             seed=config["LEADERBOARD_SEED"],
                             peer_prior=config["LEADERBOARD_PEER_PRIOR"])


def _page(form: dict[str, Any], rows: list[dict[str, Any]], error: InvalidInput | None):
    prior = current_app.config["LEADERBOARD_PEER_PRIOR"]
    legend = {k: line.format(prior=f"{prior:g}") for k, line in METRIC_HELP.items()}
    # After a bad value even the login link's return path leaves the query out.
    extra = {"login_next": url_for("leaderboard.index")} if error else {}
    return render_template("leaderboard/index.html", rows=_in_place(rows, form["metric"]),
                           filters=form, error=error, metrics=METRIC_NAMES, legend=legend,
                           lower_is_better=board.LOWER_IS_BETTER, scale=_scale(rows),
                           tags=browse.tags_in_use(get_session()), **extra), \
        400 if error else 200


@bp.get("/leaderboard")
def index():
    """The ranked table with metric, tag, minimum, dates and crowd selectors."""
    try:
        form, query = _parse()
        return _page(form, _rows(query), None)
    except InvalidInput as exc:
        return _page(DEFAULT_FORM, [], exc)


def _in_place(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The crowd's row moved among the ranked rows to where its score would place it."""
    crowd = [r for r in rows if r["rank"] is None]
    ranked = [r for r in rows if r["rank"] is not None]
    if not crowd or crowd[0][metric] is None:
        return ranked + crowd
    better = (lambda r: r[metric] < crowd[0][metric]) if metric in board.LOWER_IS_BETTER else \
        (lambda r: r[metric] > crowd[0][metric])
    at = sum(1 for r in ranked if better(r))
    return ranked[:at] + crowd + ranked[at:]


def _scale(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The range the interval bars share, so that rows compare at a glance."""
    ends = [v for r in rows if r["interval"] for v in r["interval"]]
    if not ends:
        return (0.0, 1.0)
    low, high = min(ends), max(ends)
    return (low, high if high > low else low + 1.0)


@bp.get("/leaderboard.csv")
def csv():
    """The same rows as a CSV download, formula-like cells neutralised."""
    try:
        form, query = _parse()
    except InvalidInput as exc:
        return _page(DEFAULT_FORM, [], exc)
    text = board.leaderboard_csv(_rows(query))
    name = "leaderboard-" + form["metric"] + (f"-{form['tag']}" if form["tag"] else "")
    safe = "".join(c for c in name if c.isalnum() or c in "-_")[:80]
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{safe}.csv"'})
