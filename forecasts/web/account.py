"""Email on an account: adding and verifying it, password reset by mail."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)
