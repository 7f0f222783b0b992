"""API tokens: create one (shown once), list and revoke your own."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import tokens as token_service

bp = Blueprint("tokens", __name__)


def _page(*, plain: str | None = None, errors: dict[str, str] | None = None, status: int = 200):
    session = get_session()
    return render_template("tokens/index.html", plain=plain, errors=errors or {},
                           tokens=token_service.user_tokens(session, current_user.user)), \
        status, {"Cache-Control": "no-store"}


@bp.get("/tokens")
@login_required
def index():
    """Your tokens."""
    return _page()


@bp.post("/tokens")
@login_required
def create():
    """Create a token and show it this once."""
    session = get_session()
    try:
        _token, plain = token_service.create_token(session, current_user.user,
                                                   request.form.get("label", ""))
    except InvalidInput as error:
        session.rollback()
        return _page(errors={error.where or "label": error.message}, status=error.status)
    session.commit()
    # Shown in this response only; the database keeps just its hash.
    return _page(plain=plain)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of your tokens."""
    session = get_session()
    token = token_service.revoke_token(session, current_user.user, token_id)
    session.commit()
    flash(f"Token {token.label or token.id} is revoked.", "info")
    return redirect(url_for(".index"), code=303)
