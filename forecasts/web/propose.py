"""Proposing a question (forecasters: a draft for review; admins: published at once), the
form's live check, and "my proposals"."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import proposals
from forecasts.web import question_form

bp = Blueprint("propose", __name__)


def _page(values, errors, preview=None, status: int = 200):
    admin = current_user.is_admin
    return render_template(
        "propose/form.html", values=values, errors=errors, preview=preview, admin=admin,
        rule_choices=question_form.rule_types(admin), ops=question_form.OPS), status


@bp.get("/propose")
@login_required
def form():
    """The empty form."""
    return _page(question_form.blank(timeutil.now()), {})


@bp.post("/propose")
@login_required
def submit():
    """"Preview" shows the page again with the rule in words; otherwise save the proposal
    (an admin's question is published) or show the errors inline."""
    session, user, now = get_session(), current_user.user, timeutil.now()
    data, errors = question_form.to_data(request.form, admin=user.is_admin)
    values = dict(request.form)
    if errors:
        return _page(values, errors, status=422)
    try:
        if request.form.get("action") == "preview":
            checked = proposals.check(session, data, admin=user.is_admin, now=now)
            values["derived_slug"] = checked.spec.slug
            return _page(values, {}, checked)
        if user.is_admin:
            question = proposals.create(session, data, user, now=now)
        else:
            question = proposals.propose(session, data, user, now=now)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return _page(values, question_form.errors_of(error, request.form), status=error.status)
    session.commit()
    if user.is_admin:
        flash(f"The question {question.slug} is published.", "success")
        return redirect(url_for("questions.detail", slug=question.slug), code=303)
    flash("Thank you: your proposal waits for an admin's review.", "success")
    return redirect(url_for(".mine"), code=303)


@bp.post("/propose/preview")
@login_required
def preview():
    """The live check (JSON): field errors, or the derived slug and the rule in words."""
    session, user = get_session(), current_user.user
    data, errors = question_form.to_data(request.form, admin=user.is_admin)
    if errors:
        return jsonify(ok=False, errors=errors, rule_text=None, slug=None)
    try:
        checked = proposals.check(session, data, admin=user.is_admin, now=timeutil.now())
    except (InvalidInput, Conflict) as error:
        return jsonify(ok=False, errors=question_form.errors_of(error, request.form),
                       rule_text=None, slug=None)
    finally:
        session.rollback()
    return jsonify(ok=True, errors={}, rule_text=checked.rule_text, slug=checked.spec.slug)


@bp.get("/propose/mine")
@login_required
def mine():
    """Your proposals: waiting, published, or rejected with the admin's reason."""
    return render_template("propose/mine.html",
                           questions=proposals.proposals_of(get_session(), current_user.user))
