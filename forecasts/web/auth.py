"""Register, log in, log out and change password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts.db import get_session
from forecasts.errors import AuthenticationRequired, Conflict, InvalidInput
from forecasts.services import accounts
from forecasts.limits import client_address
from forecasts.web.account import send_now
from forecasts.web.login import end_session, lockout, passwords, safe_next, start_session

bp = Blueprint("auth", __name__)


def _next() -> str:
    return safe_next(request.values.get("next"), url_for("questions.index"))


def _field(error: InvalidInput | Conflict | AuthenticationRequired) -> dict[str, str]:
    return {error.where or "form": error.message}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in, then go to `next` if it is on this site."""
    if request.method == "GET":
        return render_template("auth/login.html", next=_next(), errors={}, username="")
    session = get_session()
    username = request.form.get("username", "")[:80]
    try:
        user = accounts.log_in(session, username, request.form.get("password", ""),
                               passwords=passwords(), lockout=lockout(),
                               client=client_address())
    except AuthenticationRequired as error:
        session.commit()  # keep the failure count: it is what locks a guessed account
        return render_template("auth/login.html", next=_next(), errors=_field(error),
                               username=username), 401
    session.commit()
    start_session(user)
    flash(f"Welcome back, {user.username}.", "success")
    return redirect(_next(), code=303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a forecaster account and log it in."""
    if request.method == "GET":
        return render_template("auth/register.html", next=_next(), errors={}, username="",
                               address="")
    session = get_session()
    username = request.form.get("username", "")[:80]
    address = request.form.get("email", "")[:300]
    try:
        user = accounts.register(session, username, request.form.get("password", ""),
                                 request.form.get("confirm", ""), passwords=passwords(),
                                 address=address, settings=current_app.config)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return render_template("auth/register.html", next=_next(), errors=_field(error),
                               username=username, address=address), error.status
    session.commit()
    send_now()
    start_session(user)
    flash(f"Welcome, {user.username}. Pick a question and make your first forecast.", "success")
    if address.strip():
        flash(f"A confirmation link is on its way to {address.strip()}; the address counts "
              "once you follow it.", "info")
    return redirect(_next(), code=303)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks for confirmation; POST ends every session of the account."""
    if request.method == "GET":
        # Logging out changes state, so it takes a form (with its CSRF token), not a link.
        return render_template("auth/logout.html")
    if current_user.is_authenticated:
        session = get_session()
        accounts.end_sessions(session, current_user.user)
        session.commit()
    end_session()
    flash("You are logged out.", "info")
    return redirect(url_for("questions.index"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password; other sessions end."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    session = get_session()
    user = current_user.user
    try:
        revoked = accounts.change_password(session, user, request.form.get("current", ""),
                                           request.form.get("new", ""),
                                           request.form.get("confirm", ""),
                                           passwords=passwords())
    except InvalidInput as error:
        return render_template("auth/password.html", errors=_field(error)), error.status
    session.commit()
    # The new epoch voids every older session; this browser gets a fresh one.
    start_session(user)
    tokens = f" Your {revoked} API token{'s are' if revoked != 1 else ' is'} revoked." \
        if revoked else ""
    flash(f"Your password is changed. Other devices have been logged out.{tokens}", "success")
    return redirect(url_for("users.profile", username=user.username), code=303)
