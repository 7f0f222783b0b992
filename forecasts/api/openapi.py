"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from forecasts.api import params
from forecasts.api.blueprint import PREFIX, bp
from forecasts.api.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from forecasts.api.schemas import SCHEMAS, SORT_VALUES, ref
from forecasts.services.leaderboard import METRICS
from forecasts.services.question_list import STALE_DAYS
from forecasts.services.questions import STATUSES

ERRORS = {
    "400": "The request cannot be read: malformed JSON (NaN and Infinity included), wrong "
           "content type, an unknown or repeated query parameter.",
    "401": "No bearer token, or one that is malformed, unknown or revoked.",
    "403": "The token's user may not do this.",
    "404": "No such question (or no such endpoint).",
    "409": "The question's state forbids it: not open yet, closed, resolved or annulled, "
           "or its rule can already decide (the question is then settled by this request); "
           "scores of an unsettled question.",
    "413": "The body is larger than 256 KiB.",
    "422": "A value is wrong: out of bounds, wrong vector length, not summing to 1, "
           "unknown field, bad filter.",
    "default": "Any other error, in the same shape.",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(ok: str, schema: str, *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok: {"description": "Success.", "content": _json(ref(schema))}}
    for status in (*errors, "default"):
        out[status] = {"$ref": f"#/components/responses/E{status}"}
    return out


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


PAGING = [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"},
          {"$ref": "#/components/parameters/cursor"}]
SLUG = {"$ref": "#/components/parameters/slug"}
TEXT = {"type": "string", "maxLength": 200}
FLAG = {"type": "boolean", "default": False}

PATHS: dict[str, Any] = {
    "/questions": {"get": {
        "operationId": "listQuestions", "summary": "List questions with their crowd forecasts",
        "parameters": [
            _query("status", {"type": "string", "enum": list(STATUSES)}, "Only this status."),
            _query("tag", TEXT, "Only questions with this tag."),
            _query("q", TEXT, "Full-text search of title, description and slug: every word "
                   "must match, stemmed (tariffs finds tariff); best match first by default."),
            _query("sort", {"type": "string", "enum": SORT_VALUES, "default": "default"},
                   "default (best match when searching, else open questions closing soonest, "
                   "then upcoming, closed, and settled ones most recent first), closing "
                   "(soonest first), forecasters (most first) or newest."),
            _query("mine", FLAG, "Only questions you forecast (needs a token)."),
            _query("unforecast", FLAG, "Only questions you have not forecast (needs a token)."),
            _query("stale", FLAG, f"Only open questions whose latest forecast of yours is "
                   f"older than {STALE_DAYS} days (needs a token)."),
            *PAGING],
        "responses": _responses("200", "QuestionPage", "400", "401", "422")}},
    "/questions/{slug}": {"get": {
        "operationId": "getQuestion", "summary": "One question, its rule and crowd forecast",
        "parameters": [SLUG], "responses": _responses("200", "QuestionDetail", "400", "404")}},
    "/questions/{slug}/forecasts": {"post": {
        "operationId": "submitForecast", "summary": "Record your forecast now",
        "description": "Forecasts are append-only: an update is a new forecast. Binary "
                       "questions take `probability`, multiple-choice ones `probabilities`.",
        "security": [{"bearerAuth": []}], "parameters": [SLUG],
        "requestBody": {"required": True, "content": _json(ref("ForecastInput"))},
        "responses": _responses("201", "Forecast", "400", "401", "404", "409", "413", "422")}},
    "/questions/{slug}/scores": {"get": {
        "operationId": "getQuestionScores",
        "summary": "Scores on a settled question (as `forecasts scores SLUG --format json`)",
        "parameters": [SLUG], "responses": _responses("200", "Scores", "400", "404", "409")}},
    "/me/forecasts": {"get": {
        "operationId": "listMyForecasts", "summary": "Your forecasts, newest first",
        "security": [{"bearerAuth": []}],
        "parameters": [_query("question", TEXT, "Only forecasts on this question (slug)."),
                       *PAGING],
        "responses": _responses("200", "ForecastPage", "400", "401", "404", "422")}},
    "/leaderboard": {"get": {
        "operationId": "getLeaderboard",
        "summary": "Ranked forecasters (as `forecasts leaderboard --format json`)",
        "parameters": [
            _query("metric", {"type": "string", "enum": list(METRICS), "default": METRICS[0]},
                   "peer_global (the default: sum of peer / max(P, sum of coverage)), peer "
                   "and peer_total rank descending; brier and log ascending."),
            _query("tag", TEXT, "Only questions with this tag."),
            _query("min_questions", {"type": "integer", "minimum": 1, "default": 1},
                   "Only users with at least this many scored questions."),
            _query("with_crowd", {"type": "boolean", "default": False},
                   "Add the crowd as an unranked row."),
            _query("from", {"type": "string", "format": "date-time"},
                   "Only questions whose effective close is at or after this time."),
            _query("to", {"type": "string", "format": "date-time"},
                   "Only questions whose effective close is before this time.")],
        "responses": _responses("200", "Leaderboard", "400", "422")}},
    "/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This document",
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": _json({"type": "object"})},
                      "400": {"$ref": "#/components/responses/E400"}}}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Forecasts API", "version": "1",
             "description": "Questions, crowd forecasts, your forecasts, scores and "
                            "leaderboards. Reads are public; writes need "
                            "`Authorization: Bearer <token>` (create one on /tokens). "
                            'Errors are `{"error": {"code", "message"}}`.'},
    "servers": [{"url": PREFIX}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                           "description": "An API token from /tokens."}},
        "parameters": {
            "slug": {"name": "slug", "in": "path", "required": True,
                     "schema": {"type": "string"}, "description": "The question's slug."},
            "limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                      "default": DEFAULT_LIMIT}, "Rows per page."),
            "offset": _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET,
                                        "default": 0}, "Rows to skip (not with cursor)."),
            "cursor": _query("cursor", {"type": "string"},
                             "`next_cursor` of the previous page (not with offset)."),
        },
        "responses": {
            f"E{status}": {
                "description": text, "content": _json(ref("Error")),
                **({"headers": {"WWW-Authenticate": {
                    "description": 'Bearer realm="forecasts" (with error="invalid_token" '
                                   "for a rejected token).",
                    "schema": {"type": "string"}}}} if status == "401" else {})}
            for status, text in ERRORS.items()},
    },
}


@bp.get("/openapi.json", merge_slashes=False)
def document() -> Response:
    """The OpenAPI 3.1 description of every endpoint."""
    params.query()
    return jsonify(DOCUMENT)
