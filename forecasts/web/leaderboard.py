"""The leaderboard page and its CSV download."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from forecasts.services.paging import page_number
from forecasts import timeutil
from forecasts.cache import cached
from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import board_page, browse
from forecasts.services import leaderboard as board

bp = Blueprint("leaderboard", __name__)

METRIC_NAMES = {"peer_global": "Global peer score", "brier": "Brier score",
                "log": "Log score", "peer": "Peer score (mean)",
                "peer_total": "Peer score (total)", "crps": "CRPS (numeric and date)"}
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
    "crps": "Mean over your numeric and date questions of how far your distribution was "
            "from the outcome (continuous ranked probability score, as a share of the "
            "range; 0 is a perfect point forecast). Lower is better.",
}
MAX_MIN_QUESTIONS = 1_000_000
DEFAULT_FORM = {"metric": board.DEFAULT_METRIC, "tag": "", "min_questions": "1", "from": "",
                "to": "", "crowd": True, "page": 1}


def _whole(text: str, high: int) -> bool:
    """Whether `text` is a whole number from 1 to `high` written in ASCII digits."""
    return text.isascii() and text.isdigit() and len(text) <= 7 and 1 <= int(text) <= high


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
    if not _whole(text, MAX_MIN_QUESTIONS):
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
    form["page"] = page_number(args.get("page"))
    return form, {"metric": metric, "tag": tag or None, "min_questions": int(text),
                  "resolved_from": dates["from"], "resolved_to": dates["to"],
                  "with_crowd": form["crowd"]}


def _rows(query: dict[str, Any]) -> list[dict[str, Any]]:
    config = current_app.config
    return board.leaderboard(get_session(), **query, n_boot=config["LEADERBOARD_BOOTSTRAP"],
                             seed=config["LEADERBOARD_SEED"],
                             peer_prior=config["LEADERBOARD_PEER_PRIOR"])


def _links(form: dict[str, Any]) -> dict[str, Any]:
    """The query arguments that reproduce these filters, for the page links (defaults left
    out, so links stay short)."""
    out: dict[str, Any] = {"metric": form["metric"]} if form["metric"] != board.DEFAULT_METRIC else {}
    out.update({k: form[k] for k in ("tag", "from", "to") if form[k]})
    if form["min_questions"] != "1":
        out["min_questions"] = form["min_questions"]
    if not form["crowd"]:
        out["crowd"] = 0
    return out


def _page(form: dict[str, Any], rows: list[dict[str, Any]], error: InvalidInput | None):
    prior = current_app.config["LEADERBOARD_PEER_PRIOR"]
    legend = {k: line.format(prior=f"{prior:g}") for k, line in METRIC_HELP.items()}
    # After a bad value even the login link's return path leaves the query out.
    extra = {"login_next": url_for("leaderboard.index")} if error else {}
    me = current_user.username if current_user.is_authenticated else None
    try:
        shown = board_page.page_of(rows, form["metric"], page=form["page"], username=me)
    except InvalidInput as exc:  # a page past the last: say so, show the filters
        error, form = exc, {**form, "page": 1}
        shown = board_page.page_of([], form["metric"])
    return render_template("leaderboard/index.html", board=shown, filters=form, error=error,
                           rows_html=_rows_html(shown, form), links=_links(form),
                           metrics=METRIC_NAMES, legend=legend,
                           lower_is_better=board.LOWER_IS_BETTER,
                           tags=browse.tags_in_use(get_session()), **extra), \
        400 if error else 200


def _rows_html(shown: board_page.BoardPage, form: dict[str, Any]) -> Markup | None:
    """The page's table rows as HTML, drawn once per content and metric and then cached,
    unless the viewer's own row (highlighted) is among them; None: render them in place."""
    if shown.viewer_here or not shown.rows:
        return None
    return cached(f"leaderboard-rows:{form['metric']}:{shown.digest}", lambda: Markup(
        render_template("leaderboard/_rows.html", shown_rows=shown.rows, board=shown,
                        filters=form)))


@bp.get("/leaderboard")
def index():
    """The ranked table with metric, tag, minimum, dates and crowd selectors, a page of
    forecasters at a time."""
    try:
        form, query = _parse()
        return _page(form, _rows(query), None)
    except InvalidInput as exc:
        return _page(DEFAULT_FORM, [], exc)


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
