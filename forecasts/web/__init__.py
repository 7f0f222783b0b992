"""Web blueprints, error pages and template helpers."""
from __future__ import annotations

from flask import Flask

from forecasts import timeutil


def init_app(app: Flask) -> None:
    from forecasts.web import questions

    app.register_blueprint(questions.bp)
    app.jinja_env.filters["iso"] = timeutil.iso
    app.jinja_env.filters["date"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
