"""Shared fixtures: app, db, client, runner, login_as; SQLite by default, PostgreSQL/Redis by env."""
import os
import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from config import TestingConfig, database_url
from portal import create_app
from portal.entra import clients
from portal.extensions import db as _db
from tests import leakcheck


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production, so `g` never leaks between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        leakcheck.record_response(response)  # every page the suite saw, for the secrets sweep
        return response


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def _leak_capture(tmp_path_factory):
    """Pages, logs and table dumps of the whole run go to one file that tests/zz_final greps for secrets."""
    leakcheck.start(tmp_path_factory.mktemp("leakcheck") / "capture.txt")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    """TEST_DATABASE_URL if given (PostgreSQL in CI), else a SQLite file for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL if given; sessions and rate limits then live in Redis."""
    return os.environ.get("TEST_REDIS_URL")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The Entra ID + Graph emulator on real loopback sockets (HTTPS with its CA, plus HTTP for pages)."""
    from emulator.client import EmulatorClient
    from emulator.server import start

    running = start(users=300, https_port=0, http_port=0, state_dir=tmp_path_factory.mktemp("emulator"))
    leakcheck.watch(running)
    client = EmulatorClient(running.info)
    client.running = running
    yield client
    running.stop()


def dedicated_tenant(tmp_path_factory, users: int, seed: int, name: str):
    """A module's own emulator (yields its EmulatorClient, `.running` set), so counts are not disturbed by other tests."""
    from emulator.client import EmulatorClient
    from emulator.server import start

    running = start(users=users, seed=seed, https_port=0, state_dir=tmp_path_factory.mktemp(name))
    leakcheck.watch(running)
    client = EmulatorClient(running.info)
    client.running = running
    yield client
    running.stop()


def point_at(app, emulator):
    """Configure the app's Microsoft endpoints for an emulator, exactly as an operator would."""
    app.config.update(ENTRA_AUTHORITY_HOST=emulator.info["authority_host"], GRAPH_ENDPOINT=emulator.info["graph_endpoint"],
                      ENTRA_CA_BUNDLE=emulator.info["ca_file"])


def install_integration(app, emulator, app_name="Frontdesk", name="Contoso staff"):
    """Install and verify an integration through the service, with the emulator's credentials."""
    from datetime import date, timedelta

    from portal import integrations, signals

    point_at(app, emulator)
    creds = emulator.app(app_name)
    form = integrations.InstallRequest(name, emulator.tenant_id, creds["client_id"], creds["client_secret"],
                                    date.today() + timedelta(days=180))
    return integrations.install(form, clients.MicrosoftSettings.from_config(app.config), actor=signals.SYSTEM)


@pytest.fixture
def integration(app, emulator):
    """A verified integration against the shared emulator."""
    return install_integration(app, emulator)


@pytest.fixture
def synced(app, integration):
    """The verified integration after a full sync: every emulator user is a requester."""
    from portal import jobs
    from portal.directory.runs import start_run

    start_run(integration, "full", "manual")
    jobs.run_queued_syncs(app)
    return integration


@pytest.fixture
def new_user(emulator):
    """Create a fresh Microsoft user in the emulator (password Start-Password-1)."""
    import uuid

    def make(**extra):
        name = f"u{uuid.uuid4().hex[:10]}"
        props = {"userPrincipalName": f"{name}@{emulator.info['tenant_domain']}", "displayName": f"User {name}",
                 "mail": f"{name}@{emulator.info['tenant_domain']}", "password": "Start-Password-1"}
        props.update(extra)
        return emulator.create_user(**props)["props"]
    return make


def make_app(db_url, redis_url, **overrides):
    """Build a test app on the run's database, with per-test overrides."""
    return create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=db_url, REDIS_URL=redis_url, **overrides)


@pytest.fixture(scope="session")
def _schema(db_url, redis_url, tmp_path_factory):
    """Start from an empty database and build it with the migrations, as production does."""
    from flask_migrate import upgrade

    app = make_app(db_url, redis_url)
    with app.app_context():
        _reset_database()
        upgrade()
    return True


def _reset_database():
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        _db.engine.dispose()
        path = _db.engine.url.database
        if path and os.path.exists(path):
            os.remove(path)


def _truncate_all():
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    _db.session.remove()
    with _db.engine.begin() as conn:
        leakcheck.dump_tables(conn, tables)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608 (names from our own metadata)


@pytest.fixture
def app(request, db_url, redis_url, _schema):
    """A fresh app per test; `@pytest.mark.settings(KEY=value)` overrides its config."""
    marker = request.node.get_closest_marker("settings")
    overrides = marker.kwargs if marker else {}
    app = make_app(db_url, redis_url, **overrides)
    app.test_client_class = FreshContextClient
    if redis_url:
        from portal.session_store import redis_client

        redis_client(redis_url).flushdb()
    with app.app_context():
        yield app
        _truncate_all()


@pytest.fixture
def db(app):
    """The SQLAlchemy handle, inside the test's app context."""
    return _db


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for `flask` commands."""
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    """The CSRF token from a rendered form."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(db):
    """A local admin account."""
    from portal.accounts import create_admin

    return create_admin("ops@example.com", ADMIN_PASSWORD, "Ops Admin")


@pytest.fixture
def requester(db):
    """An active requester as sync would create it."""
    from portal.models import Requester

    person = Requester(display_name="Zoë Müller", given_name="Zoë", email="zoe@example.com",
                       user_principal_name="zoe@example.com", entra_object_id="00000000-0000-0000-0000-000000000001")
    db.session.add(person)
    db.session.commit()
    return person


def admin_sign_in(client, email, password, next_url=None):
    """Sign in through the real admin form, CSRF token included."""
    url = "/admin/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(client, admin):
    """Sign the test client in: 'admin' through the admin form; a Requester by seeding its session."""
    def _login(who):
        if who == "admin":
            response = admin_sign_in(client, admin.email, ADMIN_PASSWORD)
            assert response.status_code == 302, response.get_data(as_text=True)
            return admin
        # Microsoft sign-in has its own tests; here the requester's session and device are seeded directly.
        from portal.devices.registry import SessionPolicy, register_device

        with client.session_transaction() as sess:
            device, _ = register_device(who, sess.sid, "Mozilla/5.0 (pytest)", "127.0.0.1", SessionPolicy())
            sess.update({"_user_id": who.get_id(), "_fresh": True, "device_id": device.id,
                         "auth_time": device.authenticated_at.timestamp()})
            _db.session.commit()
        return who
    return _login


@pytest.fixture
def mailbox(app):
    """A real SMTP server (aiosmtpd) on loopback; the app sends to it. Yields the list of received messages."""
    import email
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            received.append(email.message_from_bytes(envelope.content))
            leakcheck.remember_mail(received[-1])
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield received
    controller.stop()


@pytest.fixture
def catalogue(db):
    """The default service catalogue (the migration seeds it; tests truncate tables between runs)."""
    from portal import tickets

    tickets.seed_catalogue()
    return {c.name: c for c in tickets.categories()}
