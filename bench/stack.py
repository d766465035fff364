"""A whole Frontdesk on loopback for benchmarks and soaks: the emulator, a synced database, gunicorn over TLS.

gunicorn runs with the production profile and gunicorn.conf.py; the only differences from a deployment are the
endpoint settings that point at the emulator and sign-in rate limits raised so that the load generator, one IP
address, is not throttled.
"""
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.sync_bench import _start_emulator, install_fresh, logging_quiet
from config import TestingConfig, database_url
from emulator.client import CASession

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.S)


class Stack:
    """Start with `with Stack(users, db_url, redis_url) as stack:`; everything stops on exit."""

    def __init__(self, users: int, db_url: str | None, redis_url: str | None, port: int = 8765, workers: int = 2,
                 start_web: bool = True):
        self.users, self.redis_url, self.port, self.workers, self.start_web = users, redis_url, port, workers, start_web
        self.tmp = Path(tempfile.mkdtemp(prefix="frontdesk-stack-"))
        self.db_url = database_url(db_url) if db_url else f"sqlite:///{self.tmp / 'portal.db'}"
        self.secret_key, self.encryption_key = secrets.token_urlsafe(48), _fernet()
        self.base = f"https://127.0.0.1:{port}"
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Stack":
        emulator, self.info = _start_emulator(self.users)
        self.procs.append(emulator)
        self.ca = self.info["ca_file"]
        self.integration_id = self._prepare_database()
        if self.start_web:
            self._start_gunicorn()
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- set-up ------------------------------------------------------------------------------
    def app(self):
        from portal import create_app

        return create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=self.db_url, REDIS_URL=self.redis_url,
                          ENCRYPTION_KEY=self.encryption_key, LOG_LEVEL="WARNING", **self.endpoints())

    def endpoints(self) -> dict:
        return {"ENTRA_AUTHORITY_HOST": self.info["authority_host"], "GRAPH_ENDPOINT": self.info["graph_endpoint"],
                "ENTRA_CA_BUNDLE": self.ca}

    def _prepare_database(self) -> int:
        """Empty database, migrations, the Marketplace install and a full sync of every user."""
        from emulator.client import EmulatorClient
        from portal.database import db
        from portal.directory.runs import start_run
        from portal.directory.sync import SyncSettings, build_sync_engine

        if self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()
        app = self.app()
        logging_quiet()
        with app.app_context():
            item, _, settings = install_fresh(app, EmulatorClient(self.info), "Contoso")
            build_sync_engine(item, start_run(item, "full", "cli"), SyncSettings(settings, threshold_percent=50)).execute()
            integration_id = item.id
            db.session.remove()
            db.engine.dispose()
        return integration_id

    def production_env(self, **extra) -> dict:
        """The environment of a production process (gunicorn or `flask` CLI) on this stack."""
        env = dict(os.environ, FRONTDESK_ENV="production", SECRET_KEY=self.secret_key, FLASK_APP="wsgi",
                   ENCRYPTION_KEY=self.encryption_key, DATABASE_URL=self.db_url, REDIS_URL=self.redis_url or "",
                   PORTAL_URL=f"{self.base}/", LOG_LEVEL="WARNING", SYNC_KICK="none", ACTION_KICK="none", SERVER_TIMING="1",
                   **self.endpoints(), **extra)
        if not self.redis_url:
            env.pop("REDIS_URL")
        return env

    def flask(self, *args: str) -> subprocess.Popen:
        """A `flask` CLI process with the production settings (for syncs during a soak)."""
        return subprocess.Popen([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=self.production_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def _start_gunicorn(self) -> None:
        from emulator.pki import create_pki

        pki = create_pki(self.tmp / "tls")
        env = self.production_env(BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY=str(self.workers),
                                  TLS_CERT_FILE=str(pki["cert"]), TLS_KEY_FILE=str(pki["key"]),
                                  RATELIMIT_SSO_START="1000000 per minute", RATELIMIT_SSO_CALLBACK="1000000 per minute",
                                  RATELIMIT_SSO_FAILURES="1000000 per minute", RATELIMIT_SIGN_IN_PAGES="1000000 per minute")
        self.portal_ca = str(pki["ca"])
        proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                                cwd=ROOT, env=env)
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", verify=self.portal_ca, timeout=2).text == "ok":
                    return
            except requests.RequestException:
                time.sleep(0.2)
            if proc.poll() is not None:
                break
        raise SystemExit("gunicorn did not start")

    # -- people ------------------------------------------------------------------------------
    def usernames(self, count: int) -> list[str]:
        """UPNs of the first `count` enabled members, read from the synced requesters."""
        return [person[0] for person in self.people(count)]

    def people(self, count: int) -> list[tuple[str, str, str | None]]:
        """(UPN, display name, manager's display name) of the first `count` enabled members without roles."""
        from portal.database import db
        from portal.models import Requester

        manager = sa.orm.aliased(Requester)
        with self.app().app_context():
            rows = db.session.execute(
                sa.select(Requester.user_principal_name, Requester.display_name, manager.display_name)
                .outerjoin(manager, manager.id == Requester.manager_id)
                .where(Requester.status == "active", Requester.user_type == "Member").order_by(Requester.id)
                .offset(1).limit(count)).all()  # the first user is the tenant's Global Administrator
            db.engine.dispose()
        return [tuple(r) for r in rows]

    def sign_in(self, username: str, timings: dict | None = None) -> requests.Session:
        """The real round trip: portal → Microsoft authorize → sign-in form → form_post callback → home.

        `timings`, if given, gets the seconds spent waiting on the portal and on Microsoft (the emulator).
        """
        from emulator.seed import DEMO_PASSWORD

        timings = timings if timings is not None else {}
        portal, microsoft = CASession(self.portal_ca), CASession(self.ca)

        def timed(side, call, *args, **kwargs):
            began = time.perf_counter()
            response = call(*args, **kwargs)
            spent, waited = time.perf_counter() - began, _microsoft_wait(response)
            timings[side] = timings.get(side, 0.0) + spent - waited  # the portal's wait on Microsoft is Microsoft's
            timings["microsoft"] = timings.get("microsoft", 0.0) + waited
            return response

        login = timed("portal", portal.get, f"{self.base}/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text).group(1)
        start = timed("portal", portal.post, f"{self.base}/auth/start/{self.integration_id}",
                      data={"csrf_token": token}, headers={"Referer": f"{self.base}/login"}, allow_redirects=False)
        if start.status_code != 302:
            raise RuntimeError(f"the portal did not send {username} to Microsoft ({start.status_code}): {start.text[:300]}")
        page = timed("microsoft", microsoft.get, start.headers["Location"])
        action, fields = _form(page.text)
        fields.update(username=username, password=DEMO_PASSWORD, action="signin")
        answer = timed("microsoft", microsoft.post, _absolute(page.url, action), data=fields, allow_redirects=False)
        target, posted = _form(answer.text)
        home = timed("portal", portal.post, target, data=posted)
        if home.status_code != 200 or "Sign out" not in home.text:
            raise RuntimeError(f"sign-in of {username} did not reach the home page ({home.status_code})")
        return portal

    def cookie_header(self, session: requests.Session) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _microsoft_wait(response) -> float:
    """Seconds the portal said (Server-Timing) it waited on Microsoft while answering, over every hop."""
    total = 0.0
    for hop in [*response.history, response]:
        found = re.search(r"microsoft;dur=([\d.]+)", hop.headers.get("Server-Timing", ""))
        total += float(found.group(1)) / 1000 if found else 0.0
    return total


def _form(page: str) -> tuple[str, dict]:
    import html

    action = re.search(r'<form[^>]*action="([^"]*)"', page)
    if not action:
        raise RuntimeError(f"expected a form, got: {page[:200]}")
    return html.unescape(action.group(1)), {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page)}


def _absolute(page_url: str, action: str) -> str:
    if action.startswith("http"):
        return action
    scheme, rest = page_url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}{action}"


def _fernet() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


if __name__ == "__main__":  # smoke: start everything, sign one person in, stop
    with Stack(200, sys.argv[1] if len(sys.argv) > 1 else None, None) as stack:
        print(stack.sign_in(stack.usernames(1)[0]).get(f"{stack.base}/home").status_code)
