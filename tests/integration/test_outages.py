"""Outages of the services Frontdesk stands on: Redis (sessions) goes away, PostgreSQL connections are killed.

Each must give the friendly 503 page with a reference id, never a 500 or a stack trace, never anybody signed in
as somebody else, and the app must recover by itself when the service is back.
"""
import dataclasses
import threading
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import FreshContextClient, make_app, point_at
from tests.faults import CuttableProxy
from tests.sso import begin, microsoft_answer, sign_in


def people(emulator, count, skip=0):
    """Enabled demo users without directory roles, who can sign in to the portal."""
    usable = [u for u in emulator.info["demo_users"] if u["accountEnabled"] is not False and not u["directoryRoles"]]
    return usable[skip:skip + count]


def assert_outage_page(response, text):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:300]
    assert text in body and "Traceback" not in body and 'id="error-reference"' in body, body[:500]


@pytest.fixture
def redis_proxy(redis_url):
    if not redis_url:
        pytest.skip("sessions live in Redis only when TEST_REDIS_URL is set")
    parts = urlsplit(redis_url)
    proxy = CuttableProxy(parts.hostname, parts.port or 6379)
    yield proxy, f"redis://127.0.0.1:{proxy.port}{parts.path or '/0'}"
    proxy.close()


def test_redis_going_away_gives_a_clear_page_and_nobody_is_someone_else(app, db, db_url, synced, emulator, redis_proxy):
    """Signed in, then Redis drops: every page says why; sign-in cannot start; back again, the same person."""
    proxy, url = redis_proxy
    outage_app = make_app(db_url, url)
    outage_app.test_client_class = FreshContextClient
    point_at(outage_app, emulator)
    person, other = people(emulator, 2)
    alice, bob = outage_app.test_client(), outage_app.test_client()
    assert sign_in(alice, synced, person["userPrincipalName"], person["password"]).status_code == 302
    assert person["displayName"] in alice.get("/home").get_data(as_text=True)
    started = begin(bob, synced)  # bob is half-way through his own sign-in when Redis goes
    proxy.cut()
    assert_outage_page(alice.get("/home"), "session store")
    assert_outage_page(bob.get("/login"), "session store")
    fields, _ = microsoft_answer(started.headers["Location"], other["userPrincipalName"], other["password"])
    bounced = bob.post("/auth/callback", data=fields)
    assert bounced.status_code in (303, 503)
    if bounced.status_code == 303:
        assert_outage_page(bob.get(bounced.headers["Location"]), "session store")
    proxy.restore()
    again = alice.get("/home")
    assert again.status_code == 200 and person["displayName"] in again.get_data(as_text=True)
    assert other["displayName"] not in again.get_data(as_text=True)
    assert bob.get("/home").status_code == 302  # not signed in: his flow died with the outage
    assert bob.get("/login").status_code == 200


def _kill_backends(db_url: str, application_pid_of) -> int:
    """pg_terminate_backend on the given server pids, from a separate connection."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        killed = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE pid = ANY(:pids)"), {"pids": list(application_pid_of)}).scalar()
    engine.dispose()
    return killed


@pytest.fixture
def postgres(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    return db_url


def test_killed_database_connections_give_the_retry_page_then_recover(app, db, postgres, login_as, client, admin):
    """A request whose connection is killed mid-way gets the 503 page; the next request works (pool pre-ping)."""
    armed = []

    @app.before_request
    def kill_my_connection():  # the connection this request already holds dies under it
        if armed:
            armed.clear()
            pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            assert _kill_backends(postgres, [pid]) == 1

    login_as("admin")
    assert client.get("/admin/requesters").status_code == 200
    armed.append(True)
    assert_outage_page(client.get("/admin/requesters"), "Try again")
    # Every pooled connection dies too (a database restart): pre-ping replaces them without a restart.
    db.session.remove()  # the test's own session hands its connection back to the pool, to die there too
    with db.engine.connect() as conn:
        backend_pids = conn.execute(sa.text("SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = "
                                            "current_database() AND pid <> pg_backend_pid()")).scalar() or []
    _kill_backends(postgres, backend_pids)  # the pool is not disposed: recovery must come from pre-ping alone
    for _ in range(3):
        assert client.get("/admin/requesters").status_code == 200


def test_killed_connection_during_sync_fails_the_run_cleanly_and_the_next_run_completes(app, db, postgres, synced,
                                                                                         emulator):
    """The sync's connection dies mid-run: the run ends failed (or its page is retried), the cursor does not move
    past what was committed, and the next run completes with the same table as before."""
    from portal import jobs
    from portal.directory.runs import start_run
    from portal.directory.sync import build_sync_engine
    from portal.models import Integration, Requester

    before = db.session.execute(sa.select(Requester.entra_object_id, Requester.status)
                                .order_by(Requester.entra_object_id)).all()
    link_before = synced.delta_link
    settings = dataclasses.replace(jobs.sync_settings(app.config), page_size=100)

    def kill_on_second_page(run):
        if run.pages == 2:
            pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            _kill_backends(postgres, [pid])

    run = start_run(synced, "full", "manual")
    try:
        build_sync_engine(synced, run, settings, on_page=kill_on_second_page).execute()
    except Exception as exc:  # the crash path records the failure, then re-raises
        assert isinstance(exc, sa.exc.OperationalError), exc
    db.session.rollback()
    db.session.expire_all()
    failed = db.session.get(type(run), run.id)
    assert failed.status == "failed"
    assert db.session.get(Integration, synced.id).delta_link == link_before
    again = build_sync_engine(synced, start_run(synced, "full", "manual"), jobs.sync_settings(app.config)).execute()
    assert again.status == "succeeded"
    after = db.session.execute(sa.select(Requester.entra_object_id, Requester.status)
                               .order_by(Requester.entra_object_id)).all()
    assert after == before


def test_two_concurrent_sign_ins_never_share_a_session(app, db, synced, emulator):
    """Two people sign in at the same moment on one server: each lands on their own home page."""
    signing_in = people(emulator, 4, skip=2)
    results = {}
    target = SimpleNamespace(id=synced.id)  # ORM objects belong to the test's session, not to these threads

    def one(person):
        with app.app_context():
            client = app.test_client()
            done = sign_in(client, target, person["userPrincipalName"], person["password"])
            results[person["displayName"]] = (done.status_code, client.get("/profile").get_data(as_text=True))

    threads = [threading.Thread(target=one, args=(p,)) for p in signing_in]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    for person in signing_in:
        status, profile = results[person["displayName"]]
        assert status == 302 and person["displayName"] in profile
        assert not any(p["displayName"] in profile for p in signing_in if p is not person)
