"""Admin pages at scale, measured in process against generated data.

The data set: 100,000 requesters of one integration, 1,000,000 audit events over 90 days, 200,000 device sessions
(20,000 of them live) and 50,000 tickets. The schema comes from the migrations; the rows are bulk-inserted (COPY on
PostgreSQL, executemany on SQLite), not written through the UI. The generated audit rows are linked (each prev_hash
is the previous row's hash) but their hashes are not computed over their content, so `flask audit verify` reports
the chain broken: no page measured here reads the chain.

Prints:
- generation time per table;
- p50 and p99 of each admin page over REQUESTS requests, with an admin signed in through the Flask test client;
- the full audit CSV export (1,000,000 rows): rows/s and the process's peak RSS while it streams.
Run: .venv/bin/python -m bench.admin_bench [DATABASE_URL] [--reuse]   (default: a SQLite file in a temp dir)
A PostgreSQL database is created when it does not exist, and its public schema is dropped and rebuilt: give it one
of its own (`make bench` uses bench_admin).
--reuse keeps the data already in DATABASE_URL (it only runs pending migrations), to measure a change quickly;
ADMIN_BENCH_SCALE=0.01 generates a hundredth of the data, to try the benchmark itself.
"""
import hashlib
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import islice

import sqlalchemy as sa

from config import TestingConfig, database_url

SCALE = float(os.environ.get("ADMIN_BENCH_SCALE", "1"))  # 0.01 for a quick try of the benchmark itself
REQUESTERS, EVENTS, SESSIONS, LIVE_SESSIONS, TICKETS = (int(n * SCALE) for n in (100_000, 1_000_000, 200_000, 20_000,
                                                                                  50_000))
REQUESTS = 30
DAYS = 90
TARGET_P50, TARGET_P99 = 50, 150
EXPORT_ROWS_PER_S, EXPORT_RSS_MB = 50_000, 150
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "correct horse battery staple"
SEARCH = "garc"  # part of a surname, as an admin types it
SEARCH_CLUSTERED = "olivia"  # a first name: its matches sit together late in name order

FIRST = ("Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "James", "Isabella",
         "William", "Mia", "Lucas", "Charlotte", "Henry", "Zoë", "José", "Łukasz", "Søren", "Aoife", "Chidi", "Mei",
         "Arjun", "Fatima", "Mateo", "Ingrid", "Kenji", "Priya", "Omar", "Elena", "Pierre", "Anja", "Tomás", "Yuki",
         "Hannah", "Jakob", "Leila", "Marta", "Niamh", "Rafael", "Sara", "Tobias", "Ursula", "Viktor", "Wei", "Ximena",
         "Yusuf", "Zara", "Ada", "Björn", "Carmen", "Dmitri", "Emeka", "Freya", "Gabriel", "Hugo", "Irene", "Jonas")
LAST = ("Smith", "Johnson", "Müller", "García", "Martínez", "Rossi", "Dubois", "Nowak", "Kowalski", "Jensen",
        "Nielsen", "O'Brien", "Murphy", "Nguyen", "Kim", "Tanaka", "Sato", "Patel", "Singh", "Khan", "Ali", "Hansen",
        "Johansson", "Larsen", "Andersson", "Silva", "Santos", "Pereira", "Costa", "Schmidt", "Schneider", "Fischer",
        "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Novák", "Horváth", "Popescu", "Ivanov", "Petrov", "Garcia",
        "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Okafor",
        "Mensah", "Haddad", "Cohen", "Levi", "Fernández", "López", "González", "Rodríguez", "Sánchez", "Ramírez")
DEPARTMENTS = ("Sales", "Finance", "Engineering", "Support", "Marketing", "Legal", "HR", "Operations", "IT", "Research")
TITLES = ("Analyst", "Engineer", "Manager", "Director", "Consultant", "Specialist", "Coordinator", "Associate")
OFFICES = (("London", "GB"), ("Dublin", "IE"), ("Berlin", "DE"), ("Paris", "FR"), ("Madrid", "ES"), ("Warsaw", "PL"),
           ("New York", "US"), ("Toronto", "CA"), ("Singapore", "SG"), ("Sydney", "AU"))
AGENTS = (  # (user agent, weight)
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 40),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 8),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", 12),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Mobile/15E148 Safari/604.1", 16),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
     "Safari/537.36", 9),
    ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 "
     "Safari/604.1", 5),
    ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 3),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 1),
    ("curl/8.5.0", 2),
    (None, 4),
)
# action, weight (per 1,000 events), actor kind, target kind, failure share, reasons
ACTIONS = (
    ("requester.sign_in", 170, "requester", "requester", 0, ()),
    ("session.started", 185, "requester", "session", 0, ()),
    ("session.expired", 150, "scheduler", "session", 0, ("idle_timeout", "absolute_timeout")),
    ("requester.sign_out", 40, "requester", "requester", 0, ()),
    ("session.revoked", 15, "requester", "session", 0, ("revoked_by_user", "revoked_by_admin", "device_limit")),
    ("requester.sign_in_failed", 25, "requester", "requester", 1, ("cancelled", "not_synced", "account_disabled",
                                                                   "tenant_mismatch", "locked")),
    ("requester.locked_out", 2, "system", "requester", 1, ("too many failed sign-ins",)),
    ("requester.unlocked", 1, "admin", "requester", 0, ("unlocked by an admin",)),
    ("authorization.denied", 6, "requester", None, 1, ("admin_only",)),
    ("admin.sign_in", 4, "admin", "admin", 0, ()),
    ("admin.sign_in_failed", 1, "anonymous", "admin", 1, ("wrong_password",)),
    ("admin.sign_out", 3, "admin", "admin", 0, ()),
    ("ticket.created", 50, "requester", "ticket", 0, ()),
    ("ticket.status_changed", 110, "admin", "ticket", 0, ()),
    ("ticket.commented", 60, "requester", "ticket", 0, ()),
    ("action.requested", 40, "system", "action_run", 0, ()),
    ("action.finished", 40, "system", "action_run", 0.05, ("Graph error",)),
    ("approval.requested", 10, "system", "approval", 0, ()),
    ("approval.approved", 8, "requester", "approval", 0, ()),
    ("sync.started", 40, "scheduler", "integration", 0, ()),
    ("sync.finished", 40, "scheduler", "integration", 0.02, ("Graph returned 503",)),
    ("setting.changed", 1, "admin", "setting", 0, ()),
    ("mapping.changed", 1, "admin", "integration", 0, ()),
)


def main(db_url: str | None, reuse: bool) -> None:
    url = database_url(db_url) if db_url else f"sqlite:///{tempfile.mkdtemp()}/admin-bench.db"
    dialect = url.split(":", 1)[0].split("+")[0]
    if dialect == "postgresql":
        _create_database(url)
    print(f"database: {dialect}; machine: {os.cpu_count()} cores; {REQUESTS} requests a page", flush=True)
    # The data is generated in a child process, so this process's memory is a web process's, not the generator's.
    child = multiprocessing.get_context("spawn").Process(target=prepare, args=(url, reuse))
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit("generating the data set failed")
    app = _app(url)
    client = app.test_client()
    with app.app_context():
        urls = page_urls()
    sign_in(client)
    results = [(name, timings(app, client, url_of)) for name, url_of in urls]
    for name, samples in results:
        report(name, samples)
    export(app, client)


def _create_database(url: str) -> None:
    """CREATE DATABASE through the server's maintenance database, when the benchmark's own does not exist yet."""
    target = sa.engine.make_url(url)
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}):
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def _app(url: str):
    from portal import create_app

    app = create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None, LOG_LEVEL="WARNING")
    _quiet()
    return app


def prepare(url: str, reuse: bool) -> None:
    """Migrations, then the data set (unless --reuse finds it there), then fresh planner statistics."""
    with _app(url).app_context():
        _prepare(reuse)
    sys.stdout.flush()


def _prepare(reuse: bool) -> None:
    from flask_migrate import upgrade

    from portal.database import db

    engine = db.engine
    existing = reuse and sa.inspect(engine).has_table("requesters") and \
        db.session.scalar(sa.text("SELECT count(*) FROM requesters")) >= REQUESTERS
    db.session.remove()
    if not existing and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    began = time.perf_counter()
    upgrade()
    print(f"migrations: {time.perf_counter() - began:.1f} s" + (" (on the existing data)" if existing else ""))
    if not existing:
        generate(engine)
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load, done now so runs compare
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))


def generate(engine) -> None:
    """Every table of the data set, timed one by one."""
    rng = random.Random(20261128)
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = _stamper(engine.dialect.name)
    total = time.perf_counter()
    integration_id = _integration(engine, now)
    people = _timed(engine, "requesters", REQUESTERS, lambda: requester_rows(rng, now, stamp, integration_id))
    _timed(engine, "device_sessions", SESSIONS, lambda: session_rows(rng, now, stamp))
    _timed(engine, "tickets", TICKETS, lambda: ticket_rows(rng, now, stamp))
    _timed(engine, "sync_runs", DAYS * 24, lambda: sync_run_rows(now, stamp, integration_id))
    _timed(engine, "audit_events", EVENTS, lambda: audit_rows(rng, now, stamp, people))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("requesters", "device_sessions", "tickets", "sync_runs", "audit_events"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constants)
                                     f"(SELECT max(id) FROM {table}))"))
    print(f"generated in {time.perf_counter() - total:.1f} s")


def _timed(engine, table: str, count: int, rows) -> list | None:
    began = time.perf_counter()
    columns, produced, extra = rows()
    bulk_insert(engine, table, columns, produced)
    elapsed = time.perf_counter() - began
    print(f"  {table}: {count:,} rows in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")
    return extra


def bulk_insert(engine, table: str, columns: tuple, rows, chunk: int = 20_000) -> None:
    """COPY on PostgreSQL, executemany in chunks on SQLite; one transaction."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        cursor = raw.cursor()
        rows = iter(rows)
        while batch := list(islice(rows, chunk)):
            cursor.executemany(sql, batch)


def _stamper(dialect: str):
    """Timestamps as the driver stores them: aware datetimes for psycopg, SQLAlchemy's text format on SQLite."""
    if dialect == "postgresql":
        return lambda when: when
    return lambda when: when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _integration(engine, now: datetime) -> int:
    from portal.database import db
    from portal.models import Integration

    item = Integration(name="Contoso staff", tenant_id="contoso.example", client_id="0" * 36, secret_encrypted=b"-",
                       secret_expires_on=(now + timedelta(days=200)).date(), status="verified",
                       granted_permissions=["User.ReadWrite.All", "Directory.Read.All", "AuditLog.Read.All",
                                            "User.RevokeSessions.All"],
                       mapping_version=1, last_sync_at=now - timedelta(minutes=20), verified_at=now - timedelta(days=DAYS))
    db.session.add(item)
    db.session.flush()
    integration_id = item.id
    db.session.commit()
    db.session.remove()  # reading item.id after the commit would open a transaction, and VACUUM would wait on it
    return integration_id


def _ascii(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace("'", "")


def requester_rows(rng, now, stamp, integration_id):
    """100,000 people: mostly active, some disabled or removed, a few guests and a few locked right now."""
    columns = ("id", "integration_id", "entra_object_id", "user_principal_name", "email", "display_name", "given_name",
               "surname", "job_title", "department", "company_name", "office_location", "city", "country", "user_type",
               "manager_id", "account_enabled", "status", "failed_attempts", "lockout_count", "locked_until",
               "last_signed_in_at", "last_synced_at", "content_hash", "created_at", "updated_at")
    labels = [""]
    return columns, _people(rng, now, stamp, integration_id, labels), labels


def _people(rng, now, stamp, integration_id, labels):
    """Requester rows one by one (streamed, so the benchmark process stays small); fills `labels` as it goes."""
    seen: dict[str, int] = {}
    for rid in range(1, REQUESTERS + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{_ascii(first)}.{_ascii(last)}"
        seen[handle] = seen.get(handle, 0) + 1
        handle += str(seen[handle]) if seen[handle] > 1 else ""
        guest = rng.random() < 0.03
        mail = f"{handle}@{'partner.example' if guest else 'contoso.example'}"
        upn = f"{handle}_partner.example#EXT#@contoso.example" if guest else mail
        status = rng.choices(("active", "disabled", "deleted"), (90, 6, 4))[0]
        city, country = rng.choice(OFFICES)
        created = now - timedelta(days=DAYS + 400 * rng.random())
        locked = stamp(now + timedelta(minutes=rng.randint(5, 60))) if rng.random() < 0.003 else None
        seen_at = stamp(now - timedelta(days=DAYS * rng.random())) if rng.random() < 0.8 else None
        labels.append(f"{first} {last}")
        yield (rid, integration_id, str(_uuid(rng)), upn, mail, f"{first} {last}", first, last,
               rng.choice(TITLES), rng.choice(DEPARTMENTS), "Contoso", f"{city} {rng.randint(1, 9)}", city,
               country, "Guest" if guest else "Member", rng.randint(1, rid - 1) if rid > 20 else None,
               status == "active", status, 0, 0, locked, seen_at, stamp(now - timedelta(minutes=20)),
               f"{rng.getrandbits(256):064x}", stamp(created), stamp(now - timedelta(minutes=20)))


def _uuid(rng):
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _agent_table(rng):
    from portal.devices.registry import describe_device

    agents = [(ua, *describe_device(ua)) for ua, _ in AGENTS]
    weights = [w for _, w in AGENTS]
    return lambda: rng.choices(agents, weights)[0]


def _ip(rng) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def session_rows(rng, now, stamp):
    """200,000 device sessions over 90 days; the newest 20,000 are live (seen within the idle timeout)."""
    columns = ("id", "sid_hash", "principal_type", "requester_id", "device_label", "device_type", "user_agent",
               "ip_address", "created_at", "last_seen_at", "authenticated_at", "expires_at", "ended_at", "end_reason")
    agent = _agent_table(rng)
    span = timedelta(days=DAYS).total_seconds()

    def rows():
        for sid in range(1, SESSIONS + 1):
            ua, label, kind = agent()
            live = sid > SESSIONS - LIVE_SESSIONS
            if live:
                started = now - timedelta(minutes=rng.uniform(1, 11 * 60))
                seen = max(started, now - timedelta(minutes=rng.uniform(0, 30)))
                ended, reason = None, None
            else:
                started = now - timedelta(seconds=span * (1 - sid / SESSIONS)) - timedelta(hours=12)
                seen = started + timedelta(minutes=rng.uniform(1, 240))
                reason = rng.choices(("idle_timeout", "absolute_timeout", "signed_out", "revoked_by_user",
                                      "revoked_by_admin", "device_limit"), (60, 10, 20, 5, 2, 3))[0]
                ended = seen + timedelta(minutes=30)
            yield (sid, f"{rng.getrandbits(256):064x}", "requester", rng.randint(1, REQUESTERS), label, kind, ua,
                   _ip(rng), stamp(started), stamp(seen), stamp(started), stamp(started + timedelta(hours=12)),
                   ended and stamp(ended), reason)
    return columns, rows(), None


TICKET_KINDS = (  # category id (the migration's catalogue order), weight, subjects
    (1, 30, ("Locked out of my account", "Cannot sign in since this morning", "Account locked after password change")),
    (2, 25, ("Reset my password", "Forgot my password", "Password expired while travelling")),
    (3, 5, ("Leaver: disable account",)),
    (4, 40, ("New laptop", "VPN does not connect", "Printer on floor 3 offline", "Access to the finance share",
             "Outlook keeps asking for my password", "Teams camera not working", "Install Visio")),
)


def ticket_rows(rng, now, stamp):
    """50,000 tickets over 90 days: older ones mostly closed or resolved, recent ones open or in progress."""
    columns = ("id", "requester_id", "unverified", "subject_requester_id", "category_id", "subject", "description",
               "status", "created_at", "updated_at")
    span = timedelta(days=DAYS).total_seconds()

    def rows():
        for tid in range(1, TICKETS + 1):
            category, _, subjects = rng.choices(TICKET_KINDS, [k[1] for k in TICKET_KINDS])[0]
            created = now - timedelta(seconds=span * (1 - tid / TICKETS))
            age = (now - created).days
            weights = (2, 2, 0.3, 40, 55) if age > 7 else (30, 25, 5, 25, 15)
            status = rng.choices(("open", "in_progress", "needs_attention", "resolved", "closed"), weights)[0]
            about = rng.randint(1, REQUESTERS) if category == 3 else None
            yield (tid, rng.randint(1, REQUESTERS), False, about, category, rng.choice(subjects),
                   "Details as the requester typed them.", status, stamp(created),
                   stamp(min(now, created + timedelta(hours=rng.uniform(0, 72)))))
    return columns, rows(), None


def sync_run_rows(now, stamp, integration_id):
    """An hourly delta sync for 90 days."""
    columns = ("id", "integration_id", "mode", "trigger", "status", "started_at", "finished_at", "pages", "fetched",
               "created", "updated", "unchanged", "deactivated", "reactivated", "failed", "retries",
               "held_deactivations", "conflicts", "excluded", "already_removed", "errors")
    rows = []
    for run in range(1, DAYS * 24 + 1):
        started = now - timedelta(hours=DAYS * 24 - run + 1)
        rows.append((run, integration_id, "delta", "scheduler", "succeeded", stamp(started),
                     stamp(started + timedelta(seconds=4 + run % 7)), 1, 40 + run % 13, run % 3, 30 + run % 11, 0,
                     run % 2, 0, 0, 0, 0, 0, 0, 0, "[]"))
    return columns, rows, None


def audit_rows(rng, now, stamp, labels):
    """1,000,000 events oldest first over 90 days in the mix a portal of this size records; some people are much
    more active than others."""
    columns = ("id", "occurred_at", "actor_type", "actor_id", "actor_label", "action", "target_type", "target_id",
               "target_label", "outcome", "reason", "ip_address", "user_agent", "request_id", "detail", "prev_hash",
               "hash")
    agent = _agent_table(rng)
    start, step = now - timedelta(days=DAYS), timedelta(days=DAYS) / EVENTS
    weights = [a[1] for a in ACTIONS]

    def rows():
        prev = "0" * 64
        for eid in range(1, EVENTS + 1):
            action, _, actor_kind, target_kind, failure, reasons = rng.choices(ACTIONS, weights)[0]
            person = int(REQUESTERS * rng.random() ** 1.5) + 1
            actor = _actor(actor_kind, person, labels, rng)
            target = _target(target_kind, person, labels, rng)
            failed = rng.random() < failure
            ua = agent()[0] if actor_kind in ("requester", "admin", "anonymous") else None
            digest = hashlib.sha256(f"{prev}\n{eid}".encode()).hexdigest()
            yield (eid, stamp(start + step * eid), *actor, action, *target, "failure" if failed else "success",
                   rng.choice(reasons) if reasons and (failed or failure == 0) else None,
                   _ip(rng) if ua else None, ua, f"{rng.getrandbits(64):016x}" if ua else None,
                   _detail(action, rng), prev, digest)
            prev = digest
    return columns, rows(), None


def _actor(kind: str, person: int, labels, rng) -> tuple:
    if kind == "requester":
        return "requester", str(person), labels[person]
    if kind == "admin":
        number = rng.randint(1, 5)
        return "admin", str(number), f"IT Admin {number}"
    return kind, None, {"system": "Frontdesk", "scheduler": "Scheduler"}.get(kind)


def _target(kind: str | None, person: int, labels, rng) -> tuple:
    if kind is None:
        return None, None, None
    if kind == "requester":
        return "requester", str(person), labels[person]
    if kind == "admin":
        number = rng.randint(1, 5)
        return "admin", str(number), f"admin{number}@contoso.example"
    number = rng.randint(1, {"session": SESSIONS, "ticket": TICKETS}.get(kind, 40_000))
    label = {"session": f"Chrome 131 on Windows 10 (requester:{person})", "ticket": f"#{number}",
             "integration": "Contoso staff", "setting": "session_idle_minutes"}.get(kind, f"{kind} {number}")
    return kind, str(1 if kind == "integration" else number), label


def _detail(action: str, rng) -> str:
    if action == "sync.finished":
        return json.dumps({"created": rng.randint(0, 3), "updated": rng.randint(0, 60), "deactivated": 0})
    if action == "session.started":
        return json.dumps({"device": "Chrome 131 on Windows 10", "type": "desktop", "replaced": []})
    if action == "ticket.status_changed":
        return json.dumps({"old": "open", "new": rng.choice(("in_progress", "resolved", "closed"))})
    return "{}"


def page_urls() -> list:
    """(name, url for the i-th request) of each page measured; ids and cursors read from the data set."""
    from portal.database import db

    people = random.Random(7).sample(range(1, db.session.scalar(sa.text("SELECT max(id) FROM requesters")) + 1),
                                     REQUESTS + 1)
    cursor = db.session.scalar(sa.text("SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET :n"),
                               {"n": min(999 * 50 - 1, EVENTS // 2)})  # page 1,000 follows the 49,950th newest
    matches = [db.session.scalar(sa.text("SELECT count(*) FROM requesters WHERE lower(display_name) LIKE :q OR "
                                         "lower(email) LIKE :q OR lower(user_principal_name) LIKE :q"), {"q": f"%{q}%"})
               for q in (SEARCH, SEARCH_CLUSTERED)]
    print(f"search '{SEARCH}' matches {matches[0]:,} requesters, '{SEARCH_CLUSTERED}' {matches[1]:,}; audit page 1,000 "
          f"starts before id {cursor:,}")
    return [
        ("dashboard", lambda i: "/admin/"),
        ("requesters, first page", lambda i: "/admin/requesters"),
        (f"requesters, search '{SEARCH}'", lambda i: f"/admin/requesters?q={SEARCH}"),
        (f"requesters, search '{SEARCH_CLUSTERED}'", lambda i: f"/admin/requesters?q={SEARCH_CLUSTERED}"),
        ("requester detail", lambda i: f"/admin/requesters/{people[i]}"),
        ("audit log, first page", lambda i: "/admin/audit"),
        ("audit log, filtered (action=requester.sign_in_failed)", lambda i: "/admin/audit?action=requester.sign_in_failed"),
        ("audit log, page 1,000 by keyset", lambda i: f"/admin/audit?before={cursor}"),
        ("sessions list", lambda i: "/admin/sessions"),
        ("tickets list", lambda i: "/admin/tickets"),
    ]


def sign_in(client) -> None:
    """Create the admin and sign in through the real form."""
    import re

    from portal.accounts import create_admin
    from portal.database import db

    with client.application.app_context():
        if not db.session.scalar(sa.text("SELECT id FROM admins WHERE email = :e"), {"e": ADMIN_EMAIL}):
            create_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "Bench Admin")
        db.session.remove()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/admin/login").get_data(as_text=True))[1]
    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"the admin could not sign in: {response.status_code}")


def timings(app, client, url_of) -> list[float]:
    """Milliseconds of REQUESTS requests after one warm-up (the 0th); each request gets its own app context, as in
    production."""
    samples = []
    for i in range(REQUESTS + 1):
        began = time.perf_counter()
        response = client.get(url_of(i))
        samples.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url_of(i)} answered {response.status_code}")
    return samples[1:]


def percentile(samples: list[float], share: float) -> float:
    """Nearest rank: with 30 samples p99 is the slowest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def report(name: str, samples: list[float]) -> None:
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    ok = "✓" if p50 <= TARGET_P50 and p99 <= TARGET_P99 else "✗"
    print(f"{name}: p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p50 ≤ {TARGET_P50}, p99 ≤ {TARGET_P99}) {ok}")


class RssSampler(threading.Thread):
    """The process's resident set every 10 ms, keeping the peak."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = current_rss_mb(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, current_rss_mb())
            time.sleep(0.01)


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def export(app, client) -> None:
    """Stream the whole audit log as CSV and count its rows."""
    sampler = RssSampler()
    before = current_rss_mb()
    sampler.start()
    began = time.perf_counter()
    response = client.get("/admin/audit/export.csv", buffered=False)
    lines, size = 0, 0
    for chunk in response.iter_encoded():
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - began
    sampler.running = False
    sampler.join()
    rows = lines - 1
    rate = rows / elapsed
    ok = "✓" if rate >= EXPORT_ROWS_PER_S and sampler.peak < EXPORT_RSS_MB else "✗"
    print(f"audit CSV export: {rows:,} rows ({size / 2 ** 20:,.0f} MB) in {elapsed:.1f} s = {rate:,.0f} rows/s, "
          f"peak RSS {sampler.peak:.0f} MB (before the export {before:.0f} MB; lifetime peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB) "
          f"(target ≥ {EXPORT_ROWS_PER_S:,} rows/s, < {EXPORT_RSS_MB} MB) {ok}")


def _quiet():
    import logging

    for name in ("werkzeug", "portal", "alembic", "flask_migrate"):
        logging.getLogger(name).setLevel(logging.WARNING)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else None, "--reuse" in sys.argv)
