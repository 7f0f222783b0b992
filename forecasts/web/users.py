"""Profiles: scores, calibration and forecasts of one forecaster; the admins' user list."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from forecasts.db import get_session
from forecasts.services import browse, calibration, leaderboard, scores
from forecasts.services.users import get_user
from forecasts.web.charts import calibration_chart
from forecasts.web.login import admin_required

bp = Blueprint("users", __name__)


@bp.get("/users/")
@admin_required
def index():
    """The account list with roles (admins only)."""
    return render_template("users/index.html", users=browse.user_directory(get_session()))


@bp.get("/users/<username>")
def profile(username: str):
    """A forecaster's standing, scores, calibration and forecasts."""
    session = get_session()
    user = get_user(session, username)
    standing, ranked = leaderboard.standing(session, user,
                                            n_boot=current_app.config["LEADERBOARD_BOOTSTRAP"],
                                            seed=current_app.config["LEADERBOARD_SEED"])
    n_forecasts, n_questions, first_at = browse.user_activity(session, user)
    return render_template(
        "users/profile.html", user=user, standing=standing, ranked=ranked,
        scores=scores.user_scores(session, user),
        calibration=calibration.calibration(session, user.username),
        entries=browse.user_questions(session, user),
        n_forecasts=n_forecasts, n_questions=n_questions, first_at=first_at)


@bp.get("/users/<username>/calibration.svg")
def calibration_svg(username: str):
    """The reliability diagram of a user as SVG."""
    session = get_session()
    user = get_user(session, username)
    doc = calibration.calibration(session, user.username)
    svg = render_template("users/calibration.svg", chart=calibration_chart(doc), name=user.username)
    return Response(svg, mimetype="image/svg+xml")
