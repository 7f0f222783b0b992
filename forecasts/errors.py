"""Domain errors: each names what was wrong and where, and maps to an HTTP status."""
from __future__ import annotations


class ForecastsError(Exception):
    """Base class of every error a user may see."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(ForecastsError):
    code = "config"
    status = 500


class InvalidInput(ForecastsError):
    code = "invalid_input"
    status = 422


class NotFound(ForecastsError):
    code = "not_found"
    status = 404


class Conflict(ForecastsError):
    """The request is well formed but the state forbids it (closed question, duplicate)."""

    code = "conflict"
    status = 409


class PermissionDenied(ForecastsError):
    code = "forbidden"
    status = 403


class AuthenticationRequired(ForecastsError):
    code = "unauthorized"
    status = 401
