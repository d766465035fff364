"""Access guards, safe redirects, request ids and the security headers every response carries."""
import secrets
from functools import wraps
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from portal import signals
from portal.database import db
from portal.entra.http import microsoft_wait


def safe_next_url(target: str | None, fallback: str) -> str:
    """Allow only same-site relative paths, so `next` can never send someone to another host."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return fallback
    if any(ch in target for ch in ("\\", "\r", "\n", "\t", "\x00")):
        return fallback
    if any(segment in (".", "..") for segment in urlsplit(target).path.split("/")):
        return fallback  # /admin/../..//evil.example resolves to a path that starts with //
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    joined = urlsplit(urljoin(request.host_url, target))
    if joined.netloc != urlsplit(request.host_url).netloc:
        return fallback
    return target


def public_url(endpoint: str, **values) -> str:
    """An absolute URL handed to Microsoft (redirect and sign-out URIs): in production it is built from PORTAL_URL,
    never from the Host header a client chose."""
    if current_app.config.get("ENV_NAME") == "production":
        return urljoin(current_app.config["PORTAL_URL"], url_for(endpoint, **values))
    return url_for(endpoint, _external=True, **values)


def _deny(kind: str):
    """Send anonymous users to the right sign-in page; refuse signed-in people of the wrong kind."""
    if not current_user.is_authenticated:
        endpoint = "admin.login" if kind == "admin" else "auth.login"
        return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
    signals.authorization_failed.send(
        "security", actor=signals.Principal.of(current_user),
        target=signals.Target("page", request.path, request.endpoint), outcome="failure",
        reason=f"{current_user.principal_type} may not open {kind} pages",
    )
    db.session.commit()
    abort(403)


def is_admin() -> bool:
    """True for a signed-in local admin."""
    return current_user.is_authenticated and current_user.principal_type == "admin"


def is_requester() -> bool:
    """True for a signed-in requester."""
    return current_user.is_authenticated and current_user.principal_type == "requester"


def requester_required(view):
    """Guard a view for requesters only."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs) if is_requester() else _deny("requester")
    return wrapped


def guard_blueprint(bp, kind: str) -> None:
    """Protect every view of a blueprint at once, except those marked public."""
    check = is_admin if kind == "admin" else is_requester

    @bp.before_request
    def _guard():
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "public", False):
            return None
        return None if check() else _deny(kind)


def public(view):
    """Mark a view of a guarded blueprint as open to anonymous users (sign-in pages)."""
    view.public = True
    return view


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def _assign_request_id():
    incoming = request.headers.get("X-Request-ID", "")
    valid = 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum()
    g.request_id = incoming if valid else secrets.token_hex(8)
    microsoft_wait.set(0.0)  # worker threads are reused: each request counts its own wait on Microsoft


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers["X-Request-ID"] = getattr(g, "request_id", "")
    if request.is_secure or response.headers.get("Content-Type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("ENV_NAME") == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_app.config.get("SERVER_TIMING") and microsoft_wait.get():
        response.headers["Server-Timing"] = f'microsoft;dur={microsoft_wait.get() * 1000:.1f};desc="Waiting on Microsoft"'
    return response


def _sign_in_as_a_page(response):
    """A polled fragment whose session ended would swap the sign-in page into itself: for htmx, a redirect to
    sign-in becomes a 401 whose HX-Redirect sends the whole browser tab there instead."""
    if request.headers.get("HX-Request") and response.status_code in (301, 302, 303) and \
            urlsplit(response.location or "").path in (url_for("auth.login"), url_for("admin.login")):
        location = _back_to_the_page(response.location)
        response = current_app.response_class("", status=401)
        response.headers["HX-Redirect"] = location
    return response


def _back_to_the_page(location: str) -> str:
    """After signing in again the person returns to the page they had open, not to the fragment it polled."""
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    parts = urlsplit(location)
    query = {k: v for k, v in parse_qsl(parts.query) if k != "next"}
    target = page.path + (f"?{page.query}" if page.query else "")
    if page.netloc == urlsplit(request.host_url).netloc and safe_next_url(target, "") and request.method == "GET":
        query["next"] = target
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def _refuse_nul_bytes():
    """NUL never belongs in a form, a query or a path, and PostgreSQL cannot store it: refuse it at the door."""
    values = [request.path, *request.args.values(), *(request.form.values() if request.method == "POST" else ())]
    if any("\x00" in value for value in values):
        from portal.exceptions import ValidationError

        raise ValidationError("The request contained a NUL character, which Frontdesk does not accept. Remove it and "
                              "try again.", code="nul_in_input")


def register_first_checks(app: Flask) -> None:
    """Request ids first, so every log line and error page of the request carries one; then a missing session
    store and NUL bytes, before any extension reads the session or the form."""
    from portal.session_store import guard_request

    app.before_request(_assign_request_id)
    app.before_request(guard_request)
    app.before_request(_refuse_nul_bytes)


def register_security(app: Flask) -> None:
    """The device-session guard and the security headers."""
    from portal.devices.web import guard

    app.before_request(guard)
    app.after_request(_security_headers)
    app.after_request(_sign_in_as_a_page)  # runs first (Flask calls after_request hooks in reverse)


def rotate_session() -> None:
    """Give the signed-in session a new id and drop everything from before sign-in (fixation defence)."""
    session["_rotating"] = True  # regenerate() skips empty sessions, so make sure it is not empty
    current_app.session_interface.regenerate(session)
    session.clear()
