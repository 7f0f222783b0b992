"""Following questions: follow, unfollow, list what you follow."""
from __future__ import annotations

from forecasts.api.blueprint import bp  # noqa: F401
