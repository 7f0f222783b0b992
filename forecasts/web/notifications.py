"""The notification list (the bell), notification settings and one-click unsubscribe."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)
