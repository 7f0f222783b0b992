"""Forecasts: forecast tracking and scoring. `create_app` is the Flask app factory."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # Flask is imported inside create_app so that the CLI starts fast.
    from flask import Flask


def template_folder() -> str:
    """templates/ ships inside the package in a wheel and sits beside it in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    return str(packaged if packaged.is_dir() else here.parent / "templates")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application; `config` overrides settings from the environment."""
    from flask import Flask

    from forecasts import config as settings
    from forecasts import api, cache, db, limits, web
    from forecasts.web import login, page_cache, security

    values = settings.load(config)
    settings.require_secret_key(values)
    app = Flask(__name__, instance_path=values["FORECASTS_INSTANCE_PATH"],
                template_folder=template_folder(), static_folder="static")
    app.config.update(values)
    app.config["TESTING"] = values.get("TESTING", values["FORECASTS_ENV"] == "testing")
    db.init_app(app)
    cache.init_app(app)  # leaderboards and calibration, keyed on the score version
    # App-wide, so they cover every blueprint: CSRF on forms, login sessions, headers.
    security.init_app(app)
    login.init_app(app)
    page_cache.init_app(app)  # anonymous GETs, keyed on the write version
    web.init_app(app)
    api.init_app(app)
    limits.init_app(app)  # wraps the views registered above, so it comes last
    return app
