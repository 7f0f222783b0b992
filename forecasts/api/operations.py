"""Every operation's query parameters and request body, declared once.

The OpenAPI document (forecasts.api.openapi) publishes these declarations and the request
parsing (forecasts.api.params) enforces them with forecasts.api.validate: a limit changed
here changes both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forecasts import config
from forecasts.services.leaderboard import DEFAULT_METRIC, METRICS
from forecasts.services.questions import STATUSES
from forecasts.api.schemas import SORT_VALUES

Schema = dict[str, Any]

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_OFFSET = 1_000_000_000
MAX_CURSOR = 200
MAX_TEXT = 200
MAX_MIN_QUESTIONS = 1_000_000
# Empty or all-space text is refused: `tag=` filtering by nothing is a client's mistake.
TEXT: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": r"\S",
                "x-pattern-message": "is only spaces"}
FLAG: Schema = {"type": "boolean", "default": False}
TIME: Schema = {"type": "string", "format": "date-time", "minLength": 1, "maxLength": 40}
# Booleans also read 1/0, yes/no, on/off; like every parameter, not an empty value.
FLAG_NOTE = " true or false (also 1/0, yes/no, on/off)."


@dataclass(frozen=True)
class Param:
    """One query parameter: its name, JSON Schema and description."""

    name: str
    schema: Schema
    description: str

    def openapi(self) -> Schema:
        """The OpenAPI parameter object."""
        return {"name": self.name, "in": "query", "required": False, "schema": self.schema,
                "description": self.description}


LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT}, "Rows per page.")
OFFSET = Param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET,
                          "default": 0}, "Rows to skip (not with cursor).")
CURSOR = Param("cursor", {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR,
                          "pattern": "^[A-Za-z0-9_-]+$",
                          "x-pattern-message": "is not a cursor this list gave out"},
               "`next_cursor` of the previous page (not with offset).")
PAGING = (LIMIT, OFFSET, CURSOR)
TAG = Param("tag", TEXT, "Only questions with this tag.")

QUERY: dict[str, tuple[Param, ...]] = {
    "listQuestions": (
        Param("status", {"type": "string", "enum": list(STATUSES)}, "Only this status."),
        TAG,
        Param("q", TEXT, "Full-text search of title, description and slug: every word "
              "must match, stemmed (tariffs finds tariff); best match first by default."),
        Param("sort", {"type": "string", "enum": SORT_VALUES, "default": "default"},
              "default (best match when searching, else open questions closing soonest, "
              "then upcoming, closed, and settled ones most recent first), closing "
              "(soonest first), forecasters (most first) or newest."),
        Param("mine", FLAG, "Only questions you forecast (needs a token);" + FLAG_NOTE),
        Param("unforecast", FLAG, "Only questions you have not forecast (needs a token);"
              + FLAG_NOTE),
        Param("stale", FLAG, "Only open questions whose latest forecast of yours is older "
              f"than the site's STALE_DAYS setting ({config.DEFAULTS['STALE_DAYS']} days "
              "by default; needs a token);" + FLAG_NOTE),
        *PAGING),
    "getQuestion": (),
    "submitForecast": (),
    "getQuestionScores": (),
    "listMyForecasts": (Param("question", TEXT, "Only forecasts on this question (slug)."),
                        *PAGING),
    "getLeaderboard": (
        Param("metric", {"type": "string", "enum": list(METRICS), "default": DEFAULT_METRIC},
              "peer_global (the default: sum of peer / max(P, sum of coverage)), peer "
              "and peer_total rank descending; brier and log ascending."),
        TAG,
        Param("min_questions", {"type": "integer", "minimum": 1,
                                "maximum": MAX_MIN_QUESTIONS, "default": 1},
              "Only users with at least this many scored questions."),
        Param("with_crowd", FLAG, "Add the crowd as an unranked row;" + FLAG_NOTE),
        Param("from", TIME, "Only questions whose effective close is at or after this "
              "time (ISO 8601; naive is UTC)."),
        Param("to", TIME, "Only questions whose effective close is before this time "
              "(ISO 8601; naive is UTC).")),
    "followQuestion": (),
    "unfollowQuestion": (),
    "listMyFollows": PAGING,
    "reaffirmForecast": (),
    "listComments": PAGING,
    "postComment": (),
    "editComment": (),
    "deleteComment": (),
    "getOpenApi": (),
    "compareUsers": (Param("with", {**TEXT, "maxLength": 40, "default": "crowd"},
                           'Another username, or "crowd" (the default).'), LIMIT, OFFSET),
    "listTournaments": PAGING,
    "getTournament": (),
    "joinTournament": (),
    "leaveTournament": (),
}
QUERY["getTrackRecord"] = (
    Param("tag", TEXT, "Only questions with this tag (one no question has is an error)."),
    Param("tournament", {**TEXT, "maxLength": 80}, "Only the questions of this tournament "
          "(its slug; an unknown one is 404)."),
    Param("from", TIME, "Only questions whose effective close is at or after this time "
          "(ISO 8601; naive is UTC)."),
    Param("to", TIME, "Only questions whose effective close is before this time (ISO 8601; "
          "naive is UTC); after `from`."))
# Request bodies by operation: a component schema of forecasts.api.schemas, and the name
# its fields are reported under (`forecast.probability`), as the services name them.
BODY: dict[str, tuple[str, str]] = {"submitForecast": ("ForecastInput", "forecast"),
                                    "postComment": ("CommentInput", "comment"),
                                    "editComment": ("CommentEdit", "comment")}
