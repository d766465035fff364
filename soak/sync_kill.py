"""SIGKILL soak: a 20,000-user full sync killed at random points, ten times; each restart must finish the job.

For every round: empty requester table, `flask sync run --full` as its own process, SIGKILL after a random share
of the clean run's time, then checks (no duplicate requesters, the deltaLink has not moved: nothing past
uncommitted data), then a restarted run that must complete without waiting for the dead process's lease and must
leave exactly the table of the clean run. Exits 1 on any failure.
Run: .venv/bin/python -m soak.sync_kill [ROUNDS] [USERS] [DATABASE_URL]   (make soak)
"""
import random
import signal
import sys
import time
from functools import lru_cache

import sqlalchemy as sa

from bench.stack import Stack

FIELDS = ("entra_object_id", "display_name", "email", "department", "job_title", "status", "manager_object_id")


def main(rounds: int, users: int, db_url: str) -> None:
    rng = random.Random(20261126)
    with Stack(users, db_url, None, start_web=False) as stack:
        clean = table(stack)
        timings = []
        for _ in range(2):  # the second timing is the one to aim kills at (the first warms caches)
            reset(stack)
            began = time.perf_counter()
            if run_to_end(stack) != 0:
                raise SystemExit("the clean full sync failed")
            timings.append(time.perf_counter() - began)
            if table(stack) != clean:
                raise SystemExit("two clean full syncs of the same tenant disagree")
        clean_seconds = min(timings)
        print(f"clean full sync of {len(clean)} users: {clean_seconds:.1f} s")
        failures = 0
        for number in range(1, rounds + 1):
            reset(stack)
            last_run = latest_run_id(stack)
            process = stack.flask("sync", "run", "--full", "--integration", str(stack.integration_id))
            wait = rng.uniform(0.1, 0.85) * clean_seconds
            time.sleep(wait)
            process.send_signal(signal.SIGKILL)
            process.wait()
            partial, link, duplicates, finished = state(stack, after_run=last_run)
            restarted = time.perf_counter()
            code = run_to_end(stack)
            restart_seconds = time.perf_counter() - restarted
            same = table(stack) == clean
            # The cursor may move only with a finished run: a kill after the run's last commit is not a failure.
            cursor_ok = (link is not None) == finished
            ok = code == 0 and same and cursor_ok and duplicates == 0
            failures += not ok
            print(f"round {number}: killed after {wait:.1f} s with {partial} of {len(clean)} requesters committed, "
                  f"run {'finished' if finished else 'unfinished'}; deltaLink "
                  f"{('set' if finished else 'MOVED TOO EARLY') if link else 'unset'}; duplicates {duplicates}; restart "
                  f"{'completed' if code == 0 else 'FAILED'} in {restart_seconds:.1f} s; table "
                  f"{'matches' if same else 'DIFFERS FROM'} the clean run")
    print(f"{rounds - failures} of {rounds} rounds passed")
    sys.exit(1 if failures else 0)


def run_to_end(stack: Stack) -> int:
    process = stack.flask("sync", "run", "--full", "--integration", str(stack.integration_id))
    output, _ = process.communicate(timeout=600)
    if process.returncode:
        print(output[-2000:])
    return process.returncode


def reset(stack: Stack) -> None:
    """Forget every requester and the sync cursor, as if the integration had just been installed."""
    with engine(stack).begin() as conn:
        if conn.dialect.name == "postgresql":  # DELETE would check the manager self-reference row by row
            conn.execute(sa.text("TRUNCATE requesters CASCADE"))
        else:
            conn.execute(sa.text("DELETE FROM requesters"))
        conn.execute(sa.text("UPDATE integrations SET delta_link = NULL, last_sync_at = NULL"))


def latest_run_id(stack: Stack) -> int:
    with engine(stack).connect() as conn:
        return conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM sync_runs")).scalar()


def state(stack: Stack, after_run: int) -> tuple[int, str | None, int, bool]:
    """Rows committed, the cursor, duplicate requesters, and whether the killed run (newer than after_run) finished."""
    with engine(stack).connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM requesters")).scalar()
        distinct = conn.execute(sa.text("SELECT count(DISTINCT entra_object_id) FROM requesters")).scalar()
        link = conn.execute(sa.text("SELECT delta_link FROM integrations")).scalar()
        status = conn.execute(sa.text("SELECT status FROM sync_runs WHERE id > :after ORDER BY id LIMIT 1"),
                              {"after": after_run}).scalar()
    return count, link, count - distinct, status == "succeeded"


def table(stack: Stack) -> list[tuple]:
    with engine(stack).connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT {', '.join(FIELDS)} FROM requesters ORDER BY entra_object_id"))]  # noqa: S608 (fixed names)


def engine(stack: Stack):
    return _engine(stack.db_url)


@lru_cache
def _engine(url: str):
    """One engine per database for the whole soak."""
    return sa.create_engine(url)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, int(sys.argv[2]) if len(sys.argv) > 2 else 20_000,
         sys.argv[3] if len(sys.argv) > 3 else "postgresql://postgres@127.0.0.1:5432/postgres")
