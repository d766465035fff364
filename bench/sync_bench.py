"""Directory sync at scale against the emulator over loopback HTTPS, with the floor measured in the same run.

Prints, for N users (default 100,000, page size 999):
- full sync: wall time, users/s, peak RSS of this process (the sync runs here), and the ratio to the floor;
- floor: the same pages fetched with a plain requests loop, each page inserted with one executemany;
- delta after 1% of users changed, as a share of the full-sync time;
- a no-change delta: requester rows written (counted at the SQL level; the target is zero).
Run: .venv/bin/python -m bench.sync_bench [USERS] [DATABASE_URL]; BENCH_PROFILE=file profiles the full sync.
"""
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from config import TestingConfig, database_url


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mark(met: bool) -> str:
    return "✓" if met else "✗"


def main(users: int, db_url: str | None) -> None:
    from emulator.client import EmulatorClient
    from portal import create_app
    from portal.database import db
    from portal.directory import field_mapping
    from portal.directory.runs import PAGE_SIZE, start_run
    from portal.directory.sync import SyncSettings, build_sync_engine
    from portal.models import Requester

    # The emulator runs in its own process, so this process's peak RSS is the sync's own.
    emulator_proc, info = _start_emulator(users)
    emu = EmulatorClient(info)
    url = database_url(db_url) if db_url else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None, LOG_LEVEL="WARNING",
                     ENTRA_AUTHORITY_HOST=info["authority_host"], GRAPH_ENDPOINT=info["graph_endpoint"],
                     ENTRA_CA_BUNDLE=info["ca_file"])
    logging_quiet()
    with app.app_context():
        item, creds, settings = install_fresh(app, emu, "Bench")
        select = field_mapping.select_for(field_mapping.default_mapping())

        def run(mode):
            sync_run = start_run(item, mode, "cli")
            engine = build_sync_engine(item, sync_run, SyncSettings(settings, threshold_percent=50))
            began = time.perf_counter()
            engine.execute()
            elapsed = time.perf_counter() - began
            return elapsed, {k: getattr(sync_run, k) for k in ("created", "updated", "unchanged", "status")}

        rss_before = peak_rss_mb()
        profiler = _profiler()
        full_time, full = run("full")
        if profiler:
            profiler.stop()
            Path(os.environ["BENCH_PROFILE"]).write_text(profiler.output_text(unicode=True, show_all=False))
        rss_full = peak_rss_mb()
        floor_time = floor(info, creds, select, db, users)
        ids = db.session.scalars(sa.select(Requester.entra_object_id).order_by(Requester.entra_object_id)
                                 .limit(users // 100)).all()
        for object_id in ids:
            emu.update_user(object_id, department="Changed for the benchmark")
        delta_time, delta = run("delta")
        writes = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda c, cur, stmt, *a: writes.append(stmt)
                        if stmt.lstrip().upper().startswith(("INSERT INTO REQUESTERS", "UPDATE REQUESTERS")) else None)
        noop_time, noop = run("delta")
    emulator_proc.terminate()
    dialect = url.split(":", 1)[0]
    print(f"database: {dialect}; users: {users}; page size {PAGE_SIZE}; machine: {os.cpu_count()} cores")
    print(f"full sync: {full_time:.2f} s, {full['created'] / full_time:,.0f} users/s, created {full['created']}, status {full['status']}")
    print(f"floor (requests loop + executemany per page): {floor_time:.2f} s -> full sync = {full_time / floor_time:.2f}x the floor "
          f"(target <= 1.5x) {_mark(full_time / floor_time <= 1.5)}")
    print(f"peak RSS of the sync process: {rss_full:.0f} MB (after start-up, before the sync: {rss_before:.0f} MB; "
          f"target <= 150 MB) {_mark(rss_full <= 150)}")
    print(f"delta after 1% changed: {delta_time:.2f} s, updated {delta['updated']} -> {delta_time / full_time:.1%} of the full sync "
          f"(target <= 3%) {_mark(delta_time / full_time <= 0.03)}")
    print(f"no-change delta: {noop_time:.2f} s in this process (target < 0.5 s) {_mark(noop_time < 0.5)}, "
          f"requester rows written: {len(writes)}")


def install_fresh(app, emu, name: str):
    """In an app context: an empty schema, the migrations, and the Marketplace install with the emulator's app."""
    from flask_migrate import upgrade

    from portal import integrations, signals
    from portal.database import db
    from portal.entra import clients

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade()
    creds = emu.app()
    settings = clients.MicrosoftSettings.from_config(app.config)
    form = integrations.InstallRequest(name, emu.tenant_id, creds["client_id"], creds["client_secret"],
                                    date.today() + timedelta(days=90))
    return integrations.install(form, settings, actor=signals.SYSTEM), creds, settings


def _start_emulator(users: int):
    """`python -m emulator` in a child process; wait for its info file."""
    import json
    import subprocess

    directory = Path(tempfile.mkdtemp())
    info_file = directory / "info.json"
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--users", str(users), "--https-port", "0", "--quiet",
                             "--info-file", str(info_file), "--state-dir", str(directory / "pki")])
    deadline = time.monotonic() + 120
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.1)
    return proc, json.loads(info_file.read_text())


def floor(info, creds, select, db, users) -> float:
    """The same pages with a plain requests loop, each inserted with one executemany into a scratch table."""
    import msal

    from emulator.client import CASession
    from portal.directory.runs import PAGE_SIZE

    http = CASession(info["ca_file"])
    token = msal.ConfidentialClientApplication(
        creds["client_id"], client_credential=creds["client_secret"], authority=f"{info['authority_host']}/{info['tenant_id']}",
        instance_discovery=False, http_client=http).acquire_token_for_client(["https://graph.microsoft.com/.default"])["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    columns = ["id"] + [c for c in select if c != "id"]
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS floor_users"))
        conn.execute(sa.text(f"CREATE TABLE floor_users ({', '.join(f'c{i} TEXT' for i in range(len(columns)))})"))
    insert = sa.text(f"INSERT INTO floor_users VALUES ({', '.join(f':c{i}' for i in range(len(columns)))})")  # noqa: S608 (column names generated here)
    url = f"{info['graph_endpoint']}/v1.0/users?$top={PAGE_SIZE}&$select={','.join(select)}"
    began = time.perf_counter()
    while url:
        body = http.get(url).json()
        rows = [{f"c{i}": str(u.get(c)) for i, c in enumerate(columns)} for u in body["value"]]
        with db.engine.begin() as conn:
            conn.execute(insert, rows)
        url = body.get("@odata.nextLink")
    return time.perf_counter() - began


def _profiler():
    """With BENCH_PROFILE=path, pyinstrument samples the full sync and writes its call tree there."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    return profiler


def logging_quiet():
    import logging

    for name in ("werkzeug", "portal", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, sys.argv[2] if len(sys.argv) > 2 else None)
