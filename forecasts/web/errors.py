"""Error pages in the site's style: never a traceback, always a way back."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from forecasts.errors import ForecastsError

bp = Blueprint("errors", __name__)

TITLES = {
    400: "Bad request",
    401: "Log in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Not possible now",
    413: "Too large",
    422: "Cannot accept that",
    500: "Something went wrong",
}
MESSAGES = {
    400: "The request could not be understood.",
    401: "Log in to see this page.",
    403: "Your account is not allowed to open this page.",
    404: "There is no page at this address. It may have moved, or the link may be mistyped.",
    405: "This address does not accept that kind of request.",
    413: "The request is larger than this site accepts.",
    500: "The server failed to answer this request. It has been logged; please try again.",
}


def _render(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "The request could not be completed.")
    if request.path.startswith("/api/"):
        # The API answers in JSON even where no API view was reached (an unknown path).
        code = "not_found" if status == 404 else f"http_{status}"
        return jsonify({"error": {"code": code, "message": message}}), status
    title = TITLES.get(status, "Error")
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


@bp.app_errorhandler(CSRFError)
def csrf_error(_error: CSRFError):
    """A form without a valid CSRF token: 400."""
    return _render(400, "This form has expired or did not come from this site. "
                        "Go back, reload the page and send it again.")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """404, 405 and the other HTTP errors in the site's style."""
    if error.code is None or error.code < 400:
        return error
    if error.code >= 500:
        return _render(error.code)
    return _render(error.code, MESSAGES.get(error.code))


@bp.app_errorhandler(ForecastsError)
def domain_error(error: ForecastsError):
    """A service's error that no view caught, with its message."""
    status = error.status if 400 <= error.status < 500 else 500
    return _render(status, str(error) if status < 500 else None)


@bp.app_errorhandler(InternalServerError)
def server_error(_error: InternalServerError):
    """Any unexpected failure: a plain apology, never a traceback."""
    # Flask has logged the original exception; the page shows nothing of it.
    return _render(500)
