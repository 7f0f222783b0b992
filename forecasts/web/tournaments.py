"""Tournaments on the web: the list, each tournament's page with its questions and its
leaderboard, joining and leaving, and the admins' forms to create and edit one."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import ForecastsError, InvalidInput
from forecasts.models import Tournament
from forecasts.services import tournaments
from forecasts.services.paging import page_number
from forecasts.web.login import admin_required

bp = Blueprint("tournaments", __name__)

# The form's fields, in the order an error summary lists them, with their labels.
FIELDS = {"slug": "Slug", "title": "Title", "description": "Description", "start": "Starts",
          "end": "Ends", "questions": "Questions"}
MAX_SLUG_LIST = 10_000


def _viewer():
    return current_user.user if current_user.is_authenticated else None


@bp.get("/tournaments")
def index():
    """Every tournament with its dates and numbers of questions and members."""
    return render_template("tournaments/index.html",
                           rows=tournaments.list_tournaments(get_session()))


@bp.get("/tournaments/<slug>")
def detail(slug: str):
    """A tournament: description, dates, questions and the members' leaderboard."""
    shown = tournaments.page(get_session(), slug, viewer=_viewer(), now=timeutil.now(),
                             board_page=page_number(request.args.get("page")),
                             question_page=page_number(request.args.get("qpage"), where="qpage"))
    return render_template("tournaments/detail.html", page=shown, t=shown.tournament)


def _membership(slug: str, joining: bool):
    session = get_session()
    tournament = tournaments.get(session, slug)
    changed = (tournaments.join if joining else tournaments.leave)(
        session, slug, current_user.username)
    session.commit()
    if joining:
        flash(f"You joined “{tournament.title}”." if changed
              else f"You were already a member of “{tournament.title}”.", "success")
    else:
        flash(f"You left “{tournament.title}”." if changed
              else f"You were not a member of “{tournament.title}”.", "info")
    return redirect(url_for(".detail", slug=slug), code=303)


@bp.post("/tournaments/<slug>/join")
@login_required
def join(slug: str):
    """Become a member: appear on the tournament's leaderboard."""
    return _membership(slug, True)


@bp.post("/tournaments/<slug>/leave")
@login_required
def leave(slug: str):
    """Stop being a member: leave the tournament's leaderboard."""
    return _membership(slug, False)


def _local(moment: datetime | None) -> str:
    """A time as a datetime-local input's value (UTC)."""
    if moment is None:
        return ""
    moment = moment.astimezone(timeutil.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _values(tournament: Tournament) -> dict[str, str]:
    return {"slug": tournament.slug, "title": tournament.title,
            "description": tournament.description, "start": _local(tournament.start_at),
            "end": _local(tournament.end_at)}


def _details(form: Mapping[str, str], current: Tournament | None = None) -> dict[str, Any]:
    """Title, description, start and end from the form; a bad time raises InvalidInput
    naming its field. A time sent back as the edit form showed it keeps `current`'s exact
    value (the input shows no fractions of a second)."""
    out: dict[str, Any] = {"title": form.get("title", ""),
                           "description": form.get("description", "").replace("\r\n", "\n")}
    for name, kept in (("start", current and current.start_at),
                       ("end", current and current.end_at)):
        raw = form.get(name, "").strip()
        if len(raw) > 40:
            raise InvalidInput("is not a date and time such as 2026-01-31T12:00", where=name)
        out[name] = kept if kept is not None and raw == _local(kept) else \
            timeutil.parse_optional(raw, where=name)
    return out


def _field(error: ForecastsError) -> str:
    """The form field a service error names ("form" when it names none)."""
    name = (error.where or "").removeprefix("tournament.")
    return name if name in FIELDS else "form"


def _form(template: str, *, values: Mapping[str, str], errors: dict[str, str],
          status: int = 200, **context: Any):
    return render_template(f"tournaments/{template}", values=values, errors=errors,
                           labels=FIELDS, **context), status, {"Cache-Control": "no-store"}


@bp.get("/tournaments/new")
@admin_required
def new():
    """The form for a new tournament."""
    return _form("form.html", values={}, errors={})


@bp.post("/tournaments/new")
@admin_required
def create():
    """Create the tournament, or show the form again with the error at its field."""
    session = get_session()
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        details = _details(request.form)
        made = tournaments.create(session, values["slug"].strip(), details["title"],
                                  details["description"], start=details["start"],
                                  end=details["end"], actor=current_user.username)
    except ForecastsError as error:
        session.rollback()
        return _form("form.html", values=values, errors={_field(error): error.message},
                     status=error.status)
    session.commit()
    flash(f"Tournament “{made.title}” created. Add its questions below.", "success")
    return redirect(url_for(".edit", slug=made.slug), code=303)


def _edit_page(tournament: Tournament, values: Mapping[str, str], errors: dict[str, str],
               status: int = 200, added: str = ""):
    session = get_session()
    return _form("edit.html", values=values, errors=errors, status=status, t=tournament,
                 questions=tournaments.questions_of(session, tournament.slug), added=added)


@bp.get("/tournaments/<slug>/edit")
@admin_required
def edit(slug: str):
    """The tournament's details, its questions and the forms to change them."""
    tournament = tournaments.get(get_session(), slug)
    return _edit_page(tournament, _values(tournament), {})


def _slugs(text: str) -> list[str]:
    if len(text) > MAX_SLUG_LIST:
        raise InvalidInput(f"at most {MAX_SLUG_LIST} characters of slugs", where="questions")
    return [s for s in re.split(r"[\s,]+", text.strip()) if s]


@bp.post("/tournaments/<slug>/edit")
@admin_required
def save(slug: str):
    """One of the edit page's forms: `action` is details, add or remove."""
    session = get_session()
    tournament = tournaments.get(session, slug)
    action = request.form.get("action", "")
    values = _values(tournament)
    if action == "details":
        values.update({k: request.form.get(k, "") for k in ("title", "description", "start",
                                                            "end")})
    try:
        if action == "details":
            tournaments.update(session, slug, **_details(request.form, tournament))
            message = "Saved."
        elif action == "add":
            n = tournaments.add_questions(session, slug, _slugs(request.form.get("questions", "")))
            message = f"{n} question{'' if n == 1 else 's'} added."
        elif action == "remove":
            chosen = request.form.getlist("remove")
            if not chosen:
                raise InvalidInput("tick at least one question to remove", where="remove")
            n = tournaments.remove_questions(session, slug, chosen)
            message = f"{n} question{'' if n == 1 else 's'} removed."
        else:
            raise InvalidInput("is not one of details, add or remove", where="action")
    except ForecastsError as error:
        session.rollback()
        where = error.where or ""
        field = ("questions" if action == "add" else "remove") if where in (
            "questions", "remove") else _field(error)
        return _edit_page(tournaments.get(session, slug), values, {field: error.message},
                          error.status, added=request.form.get("questions", "")[:MAX_SLUG_LIST])
    session.commit()
    flash(message, "success")
    return redirect(url_for(".edit", slug=slug), code=303)
