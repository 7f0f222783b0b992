"""Email on an account: adding and verifying it, password reset by mail.

Links in mails only ever show a page on GET (mail scanners prefetch links); the change
happens on the POST of that page's form.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts.db import get_db, get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import delivery
from forecasts.services import email as email_service
from forecasts.web.login import passwords, start_session

bp = Blueprint("account", __name__)
NO_STORE = {"Cache-Control": "no-store"}
SENT_FORGOT = ("If an account has this address, a link to reset its password is on its way. "
               "It works for one hour.")


def send_now() -> None:
    """Hand the mail just committed to a background sender (never waits for SMTP); what
    it does not send, the scheduler's mail job does."""
    delivery.kick(get_db(), current_app.config)


def _errors(error: InvalidInput | Conflict) -> dict[str, str]:
    return {error.where or "form": error.message}


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def email():
    """Your address and its state; POST (with your password) mails a link to a new one."""
    user = current_user.user
    if request.method == "GET":
        return render_template("account/email.html", errors={}, address=""), 200, NO_STORE
    session = get_session()
    address = request.form.get("email", "")[:300]
    try:
        address = email_service.change_address(
            session, current_app.config, user, request.form.get("current", ""), address,
            passwords=passwords())
    except InvalidInput as error:
        session.rollback()
        return render_template("account/email.html", errors=_errors(error),
                               address=address), error.status, NO_STORE
    session.commit()
    send_now()
    # The same words whether or not the address is another account's.
    flash(f"A confirmation link is on its way to {address}. Your account keeps its current "
          "address until you follow it.", "success")
    return redirect(url_for(".email"), code=303)


@bp.route("/account/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    """GET shows the address and a button; POST makes the address the account's."""
    session = get_session()
    try:
        if request.method == "GET":
            proposal = email_service.pending(session, current_app.config, token)
            return render_template("account/verify.html", token=token,
                                   address=proposal.address, errors={}), 200, NO_STORE
        user = email_service.verify(session, current_app.config, token)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return render_template("account/verify.html", token=None, address=None,
                               errors=_errors(error)), error.status, NO_STORE
    session.commit()
    flash(f"Your email address {user.email} is confirmed.", "success")
    if current_user.is_authenticated and current_user.user.id == user.id:
        return redirect(url_for(".email"), code=303)
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a reset link; the answer never tells whether an account has the address."""
    if request.method == "GET":
        return render_template("account/forgot.html", errors={}, address="")
    session = get_session()
    address = request.form.get("email", "")[:300]
    try:
        email_service.request_reset(session, current_app.config, address)
    except InvalidInput as error:
        session.rollback()
        return render_template("account/forgot.html", errors=_errors(error),
                               address=address), error.status
    session.commit()
    send_now()
    flash(SENT_FORGOT, "info")
    return redirect(url_for(".forgot"), code=303)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """GET shows the new-password form; POST sets it, ending every other session."""
    session = get_session()
    try:
        if request.method == "GET":
            user = email_service.reset_target(session, current_app.config, token)
            return render_template("account/reset.html", token=token, username=user.username,
                                   errors={}), 200, NO_STORE
        user, revoked = email_service.reset_password(
            session, current_app.config, token, request.form.get("new", ""),
            request.form.get("confirm", ""), passwords=passwords())
    except InvalidInput as error:
        session.rollback()
        valid = error.where != "token"
        username = _username(token) if valid else None
        return render_template("account/reset.html", token=token if valid else None,
                               username=username, errors=_errors(error)), \
            error.status, NO_STORE
    session.commit()
    # The new epoch voided every session; this browser starts a fresh one.
    start_session(user)
    tokens = f" Your {revoked} API token{'s are' if revoked != 1 else ' is'} revoked." \
        if revoked else ""
    flash(f"Your password is changed and you are logged in. Other devices have been "
          f"logged out.{tokens}", "success")
    return redirect(url_for("users.profile", username=user.username), code=303)


def _username(token: str) -> str | None:
    try:
        return email_service.reset_target(get_session(), current_app.config, token).username
    except InvalidInput:
        return None
