"""Comments on a question: list (public, hidden-crowd aware), post, edit, delete."""
from __future__ import annotations

from forecasts.api.blueprint import bp  # noqa: F401
