"""Following questions, reaffirming forecasts and the My forecasts page."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts.services.paging import page_number
from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import aggregation, follows, my_forecasts
from forecasts.services import questions as question_service
from forecasts.services.forecasts import JustSettled
from forecasts.services.question_list import latest_forecasts
from forecasts.web.forecast_form import ForecastForm
from forecasts.web.question_page import question_context, unsettled_histories

bp = Blueprint("follows", __name__)
FOLLOWING_PAGE = 50
# Where a form asks to return to: a fixed choice, never a URL from the request.
BACK = {"following": "follows.following", "my": "follows.mine"}


def _back(default: str, **values: str):
    endpoint = BACK.get(request.form.get("back", ""))
    target = url_for(endpoint) if endpoint else url_for("questions.detail", **values) + default
    return redirect(target, code=303)


def _set(slug: str, following: bool):
    session = get_session()
    question = question_service.get_question(session, slug)
    follows.set_following(session, current_user.user, question, following)
    session.commit()
    flash(f"You follow “{question.title}”." if following else
          f"You no longer follow “{question.title}”.", "success")
    return _back("#follow", slug=slug)


@bp.post("/questions/<slug>/follow")
@login_required
def follow(slug: str):
    """Follow a question: hear when it is about to close."""
    return _set(slug, True)


@bp.post("/questions/<slug>/unfollow")
@login_required
def unfollow(slug: str):
    """Stop following a question; forecasting it again does not follow it back."""
    return _set(slug, False)


@bp.get("/following")
@login_required
def following():
    """The questions I follow, most recently followed first."""
    session = get_session()
    number = page_number(request.args.get("page", ""))
    total = follows.count_followed(session, current_user.user)
    rows = follows.followed(session, current_user.user, now=timeutil.now(), limit=FOLLOWING_PAGE,
                            offset=(number - 1) * FOLLOWING_PAGE)
    return render_template("follows/following.html", rows=rows, total=total, number=number,
                           pages=max(1, -(-total // FOLLOWING_PAGE)))


@bp.post("/questions/<slug>/reaffirm")
@login_required
def reaffirm(slug: str):
    """Repeat my latest forecast now; a refusal shows as the forecast form's would."""
    session = get_session()
    question = question_service.get_question(session, slug)
    try:
        my_forecasts.reaffirm(session, question, current_user.user,
                              aggregator=aggregation.configured(current_app.config))
    except (InvalidInput, Conflict) as error:
        # As a refused forecast: nothing changes, except a settlement by the rule.
        if isinstance(error, JustSettled):
            session.commit()
        else:
            session.rollback()
        if request.form.get("back") == "my":
            flash(f"“{question.title}” was not reaffirmed: {error.message}", "error")
            return redirect(url_for(".mine"), code=303)
        user = current_user.user
        form = ForecastForm.prefilled(question, latest_forecasts(session, user, [question.id])
                                      .get(question.id))
        form.fail(error)
        context = question_context(session, question, user, timeutil.now(), form)
        return render_template("questions/detail.html", **context), error.status
    session.commit()
    flash("Your forecast is reaffirmed.", "success")
    return _back("#your-forecasts", slug=slug)


@bp.get("/my/forecasts")
@login_required
def mine():
    """My standing forecasts on open questions, oldest first, with the crowd's move."""
    session = get_session()
    listing = my_forecasts.page(session, current_user.user, now=timeutil.now(),
                                histories=unsettled_histories,
                                number=page_number(request.args.get("page", "")),
                                stale_days=current_app.config["STALE_DAYS"])
    return render_template("follows/my_forecasts.html", listing=listing,
                           stale_days=current_app.config["STALE_DAYS"]), \
        200, {"Cache-Control": "no-store"}


@bp.post("/my/forecasts/reaffirm")
@login_required
def reaffirm_all():
    """Reaffirm every listed forecast in one transaction; report the skipped ones."""
    session = get_session()
    outcome = my_forecasts.reaffirm_all(session, current_user.user, now=timeutil.now(),
                                        aggregator=aggregation.configured(current_app.config))
    session.commit()
    n = len(outcome.reaffirmed)
    flash(f"{n} forecast{'' if n == 1 else 's'} reaffirmed.", "success")
    for question, reason in outcome.skipped:
        flash(f"Skipped “{question.title}”: {reason}", "error")
    return redirect(url_for(".mine"), code=303)
