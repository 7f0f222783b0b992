"""Question list and question pages."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.services import questions as question_service

bp = Blueprint("questions", __name__)


@bp.get("/")
def index():
    rows = question_service.list_questions(
        get_session(), now=timeutil.now(), status=request.args.get("status") or None,
        tag=request.args.get("tag") or None, search=request.args.get("q") or None,
        sort=request.args.get("sort") or "closing")
    return render_template("questions/index.html", rows=rows)
