"""In-process cost of the requester home page: its SQL statements, p50 against /healthz, and a pyinstrument profile.

Run: .venv/bin/python -m bench.home_profile [DATABASE_URL] [REDIS_URL]   (default: a temporary SQLite file)
The policy cache is on (5 s), as in production. PostgreSQL: the database's schema is dropped and rebuilt.
"""
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa
from flask_migrate import upgrade

from config import TestingConfig
from portal import create_app
from portal.extensions import db

REQUESTS = 300


def build(url: str, redis_url: str | None):
    """An app on a fresh schema with one requester signed in on one device; returns (app, client)."""
    from portal.devices.registry import SessionPolicy, register_device
    from portal.models import Requester

    app = create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis_url, POLICY_CACHE_SECONDS=5)
    client = app.test_client()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        person = Requester(display_name="Bench Person", email="bench@example.com", status="active",
                           account_enabled=True)
        db.session.add(person)
        db.session.commit()
        with client.session_transaction() as sess:
            device, _ = register_device(person, sess.sid, "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "127.0.0.1",
                                        SessionPolicy())
            sess.update({"_user_id": person.get_id(), "_fresh": True, "device_id": device.id,
                         "principal_type": "requester", "auth_time": time.time()})
        db.session.commit()
    return app, client


def p50_ms(client, url: str) -> float:
    times = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main(url: str, redis_url: str | None) -> None:
    from pyinstrument import Profiler

    app, client = build(url, redis_url)
    with app.app_context():
        engine = db.engine
    assert client.get("/home").status_code == 200
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    client.get("/home")
    sa.event.remove(engine, "before_cursor_execute", record)
    print(f"statements per /home: {len(seen)}")
    for statement in seen:
        print("  ", statement[:140])
    print(f"/home p50 {p50_ms(client, '/home'):.2f} ms; /healthz p50 {p50_ms(client, '/healthz'):.2f} ms")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(REQUESTS):
        client.get("/home")
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/home.db",
         sys.argv[2] if len(sys.argv) > 2 else None)
