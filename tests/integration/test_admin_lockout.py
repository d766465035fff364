"""Admin lockout under attack: atomic counting, no lockout by strangers for a known browser, and no timing oracle."""
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import accounts
from portal.exceptions import InvalidCredentials
from portal.lockout import LockoutPolicy, count_failure, register_failure
from portal.models import Admin, AuditEvent
from tests.conftest import ADMIN_PASSWORD, admin_sign_in

WRONG = "wrong password!!"


def locked_out_events(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "admin.locked_out")) or 0


def test_thirty_parallel_wrong_passwords_lock_exactly_once(app, db, admin, db_url):
    """30 wrong passwords at once on PostgreSQL: one lock, started by the threshold-th failure; before the fix the
    unlocked read-modify-write left failed_attempts=2 and no lock."""
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises the whole database")
    barrier, statuses, email = threading.Barrier(30, timeout=60), [], admin.email  # no ORM objects in threads

    def attempt():
        client = app.test_client()
        token_page = client.get("/admin/login").get_data(as_text=True)
        barrier.wait()
        statuses.append(client.post("/admin/login", data={"email": email, "password": WRONG,
                                                          "csrf_token": _csrf(token_page)}).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    db.session.expire_all()
    stored = db.session.get(Admin, admin.id)
    assert statuses == [401] * 30
    assert stored.locked_until is not None and stored.lockout_count == 1 and locked_out_events(db) == 1


def _csrf(page: str) -> str:
    from tests.conftest import csrf_from

    return csrf_from(page)


def test_the_database_counter_agrees_with_the_reference_model(db, admin):
    """count_failure in SQL makes the same decisions as register_failure on an object, across windows and locks."""
    policy, model = LockoutPolicy(threshold=3, window=timedelta(minutes=5), base=timedelta(minutes=2)), _Shadow()
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    moments = [t0 + timedelta(seconds=s) for s in (0, 10, 20, 30, 100, 200, 400, 700, 710, 720, 1500, 1510, 1520)]
    for moment in moments:
        expected = register_failure(model, moment, policy)
        started = count_failure(Admin, admin.id, moment, policy)
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(Admin, admin.id)
        assert bool(started) == expected, moment
        assert (stored.failed_attempts, stored.lockout_count, stored.locked_until) == (
            model.failed_attempts, model.lockout_count, model.locked_until), moment


class _Shadow:
    failed_attempts, first_failed_at, lockout_count, locked_until = 0, None, 0, None


def test_a_stranger_cannot_lock_an_admin_out_of_a_known_browser(app, db, admin):
    """After a stranger's five wrong passwords, the admin's own browser (known from an earlier sign-in) still gets in
    with the right password; a new browser does not, before or after, and a wrong password from the known browser
    still fails."""
    own = app.test_client()
    assert admin_sign_in(own, admin.email, ADMIN_PASSWORD).status_code == 302
    own.post("/admin/logout", data={"csrf_token": _csrf(own.get("/admin/").get_data(as_text=True))})
    stranger = app.test_client()
    for _ in range(5):
        assert admin_sign_in(stranger, admin.email, WRONG).status_code == 401
    assert locked_out_events(db) == 1
    assert admin_sign_in(app.test_client(), admin.email, ADMIN_PASSWORD).status_code == 401
    assert admin_sign_in(own, admin.email, WRONG).status_code == 401
    assert admin_sign_in(own, admin.email, ADMIN_PASSWORD).status_code == 302
    # Getting in from the known browser does not lift the lock for everyone else (nor reset its escalation).
    assert admin_sign_in(app.test_client(), admin.email, ADMIN_PASSWORD).status_code == 401
    db.session.expire_all()
    assert db.session.get(Admin, admin.id).lockout_count == 1


def test_a_known_device_token_is_bound_to_its_admin_and_password(db, admin, app):
    """Another admin's token, a forged one, or one issued before a password change does not pass a lock."""
    key = app.config["SECRET_KEY"]
    other = accounts.create_admin("second@example.com", ADMIN_PASSWORD + "x", "Second")
    token = accounts.known_device_token(admin, key)
    assert accounts.is_known_device(admin, token, key)
    assert not accounts.is_known_device(other, token, key)
    assert not accounts.is_known_device(admin, token + "x", key)
    assert not accounts.is_known_device(admin, token, "another-secret-key-of-enough-length")
    admin.set_password("A-new-password-2026")
    assert not accounts.is_known_device(admin, token, key)


def test_every_failure_path_costs_the_same(db, admin, app):
    """Unknown email, locked admin and wrong password take the same time (one password hash each): before, a locked
    admin answered in 20 ms and an unknown email in 243 ms, which told which emails exist."""
    policy = LockoutPolicy()
    locked = accounts.create_admin("locked@example.com", ADMIN_PASSWORD, "Locked")
    locked.locked_until = datetime.now(UTC) + timedelta(hours=1)
    db.session.commit()

    def timed(email: str) -> float:
        start = time.perf_counter()
        with pytest.raises(InvalidCredentials):
            accounts.authenticate_admin(email, WRONG, policy)
        return time.perf_counter() - start

    samples = {email: [] for email in ("nobody@example.com", locked.email, admin.email)}
    for _ in range(7):
        for email, times in samples.items():
            times.append(timed(email))
    medians = {email: statistics.median(times) for email, times in samples.items()}
    assert max(medians.values()) / min(medians.values()) < 1.5, medians
