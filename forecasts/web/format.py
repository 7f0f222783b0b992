"""Jinja filters: numbers, probabilities and times as pages show them."""
from __future__ import annotations

import math
from datetime import datetime

from flask import Flask

from forecasts import markdown, timeutil

DASH = "—"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, digits: int = 1) -> str:
    """0.375 -> "37.5%"; trailing ".0" kept so columns line up."""
    if _missing(value):
        return DASH
    return f"{value * 100:.{digits}f}%"


def number(value: float | None, digits: int = 3) -> str:
    """A score with a fixed number of decimals."""
    if _missing(value):
        return DASH
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 1) -> str:
    """A peer score with its sign: "+12.3", "−4.0"."""
    if _missing(value):
        return DASH
    text = f"{value:+.{digits}f}"
    return text.replace("-", "\u2212")


def date(value: datetime | None) -> str:
    """A day in UTC: 01 Mar 2026."""
    return value.astimezone(timeutil.UTC).strftime("%d %b %Y") if value else ""


def when(value: datetime | None) -> str:
    """Date and time in UTC, as shown beside forecasts."""
    return value.astimezone(timeutil.UTC).strftime("%d %b %Y %H:%M UTC") if value else ""


def input_percent(value: float | None) -> str:
    """A probability as the text of a percent input: 0.375 -> "37.5", 0.4 -> "40"."""
    if _missing(value):
        return ""
    return f"{round(value * 100, 1):g}"


def init_app(app: Flask) -> None:
    """Register the filters."""
    filters = {"percent": percent, "number": number, "signed": signed, "date": date,
               "when": when, "iso": timeutil.iso, "input_percent": input_percent,
               "markdown": markdown.render}
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["zip"] = zip
    # Password fields hint the server's own minimum (one definition, services.users).
    from forecasts.services.users import MIN_PASSWORD

    app.jinja_env.globals["min_password"] = MIN_PASSWORD
