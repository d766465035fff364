"""Leavers out in seconds: time from disabling a user in the emulator to that user's next portal request being refused.

A whole stack on loopback (emulator process, gunicorn over TLS with the production profile, PUBLIC_URL pointing at it).
For each of 50 requesters: sign in, check /home answers 200, disable the account through the emulator's control
API, then GET /home every 50 ms until it answers the redirect to the sign-in page with reason=disabled. Reported as
p50 and p99 against the target (p50 <= 5 s) and against the delta polling interval, the wait without live updates.
Run: .venv/bin/python -m bench.live_updates_bench [CHANGES] [postgresql://...]
"""
import statistics
import sys
import time
from datetime import timedelta

import requests

from bench.stack import Stack
from emulator.client import EmulatorClient

POLL = 0.05
TIMEOUT = 60.0


class LiveStack(Stack):
    """The benchmark stack with PUBLIC_URL set to the portal itself (gunicorn, TLS)."""

    def production_env(self, **extra) -> dict:
        return super().production_env(PUBLIC_URL=f"{self.base}/", **extra)

    def subscribe(self) -> str:
        """Trust the portal's CA in the emulator, then run the maintenance job once: Graph validates the endpoint."""
        from portal import live_update_jobs

        EmulatorClient(self.info).notification_settings(ca_file=self.portal_ca)
        app = self.app()
        app.config["PUBLIC_URL"] = f"{self.base}/"
        return live_update_jobs.maintain(app)[self.integration_id]


def main(changes: int, db_url: str | None) -> None:
    with LiveStack(500, db_url, None) as stack:
        status = stack.subscribe()
        if not status.startswith("on"):
            raise SystemExit(f"live updates did not come on: {status}")
        emulator = EmulatorClient(stack.info)
        people = stack.people(changes)
        latencies = []
        for upn, _, _ in people:
            session = stack.sign_in(upn)
            if session.get(f"{stack.base}/home", allow_redirects=False).status_code != 200:
                raise SystemExit(f"{upn} could not open /home after signing in")
            began = time.monotonic()
            emulator.update_user(upn, accountEnabled=False)
            latencies.append(refused_after(session, stack.base, began))
    report(latencies, db_url)


def refused_after(session: requests.Session, base: str, began: float) -> float:
    """Seconds from the change until /home redirects to the sign-in page with the reason."""
    while time.monotonic() - began < TIMEOUT:
        response = session.get(f"{base}/home", allow_redirects=False)
        if response.status_code == 302 and "reason=disabled" in response.headers.get("Location", ""):
            return time.monotonic() - began
        time.sleep(POLL)
    raise SystemExit(f"still not refused after {TIMEOUT:.0f} s")


def report(latencies: list[float], db_url: str | None) -> None:
    from config import Config

    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    interval = timedelta(minutes=Config.POLICY_DEFAULTS["sync_interval_minutes"])
    backend = "PostgreSQL" if db_url else "SQLite"
    print(f"\n== live updates on {backend}: {len(latencies)} disabled users, gunicorn 2 workers over TLS")
    print(f"disable -> next request refused: p50 {p50:.2f} s (target <= 5 s) {'✓' if p50 <= 5 else '✗'}, "
          f"p99 {p99:.2f} s, max {ordered[-1]:.2f} s")
    print(f"without live updates: the delta polling interval, {interval.total_seconds() / 60:.0f} min "
          f"(on average half of it: {interval.total_seconds() / 2:.0f} s, {interval.total_seconds() / 2 / p50:.0f}x the p50)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50, sys.argv[2] if len(sys.argv) > 2 else None)
