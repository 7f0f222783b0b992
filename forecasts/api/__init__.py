"""The JSON API under /api/v1: one blueprint, authenticated by bearer tokens for writes."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprint, exempt it from CSRF and answer unknown /api/ paths in JSON."""
    # Importing the view modules adds their routes to the blueprint.
    from forecasts.api import errors, forecasts, leaderboard, openapi, questions  # noqa: F401
    from forecasts.api import comments, compare, follows  # noqa: F401
    from forecasts.api import track  # noqa: F401
    from forecasts.api import tournaments  # noqa: F401
    from forecasts.api.blueprint import bp

    app.register_blueprint(bp)
    # Token-authenticated: a cross-site request carries no credentials here.
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    app.before_request(errors.routing_error)
