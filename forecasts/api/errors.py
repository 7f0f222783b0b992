"""API errors: every failure is JSON {"error": {"code", "message"}} with its status.

The one place where forecasts.errors exceptions, HTTP errors and routing failures
become responses; views just raise.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from forecasts.api.blueprint import PREFIX, bp
from forecasts.errors import AuthenticationRequired, ForecastsError

REALM = "forecasts"
# Codes of plain HTTP errors; domain errors bring their own (forecasts.errors).
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited",
              500: "internal_error"}


class MalformedRequest(ForecastsError):
    """The request cannot be read: not JSON, wrong content type, a malformed query string."""

    code = "bad_request"
    status = 400


class TokenRejected(AuthenticationRequired):
    """A bearer token was sent but it is malformed, unknown or revoked."""


def error_response(status: int, code: str, message: str, *, where: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The JSON error document with its status and headers."""
    error = {"code": code, "message": message}
    if where:
        error["where"] = where
    response = jsonify({"error": error})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _challenge(error: AuthenticationRequired) -> str:
    # RFC 6750: say which scheme to use, and flag a rejected token as such.
    if isinstance(error, TokenRejected):
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'


@bp.errorhandler(ForecastsError)
def domain_error(error: ForecastsError) -> Response:
    """InvalidInput 422, NotFound 404, Conflict 409, PermissionDenied 403, auth 401."""
    if not 400 <= error.status < 500:
        return unexpected_error(error)
    headers = {}
    if isinstance(error, AuthenticationRequired):
        headers["WWW-Authenticate"] = _challenge(error)
    return error_response(error.status, error.code, str(error), where=error.where,
                          headers=headers)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """werkzeug's errors (404, 405, 413, ...) in the API's shape."""
    status = error.code or 500
    if status >= 500:
        return unexpected_error(error)
    headers = {}
    if status == 404:
        message = f"there is no API endpoint at {request.path}; see {PREFIX}/openapi.json"
    elif isinstance(error, MethodNotAllowed):
        allowed = sorted(error.valid_methods or [])
        headers["Allow"] = ", ".join(allowed)
        message = (f"{request.method} is not allowed on {request.path} "
                   f"(allowed: {', '.join(allowed)})")
    elif status == 429:
        # forecasts.limits adds Retry-After.
        message = f"too many requests (limit: {error.description}); retry after Retry-After seconds"
    else:
        message = error.description or error.name
    return error_response(status, HTTP_CODES.get(status, f"http_{status}"), message,
                          headers=headers)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception) -> Response:
    """A bug, never the client's input: logged, answered without details."""
    current_app.logger.error("API request failed: %s %s", request.method, request.path,
                             exc_info=error)
    return error_response(500, "internal_error", "the server failed to answer this request")


def routing_error() -> Response | None:
    """Unknown paths and methods under /api/ answer in JSON too.

    Routing fails before any blueprint is chosen, so the blueprint's handlers never see
    these; an app-wide before_request hook runs just before Flask raises them.
    """
    error = request.routing_exception
    if not isinstance(error, HTTPException) or (error.code or 0) < 400:
        return None
    if request.path != "/api" and not request.path.startswith("/api/"):
        return None
    return http_error(error)
