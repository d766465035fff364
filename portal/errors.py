"""The PortalError tree and the one place that turns any error into a page or JSON with a reference id."""
import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from portal.database import db
from portal.exceptions import PortalError, SignInFailed

log = logging.getLogger("portal.errors")


TITLES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: ("You do not have access to this page", "Your account is not allowed to open this page."),
    404: ("Page not found", "The page you asked for does not exist or has moved."),
    405: ("Not allowed", "That action is not available here."),
    429: ("Too many attempts", "You have tried this too often. Wait a minute and try again."),
    500: ("Something went wrong on our side", "The error has been logged. Try again, or contact your IT team with the reference below."),
    503: ("Temporarily unavailable", "A service Frontdesk depends on is not answering. Try again in a minute."),
}


def wants_json() -> bool:
    """API clients and htmx-less fetches that ask for JSON get JSON errors."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (best == "application/json" and not request.accept_mimetypes["text/html"])


def render_error(status: int, title: str, message: str, code: str, **context):
    """Render one error as JSON or as templates/errors/<status>.html, carrying the reference id."""
    reference = getattr(g, "request_id", None) or "-"
    if wants_json():
        body = {"error": {"code": code, "message": message, "reference": reference}}
        return jsonify(body), status
    template = f"errors/{status}.html" if status in TITLES else "errors/generic.html"
    return render_template(template, status=status, title=title, message=message, code=code,
                           reference=reference, **context), status


def render_exception(exc: PortalError):
    """A PortalError as a finished response, for callers outside Flask's error handling (session saving)."""
    from flask import make_response

    return make_response(_handle_portal_error(exc))


def _handle_portal_error(exc: PortalError):
    log.info("portal error %s: %s", exc.code, exc.message, extra={"status": exc.status, "code": exc.code})
    if isinstance(exc, SignInFailed) and not wants_json():
        return render_template("auth/error.html", failure=exc.failure, kind=exc.code, until=exc.until,
                               back=g.get("sign_in_page", "auth.login")), exc.status
    return render_error(exc.status, exc.title, exc.message, exc.code)


def _handle_http_error(exc: HTTPException):
    status = exc.code or 500
    title, default_message = TITLES.get(status, (exc.name, exc.description))
    message = default_message
    if status == 400 and exc.description and "CSRF" in exc.description:
        message = "Your form expired or was sent from another site. Reload the page and submit it again."
    log.info("http %s on %s %s", status, request.method, request.path, extra={"status": status})
    response, status = render_error(status, title, message, exc.name.lower().replace(" ", "_"))
    if status == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, status


def _handle_unexpected(exc: Exception):
    db.session.rollback()
    if _is_database_outage(exc):
        log.error("database unavailable: %s", exc.__class__.__name__, extra={"status": 503})
        title, message = TITLES[503]
        return render_error(503, title, message, "database_unavailable")
    log.exception("unhandled error on %s %s", request.method, request.path, extra={"status": 500})
    title, message = TITLES[500]
    return render_error(500, title, message, "internal_error")


def _is_database_outage(exc: Exception) -> bool:
    """Lost connections are an outage to retry, not a bug to page someone about."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def map_errors_to_pages(app: Flask) -> None:
    """Map PortalError, HTTP errors and anything unexpected to pages or JSON in one place."""
    app.register_error_handler(PortalError, _handle_portal_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
