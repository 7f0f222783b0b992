"""Question list, question pages, the forecast form and the crowd chart."""
from __future__ import annotations

from functools import lru_cache

from flask import (Blueprint, Response, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from markupsafe import Markup

from forecasts.services.paging import page_number
from forecasts import markdown, timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.services import aggregation, browse, question_list, tournaments, visibility
from forecasts.services import questions as question_service
from forecasts.services.forecasts import JustSettled, submit_forecast
from forecasts.services.question_stats import stats_of
from forecasts.services.resolution import effective_close
from forecasts.web.charts import crowd_chart
from forecasts.web.forecast_form import ForecastForm
from forecasts.web.numeric_charts import band_chart
from forecasts.services import numeric_view
from forecasts.web.numeric_view import forecast_median, forecast_text, outcome_text, page_crowd
from forecasts.web.numeric_view import value_text as numeric_value_text
from forecasts.web.question_page import chart_window, page_history, question_context

bp = Blueprint("questions", __name__)
# Numeric and date values in words, for the shared macros (forecast lists, outcomes).
bp.add_app_template_global(forecast_text, "numeric_forecast_text")
bp.add_app_template_global(outcome_text, "numeric_outcome_text")
bp.add_app_template_global(forecast_median, "numeric_forecast_median")


def _user():
    return current_user.user if current_user.is_authenticated else None


# Rendered Markdown of short texts (comments, descriptions), the same for every viewer:
# kept by text, so a busy question's page renders its thread's bodies once per process.
CACHED_MARKDOWN_CHARS = 2000
_cached_markdown = lru_cache(maxsize=2048)(markdown.render)


@bp.app_template_filter("markdown_cached")
def markdown_cached(text: str | None) -> Markup:
    """The `markdown` filter, remembered for texts up to CACHED_MARKDOWN_CHARS long."""
    if text is not None and len(text) <= CACHED_MARKDOWN_CHARS:
        return _cached_markdown(text)
    return markdown.render(text)


@bp.get("/")
def index():
    """The question list: search, filters, sort and pages of 25."""
    session = get_session()
    filters = {name: request.args.get(name, "").strip()
               for name in ("q", "status", "tag", "show", "sort", "tournament")}
    filters["q"], filters["tournament"] = filters["q"][:200], filters["tournament"][:80]
    if filters["show"] and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    error, listing = None, None
    try:
        listing = question_list.question_page(
            session, now=timeutil.now(), page=page_number(request.args.get("page", "")),
            status=filters["status"] or None, tag=filters["tag"] or None,
            search=filters["q"] or None, sort=filters["sort"] or "default", user=_user(),
            own=filters["show"] or None, stale_days=current_app.config["STALE_DAYS"],
            tournament=filters["tournament"] or None)
    except InvalidInput as exc:
        error = exc
    rows = listing.rows if listing else []
    medians = numeric_view.current_medians(session, [
        (r.question, r.resolution) for r in rows if r.question.continuous and not r.crowd_hidden])
    return render_template(
        "questions/index.html", listing=listing, rows=rows, filters=filters, error=error,
        crowds={r.question.id: (r.crowd, r.forecasters) for r in rows},
        medians={r.question.id: numeric_value_text(r.question, medians[r.question.id][0])
                 for r in rows if r.question.id in medians},
        hidden={r.question.id for r in rows if r.crowd_hidden},
        link_args={k: v for k, v in filters.items() if v}, statuses=question_service.STATUSES,
        stale_days=current_app.config["STALE_DAYS"], tags=browse.tags_in_use(session),
        tournaments=tournaments.choices(session)), 400 if error else 200


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
        submit_forecast(session, question, current_user.user, **form.payload(),
                        aggregator=aggregation.configured(current_app.config))
    except (InvalidInput, Conflict) as error:
        # A refusal changes nothing, except that a question its rule could decide is settled.
        if isinstance(error, JustSettled):
            session.commit()
        else:
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
    # Before any cached figure is read: a viewer the crowd is hidden from gets none.
    if not visibility.crowd_visible(session, question, _user(), resolution=resolution):
        raise NotFound(f"the crowd of {slug!r} is hidden until you forecast it",
                       where="question")
    settled_at = None if resolution is None else effective_close(question, resolution)
    label = None if resolution is None else (
        "annulled" if resolution.annulled else f"resolved: {resolution.outcome}")
    start, end = chart_window(question, settled_at, timeutil.now())
    if question.continuous:
        found = page_crowd(session, question, resolution, stats_of(session, question))
        value = resolution.value if resolution is not None and not resolution.annulled else None
        chart = band_chart(question, found.points, start, end, outcome=value,
                           settled_at=settled_at)
        svg = render_template("questions/_numeric_band.svg", chart=chart, question=question)
        return Response(svg, mimetype="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=60"})
    history = page_history(session, question, resolution, stats_of(session, question))
    chart = crowd_chart(question.options, question.kind == "binary", history.points, start, end,
                        empty="No forecasts before the outcome was known" if history.late
                        else None,
                        settled_at=settled_at, outcome=label,
                        compact=request.args.get("size") == "small")
    svg = render_template("questions/crowd.svg", chart=chart, question=question)
    # The page links the chart with a version that changes with every forecast.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})
