"""Question list, question pages, the forecast form and the crowd chart."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import browse, crowd
from forecasts.services import questions as question_service
from forecasts.services.forecasts import submit_forecast
from forecasts.services.resolution import effective_close
from forecasts.web.charts import crowd_chart
from forecasts.web.forecast_form import ForecastForm
from forecasts.web.question_page import chart_window, question_context

bp = Blueprint("questions", __name__)


def _user():
    return current_user.user if current_user.is_authenticated else None


@bp.get("/")
def index():
    """The question list with filters and sort."""
    session = get_session()
    filters = {"status": request.args.get("status", "").strip(),
               "tag": request.args.get("tag", "").strip(),
               "q": request.args.get("q", "").strip()[:200],
               "sort": request.args.get("sort", "").strip() or "closing"}
    error, rows = None, []
    try:
        rows = question_service.list_questions(
            session, now=timeutil.now(), status=filters["status"] or None,
            tag=filters["tag"] or None, search=filters["q"] or None, sort=filters["sort"])
    except InvalidInput as exc:
        error = exc
    crowds = crowd.current_crowds(session, [r.question.id for r in rows])
    return render_template(
        "questions/index.html", rows=rows, crowds=crowds, filters=filters, error=error,
        statuses=question_service.STATUSES, sorts=question_service.SORTS,
        tags=browse.tags_in_use(session)), 400 if error else 200


@bp.get("/questions/<slug>")
def detail(slug: str):
    """One question: crowd, rule, form, history, rationales, scores."""
    session = get_session()
    question = question_service.get_question(session, slug)
    return render_template("questions/detail.html",
                           **question_context(session, question, _user(), timeutil.now()))


@bp.post("/questions/<slug>")
@login_required
def submit(slug: str):
    """Record a forecast, or show the page again with the error inline."""
    session = get_session()
    question = question_service.get_question(session, slug)
    form = ForecastForm.from_request(question, request.form)
    try:
        submit_forecast(session, question, current_user.user, **form.payload())
    except (InvalidInput, Conflict) as error:
        session.rollback()
        form.fail(error)
        context = question_context(session, question, current_user.user, timeutil.now(), form)
        return render_template("questions/detail.html", **context), error.status
    session.commit()
    flash("Your forecast is saved.", "success")
    return redirect(url_for(".detail", slug=slug) + "#your-forecasts", code=303)


@bp.get("/questions/<slug>/crowd.svg")
def crowd_svg(slug: str):
    """The crowd chart; ?size=small is the narrow variant that phones load."""
    session = get_session()
    question = question_service.get_question(session, slug)
    resolution = question_service.current_resolution(session, question)
    settled_at = None if resolution is None else effective_close(question, resolution)
    label = None if resolution is None else (
        "annulled" if resolution.annulled else f"resolved: {resolution.outcome}")
    start, end = chart_window(question, settled_at, timeutil.now())
    chart = crowd_chart(question.options, question.kind == "binary",
                        crowd.crowd_history(session, question), start, end,
                        settled_at=settled_at, outcome=label,
                        compact=request.args.get("size") == "small")
    svg = render_template("questions/crowd.svg", chart=chart, question=question)
    # The page links the chart with a version that changes with every forecast.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})
