"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from forecasts.api import params
from forecasts.api.blueprint import PREFIX, bp
from forecasts.api.operations import BODY, QUERY
from forecasts.api.schemas import SCHEMAS, ref

ERRORS = {
    "400": "The request cannot be read: malformed JSON (NaN and Infinity included), a key "
           "repeated in a JSON object, wrong content type, an unknown or repeated query "
           "parameter.",
    "401": "No bearer token, or one that is malformed, unknown or revoked.",
    "403": "The token's user may not do this.",
    "404": "No such question, comment, tournament or user (or no such endpoint).",
    "409": "The question's state forbids it: not open yet, closed, resolved or annulled, "
           "or its rule can already decide (the question is then settled by this request); "
           "scores of an unsettled question; a comment deleted, or past its edit window.",
    "413": "The body is larger than 256 KiB.",
    "429": "Too many writes with this token (RATELIMIT_API_WRITE); wait the Retry-After "
           "header's seconds.",
    "422": "A value is wrong: out of its declared schema (an empty parameter included), "
           "wrong vector length, not summing to 1, unknown field, bad filter or cursor.",
    "default": "Any other error, in the same shape.",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(ok: str, schema: str, *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok: {"description": "Success.", "content": _json(ref(schema))}}
    for status in (*errors, "default"):
        out[status] = {"$ref": f"#/components/responses/E{status}"}
    return out


def _params(operation: str, *first: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters as declared in forecasts.api.operations."""
    return [*first, *(param.openapi() for param in QUERY[operation])]


def _body(operation: str) -> dict[str, Any]:
    return {"required": True, "content": _json(ref(BODY[operation][0]))}


SLUG = {"$ref": "#/components/parameters/slug"}
COMMENT_ID = {"$ref": "#/components/parameters/comment_id"}
USERNAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "The forecaster's username."}
TOURNAMENT_SLUG = {"name": "slug", "in": "path", "required": True,
                   "schema": {"type": "string"}, "description": "The tournament's slug."}
MEMBERSHIP = ("A forecaster changes their own membership; an admin anyone's (else 403). "
              "404 for an unknown tournament or user.")

# The hidden crowd (visibility.py) depends on who reads.
VIEWER = ("The token is optional: with one, `crowd` is what its user may see (hidden "
          "until their first forecast on a question that hides its crowd); without one, "
          "what a logged-out viewer sees.")
PATHS: dict[str, Any] = {
    "/questions": {"get": {
        "operationId": "listQuestions", "summary": "List questions with their crowd forecasts",
        "description": VIEWER, "security": [{}, {"bearerAuth": []}],
        "parameters": _params("listQuestions"),
        "responses": _responses("200", "QuestionPage", "400", "401", "422")}},
    "/questions/{slug}": {"get": {
        "operationId": "getQuestion", "summary": "One question, its rule and crowd forecast",
        "description": VIEWER, "security": [{}, {"bearerAuth": []}],
        "parameters": _params("getQuestion", SLUG),
        "responses": _responses("200", "QuestionDetail", "400", "401", "404")}},
    "/questions/{slug}/forecasts": {"post": {
        "operationId": "submitForecast", "summary": "Record your forecast now",
        "description": "Forecasts are append-only: an update is a new forecast. Binary "
                       "questions take `probability`, multiple-choice ones `probabilities`, "
                       "numeric and date ones a `cdf` of 201 values or `quantiles` "
                       "(answered with the stored CDF).",
        "security": [{"bearerAuth": []}], "parameters": _params("submitForecast", SLUG),
        "requestBody": _body("submitForecast"),
        "responses": _responses("201", "Forecast", "400", "401", "404", "409", "413", "422", "429")}},
    "/questions/{slug}/scores": {"get": {
        "operationId": "getQuestionScores",
        "summary": "Scores on a settled question (as `forecasts scores SLUG --format json`)",
        "parameters": _params("getQuestionScores", SLUG),
        "responses": _responses("200", "Scores", "400", "404", "409")}},
    "/me/forecasts": {"get": {
        "operationId": "listMyForecasts", "summary": "Your forecasts, newest first",
        "security": [{"bearerAuth": []}],
        "parameters": _params("listMyForecasts"),
        "responses": _responses("200", "ForecastPage", "400", "401", "404", "422")}},
    "/questions/{slug}/comments": {
        "get": {
            "operationId": "listComments",
            "summary": "The question's comments and replies, newest first",
            "description": "Reads are public. With a token, the hidden crowd is what its user "
                           "may see: while it is hidden, other users' rationale comments "
                           "(and replies under them) are left out and no forecast is shown.",
            "security": [{}, {"bearerAuth": []}],
            "parameters": _params("listComments", SLUG),
            "responses": _responses("200", "CommentPage", "400", "401", "404", "422")},
        "post": {
            "operationId": "postComment", "summary": "Post a comment or a reply",
            "security": [{"bearerAuth": []}], "parameters": _params("postComment", SLUG),
            "requestBody": _body("postComment"),
            "responses": _responses("201", "Comment", "400", "401", "403", "404", "409", "413",
                                    "422", "429")}},
    "/comments/{comment_id}": {
        "patch": {
            "operationId": "editComment",
            "summary": "Edit your comment (within 15 minutes of posting it)",
            "security": [{"bearerAuth": []}], "parameters": _params("editComment", COMMENT_ID),
            "requestBody": _body("editComment"),
            "responses": _responses("200", "Comment", "400", "401", "403", "404", "409", "413",
                                    "422", "429")},
        "delete": {
            "operationId": "deleteComment",
            "summary": "Delete your comment (it stays, without its body, while it has replies)",
            "security": [{"bearerAuth": []}],
            "parameters": _params("deleteComment", COMMENT_ID),
            "responses": _responses("200", "Comment", "400", "401", "403", "404", "409",
                                    "429")}},
    "/leaderboard": {"get": {
        "operationId": "getLeaderboard",
        "summary": "Ranked forecasters (as `forecasts leaderboard --format json`)",
        "parameters": _params("getLeaderboard"),
        "responses": _responses("200", "Leaderboard", "400", "422")}},
    "/questions/{slug}/follow": {
        "put": {
            "operationId": "followQuestion", "summary": "Follow a question (idempotent)",
            "description": "Followers hear when the question is about to close. Forecasting "
                           "a question follows it, unless you unfollowed it before.",
            "security": [{"bearerAuth": []}], "parameters": _params("followQuestion", SLUG),
            "responses": _responses("200", "Follow", "400", "401", "404", "429")},
        "delete": {
            "operationId": "unfollowQuestion", "summary": "Stop following a question",
            "description": "Idempotent; the choice sticks: a later forecast does not follow "
                           "the question again.",
            "security": [{"bearerAuth": []}], "parameters": _params("unfollowQuestion", SLUG),
            "responses": _responses("200", "Follow", "400", "401", "404", "429")}},
    "/me/follows": {"get": {
        "operationId": "listMyFollows",
        "summary": "The questions you follow, most recently followed first",
        "security": [{"bearerAuth": []}], "parameters": _params("listMyFollows"),
        "responses": _responses("200", "FollowPage", "400", "401", "422")}},
    "/questions/{slug}/reaffirm": {"post": {
        "operationId": "reaffirmForecast", "summary": "Record your latest forecast again now",
        "description": "A new forecast with the same probabilities and rationale as your "
                       "latest one on the question (no new comment). 409 when you have not "
                       "forecast it, or it takes no forecasts (as for a new forecast).",
        "security": [{"bearerAuth": []}], "parameters": _params("reaffirmForecast", SLUG),
        "responses": _responses("201", "Forecast", "400", "401", "404", "409", "429")}},
    "/users/{username}/compare": {"get": {
        "operationId": "compareUsers",
        "summary": "A forecaster against another or the crowd, on the questions both scored",
        "description": "Per metric (peer and Brier against a user; Brier and log against "
                       "the crowd) the mean difference user - with, its paired bootstrap "
                       "interval and a verdict; then the questions, latest close first.",
        "parameters": _params("compareUsers", USERNAME),
        "responses": _responses("200", "Comparison", "400", "404", "422")}},
    "/tournaments": {"get": {
        "operationId": "listTournaments",
        "summary": "The tournaments, newest first, with their numbers of questions and members",
        "parameters": _params("listTournaments"),
        "responses": _responses("200", "TournamentPage", "400", "422")}},
    "/tournaments/{slug}": {"get": {
        "operationId": "getTournament",
        "summary": "A tournament, its questions and its leaderboard",
        "description": "The leaderboard ranks the members by the sum of their peer scores "
                       "over the tournament's scored questions (ties share a rank); members "
                       "without a scored question come last, unranked.",
        "parameters": _params("getTournament", TOURNAMENT_SLUG),
        "responses": _responses("200", "TournamentDetail", "400", "404")}},
    "/tournaments/{slug}/members/{username}": {
        "put": {
            "operationId": "joinTournament", "summary": "Join a tournament (idempotent)",
            "description": MEMBERSHIP,
            "security": [{"bearerAuth": []}],
            "parameters": _params("joinTournament", TOURNAMENT_SLUG, USERNAME),
            "responses": _responses("200", "Membership", "400", "401", "403", "404", "429")},
        "delete": {
            "operationId": "leaveTournament", "summary": "Leave a tournament (idempotent)",
            "description": MEMBERSHIP,
            "security": [{"bearerAuth": []}],
            "parameters": _params("leaveTournament", TOURNAMENT_SLUG, USERNAME),
            "responses": _responses("200", "Membership", "400", "401", "403", "404", "429")}},
    "/users/{username}/track-record": {"get": {
        "operationId": "getTrackRecord",
        "summary": "A forecaster's track record: rolling scores, horizons, discrimination",
        "description": "Over the user's scored questions in the filters, by effective close: "
                       "peer, Brier and relative Brier (Brier - the crowd's) with their "
                       "means over the questions settled in the `rolling_days` before; per "
                       "horizon (time before the effective close) the mean Brier of the "
                       "forecasts, each weighted by the share of the user's time on its "
                       "question it stood; the weighted ROC AUC of binary forecasts with a "
                       "bootstrap interval over questions; the calibration bins with their "
                       "numbers of forecasts and questions.",
        "parameters": _params("getTrackRecord", USERNAME),
        "responses": _responses("200", "TrackRecord", "400", "404", "422")}},
    "/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This document",
        "parameters": _params("getOpenApi"),
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
            "comment_id": {"name": "comment_id", "in": "path", "required": True,
                           "schema": {"type": "integer", "minimum": 1},
                           "description": "The comment's id."},
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
    params.query("getOpenApi")
    return jsonify(DOCUMENT)
