"""Admins edit a question (a draft before approving it, or a published one); every edit
is kept in the question's history, which its page shows."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import DRAFT
from forecasts.services import question_edits
from forecasts.services.questions import definition, get_question
from forecasts.web import question_form
from forecasts.web.login import admin_required

bp = Blueprint("question_edit", __name__)


@bp.app_context_processor
def edit_history():
    """`question_revisions(question)` in templates: the edits the question page lists."""
    return {"question_revisions": lambda q: question_edits.revisions(get_session(), q)}


def _page(question, values, errors, status: int = 200):
    editable = question_edits.editable_fields(get_session(), question)
    locked = tuple(f for f in question_edits.FIELDS if f not in editable)
    return render_template(
        "propose/edit.html", question=question, values=values, errors=errors, locked=locked,
        rule_choices=question_form.rule_types(True), ops=question_form.OPS), status


@bp.get("/questions/<slug>/edit")
@admin_required
def edit(slug: str):
    """The question's form, filled in."""
    question = get_question(get_session(), slug, viewer=current_user.user)
    return _page(question, question_form.to_form(definition(question)), {})


@bp.post("/questions/<slug>/edit")
@admin_required
def save(slug: str):
    """Apply the edit and record it, or show the form again with the error inline."""
    session, now = get_session(), timeutil.now()
    question = get_question(session, slug, viewer=current_user.user)
    editable = question_edits.editable_fields(session, question)
    current = definition(question)
    data, errors = question_form.to_data(request.form, admin=True, fields=editable,
                                         current=current)
    values = {**question_form.to_form(current), **request.form}
    if errors:
        return _page(question, values, errors, 422)
    try:
        revision = question_edits.edit_question(session, question, data,
                                                actor=current_user.username, now=now)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return _page(question, values, question_form.errors_of(error, request.form), error.status)
    session.commit()
    flash("Saved." if revision else "Nothing changed.", "success" if revision else "info")
    if question.review_state == DRAFT:
        return redirect(url_for("review.draft", slug=slug), code=303)
    return redirect(url_for("questions.detail", slug=slug) + "#edits", code=303)
