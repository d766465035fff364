"""Portal throughput and latency under gunicorn (production settings, 2 workers), with wrk, against a floor.

For each backend (PostgreSQL + Redis, then SQLite with sessions in the database):
- sign-in round trips: portal → Microsoft authorize → sign-in form → callback → home, one after another, for
  distinct requesters; sign-ins/s and p50, with the time spent waiting on the emulator reported separately;
- the requester home page with a real session cookie (session load, device check, the page's queries), at 16
  connections for 20 s with wrk;
- the floor: GET /healthz, a bare `return "ok"` on the same server, in the same run and the same way.
Run: .venv/bin/python -m bench.portal_bench [SECONDS] [SIGN_INS]   (wrk: Debian's package; `make bench` installs it)
"""
import re
import statistics
import subprocess
import sys
import time

from bench.stack import Stack

BACKENDS = (("PostgreSQL + Redis", "postgresql://postgres@127.0.0.1:5432/postgres", "redis://127.0.0.1:6379/2"),
            ("SQLite, sessions in the database", None, None))
CONNECTIONS = 16


def main(seconds: int, sign_ins: int) -> None:
    rows = []
    for label, db_url, redis_url in BACKENDS:
        with Stack(2000, db_url, redis_url) as stack:
            rows.append((label, measure(stack, seconds, sign_ins)))
    for label, r in rows:
        print(f"\n== {label}; gunicorn: 2 workers x 4 threads, TLS; wrk: {CONNECTIONS} connections, {seconds} s")
        print(f"floor GET /healthz: {r['floor']['rps']:,.0f} req/s, p50 {r['floor']['p50']:.1f} ms, p99 {r['floor']['p99']:.1f} ms")
        print(f"requester home:     {r['home']['rps']:,.0f} req/s, p50 {r['home']['p50']:.1f} ms, p99 {r['home']['p99']:.1f} ms, "
              f"{r['home']['bytes']:,.0f} bytes/response, non-2xx {r['home']['errors']}")
        ratio, p99 = r['home']['rps'] / r['floor']['rps'], r['home']['p99']
        print(f"home / floor: {ratio:.0%} of the floor's req/s (target >= 50%) {'✓' if ratio >= 0.5 else '✗'}; "
              f"p99 {p99:.0f} ms (target <= 50 ms) {'✓' if p99 <= 50 else '✗'}")
        s = r["sign_in"]
        print(f"sign-in round trip: {s['per_s']:.1f} sign-ins/s one after another; p50 {s['p50']:.0f} ms, of which "
              f"the portal {s['portal_p50']:.0f} ms (target <= 30 ms) {'✓' if s['portal_p50'] <= 30 else '✗'} and Microsoft (the emulator, including the "
              f"portal's token request, from Server-Timing) {s['microsoft_p50']:.0f} ms")


def measure(stack: Stack, seconds: int, sign_ins: int) -> dict:
    people = stack.usernames(sign_ins + 1)
    sign_in = sign_in_round_trips(stack, people[1:])
    session = stack.sign_in(people[0])
    page = session.get(f"{stack.base}/home")
    cookie = stack.cookie_header(session)
    floor = wrk(f"{stack.base}/healthz", seconds)
    home = wrk(f"{stack.base}/home", seconds, cookie)
    after = session.get(f"{stack.base}/home", allow_redirects=False)
    if after.status_code != 200 or "Sign out" not in after.text:
        raise SystemExit("the benchmark's session stopped being valid during the run; the figures would be wrong")
    if home["bytes"] < 0.9 * len(page.content):
        raise SystemExit(f"wrk got {home['bytes']:.0f} bytes per response, the home page has {len(page.content)}: "
                         "it was not served the page")
    return {"floor": floor, "home": home, "sign_in": sign_in}


def sign_in_round_trips(stack: Stack, people: list[str]) -> dict:
    totals, portal, microsoft = [], [], []
    began = time.perf_counter()
    for username in people:
        timings: dict = {}
        start = time.perf_counter()
        stack.sign_in(username, timings)
        totals.append(time.perf_counter() - start)
        portal.append(timings["portal"])
        microsoft.append(timings["microsoft"])
    elapsed = time.perf_counter() - began
    return {"per_s": len(people) / elapsed, "p50": statistics.median(totals) * 1000,
            "portal_p50": statistics.median(portal) * 1000, "microsoft_p50": statistics.median(microsoft) * 1000}


def wrk(url: str, seconds: int, cookie: str | None = None) -> dict:
    """wrk with --latency; parses requests/s, p50, p99, bytes per response and non-2xx/3xx responses."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    read = _size(re.search(r"requests in [\d.]+\w+, ([\d.]+\w+) read", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
            "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
            "bytes": read / max(requests_done, 1), "errors": int(errors.group(1)) if errors else 0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _size(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[unit]


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 50)
