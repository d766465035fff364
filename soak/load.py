"""Load soak: 200 signed-in requesters browse for 60 s on gunicorn (PostgreSQL + Redis) while syncs run.

Every requester signs in for real (portal → emulator → callback). Then worker threads, each owning a share of the
sessions, fetch pages for 60 s; every response must be 2xx and must name its own requester and no other of the
200 (except the requester's own manager, whom the profile page shows as "Reports to"). A full sync runs again and again in a `flask sync run` process the whole time. Prints throughput, p50/p99,
5xx, redirect and leak counts, and syncs completed; exits 1 if any 5xx, lost session or leak was seen.
Run: .venv/bin/python -m soak.load [SECONDS] [REQUESTERS]   (make soak)
"""
import random
import statistics
import sys
import threading
import time

import requests
from markupsafe import escape

from bench.stack import Stack

PAGES = ("/home", "/profile", "/devices", "/tickets/new")
WORKERS = 16


def main(seconds: int, count: int) -> None:
    with Stack(5000, "postgresql://postgres@127.0.0.1:5432/postgres", "redis://127.0.0.1:6379/3") as stack:
        people = stack.people(count)
        began = time.perf_counter()
        sessions = [(name, manager, stack.sign_in(upn)) for upn, name, manager in people]
        print(f"{len(sessions)} requesters signed in through the emulator in {time.perf_counter() - began:.0f} s")
        syncs = SyncLoop(stack)
        syncs.start()
        results = browse(stack, sessions, seconds)
        syncs.stop()
    latencies = sorted(r[0] for r in results)
    errors = sum(1 for r in results if r[1] >= 500)
    others = sum(1 for r in results if 300 <= r[1] < 500)  # a redirect here means a session was lost
    leaks = sum(1 for r in results if r[2])
    print(f"{len(results)} requests in {seconds} s: {len(results) / seconds:.0f} req/s with {WORKERS} workers; "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms")
    print(f"5xx or no answer: {errors}; other non-2xx: {others}; responses "
          f"naming the wrong requester or not their own: {leaks}; GETs retried on a closed keep-alive connection: "
          f"{sum(r[3] for r in results)}")
    for example in LEAK_EXAMPLES:
        print("  leak example:", example)
    print(f"full syncs completed during the soak: {syncs.completed}, failed: {syncs.failed}")
    sys.exit(1 if errors or others or leaks or syncs.failed else 0)


def browse(stack: Stack, sessions: list, seconds: int) -> list:
    """Each worker owns every WORKERS-th session, so no requests.Session is shared between threads.

    A GET on a keep-alive connection the server has just closed (worker recycling, keep-alive timeout) is
    retried once, as browsers do; the retries are counted.
    """
    results, lock = [], threading.Lock()
    names = [str(escape(name)) for name, _, _ in sessions]  # as Jinja renders them
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng, mine, local = random.Random(index), sessions[index::WORKERS], []
        while time.monotonic() < deadline:
            name, manager, session = rng.choice(mine)
            name, allowed = str(escape(name)), {str(escape(name)), str(escape(manager or ""))}  # profile shows the manager
            started = time.perf_counter()
            response, retried = fetch(session, f"{stack.base}{rng.choice(PAGES)}")
            elapsed = time.perf_counter() - started
            body = response.text if response is not None else ""
            others = [other for other in names if other not in allowed and not any(other in a for a in allowed)
                      and other in body]
            leaked = response is not None and response.status_code == 200 and (name not in body or bool(others))
            if leaked and len(LEAK_EXAMPLES) < 3:
                LEAK_EXAMPLES.append((name, others[:2], response.url))
            local.append((elapsed, response.status_code if response is not None else 599, leaked, retried))
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


LEAK_EXAMPLES: list = []


def fetch(session, url):
    """GET once, and once more if the server had closed the kept-alive connection; None if both failed."""
    for attempt in range(2):
        try:
            return session.get(url, allow_redirects=False, timeout=30), attempt
        except requests.ConnectionError:
            continue
    return None, 1


class SyncLoop(threading.Thread):
    """Full syncs back to back in their own process, until stopped."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack, self.running, self.completed, self.failed = stack, True, 0, 0

    def run(self) -> None:
        while self.running:
            process = self.stack.flask("sync", "run", "--full", "--integration", str(self.stack.integration_id))
            output, _ = process.communicate()
            if process.returncode == 0:
                self.completed += 1
            elif self.running:
                self.failed += 1
                print(output[-1000:])

    def stop(self) -> None:
        self.running = False
        self.join(timeout=120)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60, int(sys.argv[2]) if len(sys.argv) > 2 else 200)
