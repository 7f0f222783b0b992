"""The admins' review queue: proposals waiting as drafts, approved or rejected here."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forecasts import rules, timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import proposals
from forecasts.web.login import admin_required

bp = Blueprint("review", __name__)


@bp.app_context_processor
def waiting_proposals():
    """`waiting_proposals()` in templates: the count the admins' nav link shows."""
    return {"waiting_proposals": lambda: proposals.waiting_count(get_session())}


@bp.get("/review")
@admin_required
def index():
    """Drafts waiting for review, oldest first."""
    return render_template("review/index.html", items=proposals.waiting(get_session()))


def _draft_page(slug: str, errors: dict[str, str] | None = None, status: int = 200):
    session = get_session()
    question = proposals.get_draft(session, slug)
    proposer = proposals.proposer_of(session, question)
    return render_template("review/draft.html", question=question, proposer=proposer,
                           rule_text=rules.describe(question.rule, question),
                           errors=errors or {}, reason=request.form.get("reason", "")), status


@bp.get("/review/<slug>")
@admin_required
def draft(slug: str):
    """One draft: how it reads and resolves, with approve, edit and reject."""
    return _draft_page(slug)


@bp.post("/review/<slug>/approve")
@admin_required
def approve(slug: str):
    """Publish the draft."""
    session = get_session()
    question = proposals.get_draft(session, slug)
    try:
        proposals.approve(session, question, actor=current_user.username, now=timeutil.now())
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return _draft_page(slug, {"approve": error.message}, error.status)
    session.commit()
    flash(f"{question.slug} is published.", "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/review/<slug>/reject")
@admin_required
def reject(slug: str):
    """Reject the draft with a reason the proposer sees."""
    session = get_session()
    question = proposals.get_draft(session, slug)
    try:
        proposals.reject(session, question, request.form.get("reason", ""),
                         actor=current_user.username, now=timeutil.now())
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return _draft_page(slug, {"reason": error.message}, error.status)
    session.commit()
    flash(f"{question.slug} is rejected; its proposer sees your reason.", "info")
    return redirect(url_for(".index"), code=303)
