"""Profiles: scores, calibration and forecasts of one forecaster; the admins' user list."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forecasts.services.paging import page_number
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import calibration, comparison, leaderboard, users
from forecasts.services import profile as profile_lists
from forecasts.services.users import get_user
from forecasts.web.charts import calibration_chart
from forecasts.web.login import admin_required, passwords, start_session

bp = Blueprint("users", __name__)


def _index(*, error: dict[str, str] | None = None, status: int = 200):
    page = render_template("users/index.html", members=users.directory(get_session()),
                           roles=users.ROLES, error=error)
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/users/")
@admin_required
def index():
    """The account list with roles and the admins' actions (admins only)."""
    return _index()


def _act(username: str, action, done: str):
    """Apply `action(session, user)` to the named user, commit and go back to the list;
    on a refused change, roll back and show the list with the error beside that user."""
    session = get_session()
    user = get_user(session, username)
    epoch = user.session_epoch
    try:
        action(session, user)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _index(error={"user": user.username, "field": exc.where or "form",
                             "message": exc.message}, status=exc.status)
    session.commit()
    me = current_user.user
    if user.id == me.id and user.active and user.session_epoch != epoch:
        # A new password voids the admin's own sessions too: keep this browser logged in.
        start_session(user)
    flash(done.format(name=user.username, role=user.role), "success")
    # An admin who demoted or deactivated themselves can no longer see the list.
    back = url_for(".index") if me.is_admin and me.active else url_for("questions.index")
    return redirect(back, code=303)


@bp.post("/users/<username>/role")
@admin_required
def set_role(username: str):
    """Make a user admin or forecaster (never the last active admin a forecaster)."""
    role = request.form.get("role", "")
    return _act(username, lambda s, u: users.set_role(s, u, role), "{name} is {role}.")


@bp.post("/users/<username>/password")
@admin_required
def set_password(username: str):
    """Set a user's password (never shown again) and end their sessions."""
    new = request.form.get("password", "")
    return _act(username, lambda s, u: users.set_password(s, u, new, passwords()),
                "The password of {name} is set; their sessions are ended.")


@bp.post("/users/<username>/deactivate")
@admin_required
def deactivate(username: str):
    """Stop a user logging in or using tokens; their forecasts stay scored."""
    return _act(username, users.deactivate,
                "{name} is deactivated: no login, no API tokens; forecasts stay scored.")


@bp.post("/users/<username>/reactivate")
@admin_required
def reactivate(username: str):
    """Let a deactivated user log in again."""
    return _act(username, users.reactivate, "{name} can log in again.")


def _comparison(session, user, text: str | None, number: int, boot: dict[str, int]):
    """(comparison, its page of rows, error message) for `?compare=`; all None without it."""
    if text is None:
        return None, None, None
    try:
        other = comparison.resolve_other(session, user, text)
    except InvalidInput as exc:
        return None, None, exc.message
    result, rows = comparison.compare_page(session, user, other, number, **boot)
    return result, rows, None


@bp.get("/users/<username>")
def profile(username: str):
    """A forecaster's standing, calibration, a page each of their scores (against the
    crowd's) and of the questions they forecast, and a comparison with another user or
    the crowd when `?compare=` names one."""
    session = get_session()
    user = get_user(session, username)
    config = current_app.config
    pages = {name: page_number(request.args.get(name), where=name)
             for name in ("scores_page", "forecasts_page", "compare_page")}
    boot = {"n_boot": config["LEADERBOARD_BOOTSTRAP"], "seed": config["LEADERBOARD_SEED"]}
    standing, ranked = leaderboard.standing(session, user, **boot,
                                            peer_prior=config["LEADERBOARD_PEER_PRIOR"])
    index = profile_lists.forecast_index(session, user)
    mine = calibration.calibration(session, user.username)
    compare_text = request.args.get("compare")
    compared, compare_rows, compare_error = _comparison(session, user, compare_text,
                                                        pages["compare_page"], boot)
    page = render_template(
        "users/profile.html", user=user, standing=standing, ranked=ranked,
        scores=profile_lists.scores_page(session, user, pages["scores_page"]),
        crowd_mark=comparison.crowd_mark,
        tally=comparison.against_crowd(session, user, **boot),
        calibration=mine,
        crowd_numeric=calibration.crowd_numeric(session) if mine["numeric"] else None,
        entries=profile_lists.forecast_page(session, user, pages["forecasts_page"], index=index),
        pages=pages, n_forecasts=index.n_forecasts, n_questions=len(index.question_ids),
        first_at=index.first_at, member_since=users.member_since(user, index.first_at),
        compare_text=(compare_text or "").strip()[:40], compared=compared,
        compare_rows=compare_rows, compare_error=compare_error,
        verdicts=comparison.VERDICTS)
    return page, 400 if compare_error else 200


@bp.get("/users/<username>/calibration.svg")
def calibration_svg(username: str):
    """The reliability diagram of a user as SVG."""
    session = get_session()
    user = get_user(session, username)
    svg = calibration.chart(session, user.username, lambda doc: render_template(
        "users/calibration.svg", chart=calibration_chart(doc), name=user.username))
    return Response(svg, mimetype="image/svg+xml")
