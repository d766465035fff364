"""Every error is a page or JSON with a reference id that also appears in the log; 500s roll back."""
import logging

import pytest
import sqlalchemy as sa

from portal.exceptions import Conflict
from portal.models import Setting


def test_404_page_has_reference_in_log(client, caplog):
    """The reference id on the 404 page is the request id logged for it."""
    caplog.set_level(logging.INFO)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    reference = response.headers["X-Request-ID"]
    assert f'<code id="error-reference">{reference}</code>' in response.get_data(as_text=True)
    assert any(getattr(r, "request_id", None) == reference for r in caplog.records)


def test_json_clients_get_json_errors(client):
    """A client asking for JSON gets the error as JSON with the same reference."""
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    body = response.get_json()
    assert response.status_code == 404
    assert body["error"]["code"] == "not_found" and body["error"]["reference"] == response.headers["X-Request-ID"]


@pytest.fixture
def boom_app(app, db):
    """The app with two extra routes: one that fails after writing, one that raises a PortalError."""
    @app.route("/_test/boom")
    def boom():
        db.session.add(Setting(key="half_written", value=1))
        db.session.flush()
        raise RuntimeError("kaboom with a secret-looking message")

    @app.route("/_test/conflict")
    def conflict():
        raise Conflict("A sync is already running for this integration.")

    return app


def test_500_rolls_back_and_hides_the_trace(boom_app, client, db, caplog):
    """An unexpected error shows the 500 page (no traceback), logs the trace, and writes nothing."""
    response = client.get("/_test/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "kaboom" not in body
    assert response.headers["X-Request-ID"] in body
    assert any("kaboom" in (r.exc_text or "") or r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Setting)) == 0


def test_portal_error_maps_to_its_page(boom_app, client):
    """Domain errors render their own status, title and message."""
    response = client.get("/_test/conflict")
    assert response.status_code == 409
    assert "already running" in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    """CSP without inline scripts, framing refused, nosniff, referrer policy, on pages and errors."""
    for path in ("/", "/admin/login", "/missing"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_flags(client, admin):
    """The session cookie is HttpOnly and SameSite=Lax."""
    client.get("/admin/login")
    cookie = client.get_cookie("frontdesk_session")
    assert cookie.http_only and cookie.same_site == "Lax"
