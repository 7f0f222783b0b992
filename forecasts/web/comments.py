"""Discussion on question pages: comments, replies, edits, hiding, the Atom feed."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("comments", __name__)
