"""Chooses the server-side session backend (Redis when configured, otherwise the database) and guards it."""
import logging
from datetime import timedelta

import redis
from flask import Flask, g
from flask.sessions import SessionInterface

from portal.database import db

log = logging.getLogger("portal.sessions")
STORE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def redis_client(url: str) -> redis.Redis:
    """A Redis client with short timeouts, so an outage fails fast instead of hanging requests."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)


def configure_session_store(app: Flask) -> None:
    """Set Flask-Session's backend from REDIS_URL."""
    if app.config.get("REDIS_URL"):
        app.config["SESSION_TYPE"] = "redis"
        app.config.setdefault("SESSION_REDIS", redis_client(app.config["REDIS_URL"]))
        app.config.setdefault("SESSION_KEY_PREFIX", "frontdesk:session:")
    else:
        app.config["SESSION_TYPE"] = "sqlalchemy"
        app.config["SESSION_SQLALCHEMY"] = db
        # Flask-Session declares its model on every init; drop the previous declaration so a
        # second app in one process (tests, CLI helpers) can declare it again.
        table = db.metadata.tables.get(app.config["SESSION_SQLALCHEMY_TABLE"])
        if table is not None:
            db.metadata.remove(table)


class GuardedSessionInterface(SessionInterface):
    """Flask-Session's interface, but an unreachable store becomes a clear 503 instead of a crash.

    Opening: the request gets an empty session that cannot be saved (so nobody is anyone), and `guard_request`
    answers 503. Saving: the response becomes the 503 page and sets no cookie, as the session was not stored.
    """

    def __init__(self, inner: SessionInterface, anonymous_lifetime: timedelta):
        self.inner = inner
        upsert = inner._upsert_session  # Flask-Session's per-backend storage hook (pinned 0.8)

        def store(lifetime, session, store_id):
            """A visitor who is not signed in is kept briefly (a CSRF token, a pending sign-in), not for 72 h."""
            return upsert(lifetime if "_user_id" in session else min(lifetime, anonymous_lifetime), session, store_id)

        inner._upsert_session = store

    def open_session(self, app, request):
        try:
            return self.inner.open_session(app, request)
        except STORE_ERRORS as exc:
            log.error("session store unavailable while opening a session: %s", exc.__class__.__name__)
            g.session_store_down = True
            return self.make_null_session(app)

    def __getattr__(self, name):  # everything else (regenerate, serializer ...) is Flask-Session's own
        return getattr(self.inner, name)

    def regenerate(self, session) -> None:
        """A new session id at sign-in; an unreachable store refuses the sign-in instead of half-doing it."""
        try:
            self.inner.regenerate(session)
        except STORE_ERRORS as exc:
            from portal.exceptions import SessionStoreUnavailable

            log.error("session store unavailable while renewing a session id: %s", exc.__class__.__name__)
            raise SessionStoreUnavailable() from exc

    def save_session(self, app, session, response) -> None:
        if getattr(g, "session_store_down", False):
            return
        try:
            self.inner.save_session(app, session, response)
        except STORE_ERRORS as exc:
            log.error("session store unavailable while saving a session: %s", exc.__class__.__name__)
            _replace_with_outage_page(response)


def _replace_with_outage_page(response) -> None:
    from portal.errors import render_exception
    from portal.exceptions import SessionStoreUnavailable

    page = render_exception(SessionStoreUnavailable())
    response.status_code = 503
    response.headers.pop("Location", None)
    response.headers.pop("Set-Cookie", None)
    response.headers["Content-Type"] = page.headers["Content-Type"]
    response.set_data(page.get_data())


def guard_request():
    """before_request: refuse to go on without a session store (the handler renders the 503 page)."""
    if getattr(g, "session_store_down", False):
        from portal.exceptions import SessionStoreUnavailable

        raise SessionStoreUnavailable()


def guard_session_store(app: Flask) -> None:
    """Wrap the session interface chosen by Flask-Session (security.register_security adds guard_request)."""
    app.session_interface = GuardedSessionInterface(
        app.session_interface, timedelta(minutes=app.config["SESSION_ANONYMOUS_MINUTES"]))
