"""The API's one blueprint; the view modules add their routes to it."""
from __future__ import annotations

from flask import Blueprint

PREFIX = "/api/v1"
# Routes are added with merge_slashes=False: werkzeug would otherwise answer
# /api/v1/questions//x with an HTML redirect, and the API answers only in JSON.
bp = Blueprint("api", __name__, url_prefix=PREFIX)
