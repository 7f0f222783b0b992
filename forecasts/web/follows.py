"""Following questions, reaffirming forecasts and the My forecasts page."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("follows", __name__)
