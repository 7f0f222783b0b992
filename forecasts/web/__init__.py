"""Web blueprints, error pages and template helpers."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the page blueprints, the error pages and the template filters."""
    from forecasts.web import auth, errors, format, leaderboard, questions, tokens, users
    from forecasts.web import help, propose, question_edit, review
    from forecasts.web import account, comments, follows, notifications, tournaments
    from forecasts.web import track

    for module in (questions, auth, leaderboard, users, tokens, errors, propose, review,
                   question_edit, help, comments, notifications, account, follows, tournaments,
                   track):
        app.register_blueprint(module.bp)
    format.init_app(app)
