"""Every route, swept: CSRF on each state-changing one, who may call what, IDOR, headers, cookies, rate limits.

The route lists below are checked against the app's URL map, so a new route fails these tests until someone
decides, here, who may call it and how it is protected.
"""
import re

import pytest
import sqlalchemy as sa

from config import ProductionConfig
from portal import create_app, tickets
from portal.devices import registry
from portal.models import DeviceSession, Requester, Ticket, TicketEvent
from tests.conftest import csrf_from

# endpoint -> who may use it. Every route that accepts POST is here; the sweep fails on any it does not know.
STATE_CHANGING = {
    "admin.catalogue": "admin", "admin.toggle_category": "admin", "admin.mapping": "admin",
    "admin.replace_secret": "admin", "admin.sync_history": "admin", "admin.verify": "admin",
    "admin.login": "anyone", "admin.logout": "admin", "admin.install": "admin", "admin.revoke_person": "admin",
    "admin.unlock_requester": "admin", "admin.revoke_session": "admin", "admin.revoke_all": "admin",
    "admin.settings": "admin", "admin.mail_template": "admin",
    "admin.mail_template_preview": "admin", "admin.mail_template_test": "admin", "admin.confirm_run": "admin", "admin.save_previewed_mapping": "admin",
    "admin.ticket_detail": "admin", "admin.retry_run": "admin", "admin.workflow_edit": "admin", "admin.step_up": "admin",
    "admin.approve_run": "admin", "admin.decide_approval": "admin", "admin.requester_action": "admin",
    "admin.category_rule": "admin", "requester.approval": "requester", "admin.pause_integration": "admin",
    "admin.resume_integration": "admin", "admin.uninstall_integration": "admin", "admin.ticket_comment": "admin",
    "requester.comment": "requester", "admin.add_role_rule": "admin", "admin.remove_role_rule": "admin",
    "admin.step_up_microsoft": "admin", "admin.login_microsoft": "anyone",
    "auth.callback_post": "anyone", "auth.start": "anyone", "auth.logout": "signed in", "auth.ask_it": "anyone",
    "requester.sign_out_device": "requester", "requester.sign_out_others": "requester", "requester.new_ticket": "requester",
    "webhooks.change_notifications": "anyone", "webhooks.lifecycle_notifications": "anyone",
}
# Microsoft's form_post cannot carry our token; state (single use, bound to the session), PKCE and the nonce
# protect it instead (tests/integration/test_sso.py forges each of them). Graph's notification POSTs cannot carry it
# either: the clientState authenticates them (tests/integration/test_live_updates.py); a form is not a notification.
CSRF_EXEMPT = {"auth.callback_post": 303, "webhooks.change_notifications": 400, "webhooks.lifecycle_notifications": 400}
PUBLIC_GET = {"requester.index", "admin.login", "auth.login", "auth.signed_out", "auth.callback", "requester.healthz",
              "auth.ask_it",
              "static"}
REQUESTER_GET = {"requester.home", "requester.devices", "requester.profile", "requester.ticket", "requester.new_ticket",
                 "requester.approval", "requester.ticket_progress_fragment"}


def routes(app, method):
    for rule in app.url_map.iter_rules():
        if method in rule.methods:
            yield rule, rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1] if rule.arguments \
                else rule.rule


def test_every_state_changing_route_is_listed(app):
    """A route that accepts POST, PUT, PATCH or DELETE must be in STATE_CHANGING, with who may use it."""
    found = {r.endpoint for r in app.url_map.iter_rules() if r.methods & {"POST", "PUT", "PATCH", "DELETE"}}
    assert found == set(STATE_CHANGING), f"unlisted: {found - set(STATE_CHANGING)}; gone: {set(STATE_CHANGING) - found}"
    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert gets <= PUBLIC_GET | REQUESTER_GET | {e for e in gets if e.startswith("admin.")}


@pytest.mark.parametrize("who", ["anonymous", "admin", "requester"])
def test_csrf_is_required_on_every_state_changing_route(client, login_as, requester, who):
    """POST without a token is refused with the CSRF page, whoever sends it; only the callback is exempt."""
    if who != "anonymous":
        login_as("admin" if who == "admin" else requester)
    for rule, url in routes(client.application, "POST"):
        response = client.post(url, data={"anything": "x"})
        body = response.get_data(as_text=True)
        if rule.endpoint in CSRF_EXEMPT:
            assert response.status_code == CSRF_EXEMPT[rule.endpoint], (url, response.status_code)
            assert "Reload the page and submit it again" not in body
            continue
        assert response.status_code == 400 and "Reload the page and submit it again" in body, (who, url, response.status_code)


def test_requesters_are_refused_every_admin_route(client, login_as, requester, db):
    """With a valid session and CSRF token, a requester gets 403 from every admin endpoint, GET and POST alike."""
    login_as(requester)
    token = csrf_from(client.get("/tickets/new").get_data(as_text=True))
    for method in ("GET", "POST"):
        for rule, url in routes(client.application, method):
            if not rule.endpoint.startswith("admin.") or rule.endpoint in ("admin.login", "admin.login_microsoft"):
                continue
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 403, (method, url, response.status_code)


def test_anonymous_is_sent_to_sign_in_everywhere_private(client):
    """Every GET that is not public sends an anonymous visitor to the right sign-in page, with a local next."""
    for rule, url in routes(client.application, "GET"):
        if rule.endpoint in PUBLIC_GET:
            continue
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        location = response.headers["Location"]
        assert location.startswith("/admin/login" if rule.endpoint.startswith("admin.") else "/login"), (url, location)


def test_security_headers_on_every_page_for_everyone(app, client, login_as, requester, admin):
    """CSP without inline scripts, framing refused, nosniff and a referrer policy: every GET route, every role."""
    pages = [url for _, url in routes(app, "GET")] + ["/missing", "/static/css/app.css"]
    for who in ("anonymous", "requester", "admin"):
        if who != "anonymous":
            client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/login").get_data(as_text=True))})
            login_as(requester if who == "requester" else "admin")
        for url in pages:
            headers = client.get(url).headers
            csp = headers.get("Content-Security-Policy", "")
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0], url
            assert "frame-ancestors 'none'" in csp and headers["X-Frame-Options"] == "DENY", url
            assert headers["X-Content-Type-Options"] == "nosniff", url
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url


def test_production_sends_hsts_and_secure_cookies(monkeypatch, db_url):
    """In production the session cookie is Secure, HttpOnly and SameSite=Lax, and every response carries HSTS."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example/")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "production-like-secret-key-" + "x" * 20)
    monkeypatch.setattr(ProductionConfig, "ENCRYPTION_KEY", Fernet.generate_key().decode())
    app = create_app(ProductionConfig(), SQLALCHEMY_DATABASE_URI=db_url, REDIS_URL=None, LOG_JSON=False)
    client = app.test_client()
    response = client.get("/admin/login", base_url="https://portal.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-frontdesk_session=") and "Domain" not in cookie and "Path=/" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in client.get("/missing", base_url="https://portal.example").headers


@pytest.mark.settings(RATELIMIT_ADMIN_LOGIN="3 per minute", RATELIMIT_SSO_START="3 per minute",
                      RATELIMIT_SSO_CALLBACK="3 per minute")
def test_rate_limits_on_admin_sign_in_sso_start_and_callback(client, admin, integration):
    """The fourth attempt within the window gets the 429 page with Retry-After, on each sign-in endpoint."""
    def post_admin_login():
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        return client.post("/admin/login", data={"email": "x@example.com", "password": "wrong password", "csrf_token": token})

    def post_start():
        token = csrf_from(client.get("/login").get_data(as_text=True))
        return client.post(f"/auth/start/{integration.id}", data={"csrf_token": token})

    def get_callback():
        return client.get("/auth/callback?r=not-a-sealed-answer")

    for attempt in (post_admin_login, post_start, get_callback):
        statuses = [attempt().status_code for _ in range(4)]
        assert 429 not in statuses[:3] and statuses[3] == 429, (attempt.__name__, statuses)
        limited = attempt()
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert "Too many attempts" in limited.get_data(as_text=True)


def test_admin_sign_in_does_not_reveal_which_emails_exist(client, admin):
    """Same status, same message and no timing-visible branch for a wrong password and an unknown email."""
    def attempt(email):
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        response = client.post("/admin/login", data={"email": email, "password": "not it at all", "csrf_token": token})
        return response.status_code, re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    known, unknown = attempt(admin.email), attempt("nobody@example.com")
    assert known[0] == unknown[0] == 401
    message = re.search(r'<div class="alert[^>]*>(.*?)</div>', known[1], re.S).group(1)
    assert message in unknown[1]


@pytest.fixture
def two_requesters(db, catalogue):
    """Ann and Ben, each with a ticket and a live device session."""
    people = []
    for name in ("Ann", "Ben"):
        person = Requester(display_name=f"{name} Example", email=f"{name.lower()}@example.com",
                           user_principal_name=f"{name.lower()}@example.com", entra_object_id=f"oid-{name}")
        db.session.add(person)
        db.session.commit()
        ticket = tickets.create(person, catalogue["General request"].id, f"{name}'s private printer problem", "details")
        device, _ = registry.register_device(person, f"sid-{name}", "Mozilla/5.0", "127.0.0.1", registry.SessionPolicy())
        db.session.commit()
        people.append((person, ticket, device))
    return people


def test_a_requester_cannot_reach_another_requesters_things(client, login_as, two_requesters, db):
    """IDOR: Ann cannot read Ben's ticket, sign out Ben's device, or see Ben anywhere in her pages."""
    (ann, _, _), (ben, ben_ticket, ben_device) = two_requesters
    login_as(ann)
    assert client.get(f"/tickets/{ben_ticket.id}").status_code == 404
    token = csrf_from(client.get("/devices").get_data(as_text=True))
    assert client.post(f"/devices/{ben_device.id}/sign-out", data={"csrf_token": token}).status_code == 404
    assert db.session.get(DeviceSession, ben_device.id).ended_at is None
    assert client.get(f"/tickets/{ben_ticket.id}/live").status_code == 404
    assert client.post(f"/tickets/{ben_ticket.id}/comments", data={"csrf_token": token, "body": "Hi Ben"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.kind == "comment")) == 0
    for page in ("/home", "/devices", "/profile", "/tickets/new"):
        body = client.get(page).get_data(as_text=True)
        assert "Ben Example" not in body and "Ben's private" not in body, page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 2


def test_open_redirects_are_refused(client, admin, integration, app):
    """`next` on admin sign-in, Microsoft sign-in and the session forms stays on this site; logout goes only to
    Microsoft's end-session endpoint, which returns to this portal's own signed-out page."""
    from portal.security import safe_next_url

    hostile = ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
               "https:/evil.example", " //evil.example", "/\tevil"]
    with app.test_request_context("/", base_url="https://portal.example"):
        for target in hostile:
            assert safe_next_url(target, "/fallback") == "/fallback", target
        assert safe_next_url("/tickets/new?x=1", "/fallback") == "/tickets/new?x=1"
    for target in hostile:
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        response = client.post(f"/admin/login?next={target}", data={"email": admin.email, "password": "correct horse battery staple",
                                                                   "csrf_token": token})
        location = response.headers["Location"]
        assert response.status_code == 302 and location.startswith("/") and not location.startswith(("//", "/\\")), target
        assert "evil" not in location or location == "/evil", target  # a tab is dropped by URL parsing: same site
        client.post("/admin/logout", data={"csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})


def test_audit_records_refused_admin_access(client, login_as, requester, db):
    """A requester knocking on admin pages leaves an authorization.denied event with who and where."""
    from portal.models import AuditEvent

    login_as(requester)
    client.get("/admin/settings")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "authorization.denied"))
    assert event is not None and event.actor_id == str(requester.id) and event.target_id == "/admin/settings"


def test_ids_beyond_the_database_range_are_not_found(client, login_as, requester):
    """/tickets/<huge> and friends are 404 pages, not an integer overflow inside a query."""
    login_as(requester)
    for url in ("/tickets/99999999999999999999", "/tickets/2147483648"):
        response = client.get(url)
        assert response.status_code == 404 and 'id="error-reference"' in response.get_data(as_text=True), url
