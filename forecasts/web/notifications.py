"""The notification list (the bell), notification settings and one-click unsubscribe."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts.services.paging import page_number
from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import notification_inbox as inbox
from forecasts.services.notification_mail import LABELS

bp = Blueprint("notifications", __name__)


@bp.record_once
def _exempt_unsubscribe(state) -> None:
    # The signed token is the credential, and mail clients' one-click POST (RFC 8058)
    # carries no CSRF token.
    state.app.extensions["csrf"].exempt(f"{__name__}.unsubscribe_confirm")


@bp.app_context_processor
def unread_notifications():
    """`unread_notifications()` in templates: the bell's count (one COUNT query)."""
    return {"unread_notifications": lambda: inbox.unread_count(get_session(), current_user.user)}


@bp.get("/notifications")
@login_required
def index():
    """Your notifications, newest first."""
    number = page_number(request.args.get("page"))
    return render_template("notifications/index.html",
                           page=inbox.inbox(get_session(), current_user.user, number))


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark all your notifications read."""
    session = get_session()
    inbox.mark_all_read(session, current_user.user, timeutil.now())
    session.commit()
    flash("All notifications are marked read.", "success")
    return redirect(url_for(".index"), code=303)


def _settings_page(errors: dict[str, str] | None = None, values=None, status: int = 200):
    user = current_user.user
    return render_template("notifications/settings.html", user=user, labels=LABELS,
                           values=values or inbox.preferences(user),
                           errors=errors or {}), status, {"Cache-Control": "no-store"}


@bp.get("/settings")
@login_required
def settings():
    """Notification and display settings."""
    return _settings_page()


@bp.post("/settings")
@login_required
def save_settings():
    """Save the settings form."""
    session = get_session()
    try:
        inbox.save_preferences(session, current_user.user, request.form)
    except InvalidInput as error:
        session.rollback()
        return _settings_page({error.where or "form": error.message},
                              inbox.preferences(current_user.user), 422)
    session.commit()
    flash("Your settings are saved.", "success")
    return redirect(url_for(".settings"), code=303)


def _bad_link(error: InvalidInput):
    return render_template("notifications/unsubscribe.html", target=None,
                           problem=error.message, done=False), 400


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """What the link switches off, and a button to confirm (a GET changes nothing:
    mail scanners open links)."""
    try:
        target = inbox.unsubscribe_target(get_session(), current_app.config, token)
    except InvalidInput as error:
        return _bad_link(error)
    return render_template("notifications/unsubscribe.html", target=target, token=token,
                           done=False, problem=None)


@bp.post("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """Switch off what the link names; no login needed (also RFC 8058 one-click)."""
    session = get_session()
    try:
        target = inbox.unsubscribe_target(session, current_app.config, token)
    except InvalidInput as error:
        return _bad_link(error)
    inbox.unsubscribe(session, target)
    session.commit()
    return render_template("notifications/unsubscribe.html", target=target, token=token,
                           done=True, problem=None)
