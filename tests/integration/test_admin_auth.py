"""Admin sign-in: password check, lockout, session rotation, CSRF, guards and safe redirects."""
import sqlalchemy as sa

from portal.models import Admin, AuditEvent
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from


def _actions(db):
    return [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_admin_signs_in_and_reaches_dashboard(client, admin, db):
    """A correct password signs the admin in, lands on the dashboard and is audited."""
    response = admin_sign_in(client, admin.email, ADMIN_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Dashboard" in page and "Ops Admin" in page
    assert "admin.sign_in" in _actions(db)


def test_session_id_rotates_at_sign_in(client, admin, app):
    """The pre-login session id is discarded at sign-in (session fixation defence)."""
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    client.get("/admin/login")
    before = client.get_cookie(cookie_name).value
    admin_sign_in(client, admin.email, ADMIN_PASSWORD)
    after = client.get_cookie(cookie_name).value
    assert before and after and before != after


def test_wrong_password_gets_generic_message(client, admin, db):
    """A wrong password and an unknown email get the same message and status."""
    wrong = admin_sign_in(client, admin.email, "not the password at all")
    unknown = admin_sign_in(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "not correct" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("not correct") == unknown.get_data(as_text=True).count("not correct")
    reasons = [e.reason for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "admin.sign_in_failed"))]
    assert reasons == ["wrong password", "unknown email"]


def test_five_failures_lock_the_account(client, admin, db):
    """After five failures even the right password is refused, and the lock is audited."""
    for _ in range(5):
        assert admin_sign_in(client, admin.email, "wrong password 123").status_code == 401
    response = admin_sign_in(client, admin.email, ADMIN_PASSWORD)
    assert response.status_code == 401
    db.session.expire_all()
    locked = db.session.scalar(sa.select(Admin).where(Admin.id == admin.id))
    assert locked.locked_until is not None
    assert _actions(db).count("admin.locked_out") == 1
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_post_without_csrf_token_is_refused(client, admin):
    """A form post without the CSRF token gets the 400 page, not a sign-in."""
    response = client.post("/admin/login", data={"email": admin.email, "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Reload the page" in body and 'id="error-reference"' in body
    assert client.get("/admin/").status_code == 302


def test_anonymous_is_sent_to_sign_in_with_next(client):
    """Anonymous visitors to admin pages go to the admin sign-in, keeping where they were going."""
    response = client.get("/admin/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/settings"


def test_next_is_followed_only_when_local(client, admin):
    """A local `next` is honoured; an absolute or scheme-relative one falls back to the dashboard."""
    assert admin_sign_in(client, admin.email, ADMIN_PASSWORD, "/admin/settings").headers["Location"] == "/admin/settings"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client.post("/admin/logout", data={"csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})
        response = admin_sign_in(client, admin.email, ADMIN_PASSWORD, evil)
        assert response.headers["Location"] == "/admin/", evil


def test_requester_gets_403_on_admin_pages(client, login_as, requester, db):
    """A signed-in requester never reaches admin pages; the attempt is audited."""
    login_as(requester)
    response = client.get("/admin/settings")
    assert response.status_code == 403
    assert "You do not have access" in response.get_data(as_text=True)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "authorization.denied"))
    assert event.actor_type == "requester" and event.target_id == "/admin/settings"


def test_admin_sign_out_needs_post_and_clears_session(client, login_as):
    """GET cannot sign out (no CSRF-free state change); POST with the token does."""
    login_as("admin")
    assert client.get("/admin/logout").status_code == 405
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_disabled_admin_session_stops_working(client, login_as, admin, db):
    """Disabling an admin ends access on the next request."""
    login_as("admin")
    admin.is_enabled = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302
