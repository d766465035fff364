"""Audit log: every action from its real trigger, filters, keyset pages, exports, chain, retention, no secrets."""
import csv
import io
import json
import logging
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import audit, jobs
from portal.devices import registry
from portal.directory.field_mapping import default_mapping
from portal.directory.runs import start_run
from portal.mail import DEFAULT_TEMPLATES
from portal.models import (
    ActionRun,
    Approval,
    AuditEvent,
    ChangeNotification,
    Integration,
    Requester,
    RoleRule,
    SyncRun,
    Ticket,
)
from portal.workflows import approvals
from tests import sso
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from, point_at

PASSWORD = "Start-Password-1"


def actions(db) -> set:
    return set(db.session.scalars(sa.select(AuditEvent.action)))


def post(client, url, data=None, page=None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data=dict(data or {}, csrf_token=token))


class Day:
    """Runs the steps of a scripted day, each checked at once for the audit actions it must record."""

    def __init__(self, db):
        self.db, self.seen = db, set()

    @contextmanager
    def expect(self, *wanted: str):
        """The block must add an event for each wanted action (so a broken step fails where it broke)."""
        before = self.db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
        yield
        self.db.session.expire_all()
        new = set(self.db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.id > before)))
        assert set(wanted) <= new, f"missing {set(wanted) - new}; the step recorded {sorted(new)}"
        self.seen |= new


def test_every_action_comes_from_its_real_trigger(app, db, client, admin, emulator, new_user, monkeypatch, tmp_path,
                                                  mailbox):
    """A scripted day in the life: pages, sign-ins, syncs and jobs produce every action in the vocabulary, each from
    the step that should record it."""
    from portal import tickets as ticket_service
    from portal.accounts import create_admin

    day = Day(db)
    point_at(app, emulator)
    with day.expect("admin.sign_in_failed", "admin.locked_out"):
        for _ in range(5):
            admin_sign_in(client, admin.email, "wrong password!!")
    with day.expect("admin.created"):
        ops = create_admin("ops2@example.com", ADMIN_PASSWORD, "Second Admin")
    with day.expect("admin.sign_in", "session.started"):
        assert admin_sign_in(client, ops.email, ADMIN_PASSWORD).status_code == 302
    creds = emulator.app()
    form = {"name": "Contoso", "tenant_id": emulator.tenant_id, "client_id": creds["client_id"], "cloud": "global",
            "secret_expires_on": (date.today() + timedelta(days=200)).isoformat()}
    with day.expect("integration.failing"):
        post(client, "/admin/marketplace/entra/install", dict(form, client_secret="wrong-secret"))
    with day.expect("integration.installed", "integration.verified"):
        post(client, "/admin/marketplace/entra/install", dict(form, client_secret=creds["client_secret"]))
    integration = db.session.scalar(sa.select(Integration))
    with day.expect("integration.secret_replaced"):
        post(client, f"/admin/integrations/{integration.id}/secret", {
            "client_secret": creds["client_secret"], "secret_expires_on": (date.today() + timedelta(days=10)).isoformat()})
    with day.expect("integration.secret_expiring"):
        jobs.check_secret_expiry(app)
    with day.expect("admin.step_up"):
        post(client, "/admin/confirm-password", {"password": ADMIN_PASSWORD})
    with day.expect("setting.changed"):
        post(client, "/admin/settings", dict(app.config["POLICY_DEFAULTS"], sync_deactivation_threshold_percent=1))
    with day.expect("mail.test_sent"):
        post(client, "/admin/settings/mail/test", DEFAULT_TEMPLATES["password_reset"], page="/admin/settings/mail")
    assert mailbox[-1]["To"] == ops.email and mailbox[-1]["Subject"].startswith("[Test] ")
    mapping = {k: v or "" for k, v in default_mapping().items()}
    with day.expect("mapping.changed", "sync.started", "sync.finished"):
        post(client, f"/admin/integrations/{integration.id}/mapping", dict(mapping, employee_id="", submit="1"))
    victims = [new_user() for _ in range(6)]
    start_run(integration, "delta", "manual")
    jobs.run_queued_syncs(app)
    for victim in victims:
        emulator.update_user(victim["id"], accountEnabled=False)
    post(client, f"/admin/integrations/{integration.id}/sync", {"mode": "delta"})
    held = db.session.scalar(sa.select(SyncRun).where(SyncRun.status == "awaiting_confirmation"))
    with day.expect("sync.deactivation_confirmed"):
        post(client, f"/admin/sync/runs/{held.id}/confirm", page=f"/admin/sync/runs/{held.id}")
    person, blocked, colleague, colleague2 = new_user(), victims[0], new_user(), new_user()
    start_run(integration, "delta", "manual")
    jobs.run_queued_syncs(app)
    requester_client = app.test_client()
    with day.expect("requester.sign_in"):
        assert sso.sign_in(requester_client, integration, person["userPrincipalName"], PASSWORD).status_code == 302
    with day.expect("authorization.denied"):
        requester_client.get("/admin/")
    ticket_service.seed_catalogue()
    locked_out = next(c for c in ticket_service.categories() if c.name == "Account locked out")
    with day.expect("workflow.saved"):
        post(client, "/admin/workflows/new", {"name": "Unlock on request", "categories": str(locked_out.id),
                                              "enabled": "on", "step_0_integration": integration.id,
                                              "step_0_action": "unlock", "step_0_target": "requester"})
    with day.expect("ticket.created", "action.requested", "action.finished"):
        post(requester_client, "/tickets/new", {"category": locked_out.id, "subject": "Locked", "description": ""},
             page="/tickets/new")
    ticket = db.session.scalar(sa.select(Ticket))
    emulator.update_user(person["id"], accountEnabled=False)  # IT disables the person; their session is still open
    with day.expect("action.awaiting_approval"):
        post(requester_client, "/tickets/new", {"category": locked_out.id, "subject": "Still locked", "description": ""},
             page="/tickets/new")
    parked = db.session.scalar(sa.select(ActionRun).where(ActionRun.status == "awaiting_approval"))
    with day.expect("action.approved"):
        post(client, f"/admin/tickets/{parked.ticket_id}/runs/{parked.id}/approve", page=f"/admin/tickets/{parked.ticket_id}")
    with day.expect("ticket.status_changed"):
        post(client, f"/admin/tickets/{ticket.id}", {"status": "closed"})
    with day.expect("ticket.commented"):
        post(requester_client, f"/tickets/{ticket.id}/comments", {"body": "Thanks, it works."},
             page=f"/tickets/{ticket.id}")
    leaver = next(c for c in ticket_service.categories() if c.name == "Leaver: disable account")
    post(client, "/admin/workflows/new", {"name": "Leavers", "categories": str(leaver.id), "enabled": "on",
                                          "approval_approver": "any_admin", "step_0_integration": integration.id,
                                          "step_0_action": "disable", "step_0_target": "ticket_subject"})
    for verdict, comment, action in (("reject", "Not a leaver", "approval.rejected"), ("approve", "", "approval.approved")):
        with day.expect("approval.requested"):
            post(requester_client, "/tickets/new", {"category": leaver.id, "subject": "Leaver", "description": "",
                                                    "about": colleague["mail"]}, page="/tickets/new")
        waiting = db.session.scalar(sa.select(Approval).where(Approval.status == "pending"))
        with day.expect(action):
            post(client, f"/admin/approvals/{waiting.id}", {verdict: "1", "comment": comment},
                 page=f"/admin/approvals/{waiting.id}")
    with day.expect("approval.expired"):
        post(requester_client, "/tickets/new", {"category": leaver.id, "subject": "Leaver", "description": "",
                                                "about": colleague2["mail"]}, page="/tickets/new")
        later = approvals.approval_clock() + timedelta(days=4)
        monkeypatch.setattr(approvals, "approval_clock", lambda: later)
        jobs.run_actions(app)
        monkeypatch.undo()
    emulator.update_user(blocked["id"], accountEnabled=True)
    with day.expect("requester.sign_in_failed"):
        sso.sign_in(app.test_client(), integration, blocked["userPrincipalName"], PASSWORD)
    with day.expect("requester.locked_out"):
        emulator.add_sign_in(blocked["id"], error_code=50126, count=5, appId=integration.client_id)
        jobs.import_sign_ins(app)
    locked = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == blocked["id"]))
    with day.expect("requester.unlocked"):
        post(client, f"/admin/requesters/{locked.id}/unlock", page=f"/admin/requesters/{locked.id}")
    sso.sign_in(app.test_client(), integration, person["userPrincipalName"], PASSWORD)
    mine = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    with day.expect("session.revoked"):
        post(client, f"/admin/requesters/{mine.id}/sessions/revoke", page=f"/admin/requesters/{mine.id}")
    third = app.test_client()
    sso.sign_in(third, integration, person["userPrincipalName"], PASSWORD)
    with day.expect("requester.sign_out"):
        post(third, "/logout", page="/home")
    fourth = app.test_client()
    sso.sign_in(fourth, integration, person["userPrincipalName"], PASSWORD)
    later = registry.now() + timedelta(hours=1)
    monkeypatch.setattr(registry, "now", lambda: later)
    with day.expect("session.expired"):
        fourth.get("/home")
    monkeypatch.undo()
    live_updates_day(app, db, day, emulator)
    page = f"/admin/integrations/{integration.id}"
    lead = new_user()
    team = emulator.create_group(f"Team-{lead['id'][:6]}", members=[lead["id"]])["props"]
    with day.expect("role_rule.added"):
        post(client, f"{page}/roles", {"group_id": team["id"]}, page=f"{page}/roles")
    with day.expect("admin.role_granted", "admin.sign_in", "session.started"):
        assert sso.admin_sign_in(app.test_client(), integration, lead["userPrincipalName"]).status_code == 302
    rule = db.session.scalar(sa.select(RoleRule))
    with day.expect("role_rule.removed", "admin.role_revoked", "session.revoked"):
        post(client, f"{page}/roles/{rule.id}/remove", page=f"{page}/roles")
    with day.expect("integration.paused"):
        post(client, f"{page}/pause", page=page)
    with day.expect("integration.resumed"):
        post(client, f"{page}/resume", page=page)
    with day.expect("integration.uninstalled"):
        post(client, f"{page}/uninstall", {"confirm_name": integration.name}, page=page)
    with day.expect("admin.sign_out"):
        post(client, "/admin/logout", page="/admin/")
    day.seen |= actions(db)
    app.config["AUDIT_ARCHIVE_DIR"] = str(tmp_path)
    assert jobs.archive_audit(app, now=datetime.now(UTC) + timedelta(days=366)) > 0   # audit.archived
    archived = {json.loads(line)["action"] for f in Path(tmp_path).glob("*.jsonl") for line in f.read_text().splitlines()}
    seen = day.seen | archived | actions(db)
    assert seen == set(audit.ACTIONS), f"missing: {set(audit.ACTIONS) - seen}, unknown: {seen - set(audit.ACTIONS)}"


def live_updates_day(app, db, day, emulator):
    """Change notifications: refused, subscribed, renewed, reauthorized and resynced, each from its real trigger."""
    from werkzeug.serving import make_server

    app.config.update(LIVE_UPDATES_KICK="none", PUBLIC_URL="http://127.0.0.1:9/")
    with day.expect("live_updates.failed"):
        jobs.maintain_live_updates(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}/"
    try:
        with day.expect("live_updates.subscribed"):
            jobs.maintain_live_updates(app, now=datetime.now(UTC) + timedelta(minutes=16))  # after the retry pause
        with day.expect("live_updates.renewed"):
            jobs.maintain_live_updates(app, now=datetime.now(UTC) + timedelta(days=2, hours=6))
        subscription = emulator.subscriptions()[0]["id"]
        for event, action in (("reauthorizationRequired", "live_updates.reauthorized"), ("missed", "live_updates.resynced")):
            emulator.send_lifecycle_event(subscription, event)
            for _ in range(200):
                db.session.commit()
                if db.session.scalar(sa.select(sa.func.count()).select_from(ChangeNotification).where(
                        ChangeNotification.processed_at.is_(None))):
                    break
                time.sleep(0.05)
            with day.expect(action):
                jobs.process_change_notifications(app)
    finally:
        emulator.clear_subscriptions()
        server.shutdown()
        app.config.update(PUBLIC_URL=None)


@pytest.fixture
def events(app, db, admin, client):
    """A few dozen events of several kinds, through real sign-ins and setting changes."""
    for i in range(30):
        admin_sign_in(client, admin.email, ADMIN_PASSWORD if i % 3 else "wrong password!!")
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_filters_and_keyset_pages(events, db, login_as, client):
    """Filters narrow by action prefix, outcome, actor, target and text; keyset pages cover every row once."""
    login_as("admin")
    assert audit.page(audit.Filters(action="admin.sign_in_failed"))[0][0].outcome == "failure"
    failures = audit.page(audit.Filters(outcome="failure"), limit=1000)[0]
    assert {e.action for e in failures} <= {"admin.sign_in_failed", "admin.locked_out"} and len(failures) >= 10
    assert all(e.action.startswith("session.") for e in audit.page(audit.Filters(action="session."), limit=1000)[0])
    assert audit.page(audit.Filters(actor="anonymous"), limit=1000)[0]
    assert audit.page(audit.Filters(text="ops admin"), limit=1000)[0]
    future = audit.Filters(since=datetime.now(UTC) + timedelta(days=1))
    assert audit.page(future)[0] == []
    seen, cursor = [], None
    while True:
        rows, cursor = audit.page(audit.Filters(), before_id=cursor, limit=7)
        seen += [r.id for r in rows]
        if cursor is None:
            break
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert len(seen) == len(set(seen)) == total and seen == sorted(seen, reverse=True)
    page = client.get("/admin/audit?action=admin.sign_in_failed&outcome=failure").get_data(as_text=True)
    assert "admin.sign_in_failed" in page and "Older events" not in page
    assert client.get("/admin/audit?since=yesterday").status_code == 400


def test_exports_are_streamed_and_match_the_filter(events, db, login_as, client):
    """CSV and JSON Lines carry exactly the filtered events, with the hash chain fields."""
    login_as("admin")
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "failure"))
    response = client.get("/admin/audit/export.csv?outcome=failure")
    assert response.is_streamed and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == expected and all(r["outcome"] == "failure" and len(r["hash"]) == 64 for r in rows)
    lines = client.get("/admin/audit/export.jsonl?outcome=failure").get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [int(r["id"]) for r in rows]


def test_csv_export_neutralises_formulas(app, db, client, admin):
    """A target label starting with '=' is exported as text, not a spreadsheet formula."""
    admin_sign_in(client, "=cmd@example.com", "wrong password!!")
    admin_sign_in(client, admin.email, ADMIN_PASSWORD)
    body = client.get("/admin/audit/export.csv?action=admin.sign_in_failed").get_data(as_text=True)
    assert "'=cmd@example.com" in body and ",=cmd" not in body


def test_event_detail_page(events, db, login_as, client):
    """The detail page shows the event's fields and hashes."""
    login_as("admin")
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id))
    page = client.get(f"/admin/audit/{event.id}").get_data(as_text=True)
    assert event.hash in page and event.action in page
    assert client.get("/admin/audit/99999999").status_code == 404


def test_chain_survives_concurrent_writers(app, db, db_url):
    """Writers in parallel threads (PostgreSQL) still produce one unbroken chain."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the advisory lock matters on PostgreSQL")
    from portal import signals

    def writer(n):
        with app.app_context():
            for i in range(25):
                signals.setting_changed.send("test", actor=signals.SYSTEM, target=signals.Target("setting", f"k{n}", "k"),
                                             detail={"old": i, "new": i + 1})
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok, checked, broken = audit.verify_chain()
    assert ok and checked == 100 and broken is None


def test_retention_archives_then_deletes_and_chain_still_verifies(events, app, db, tmp_path):
    """Old events go to a JSON Lines file first; the rest of the chain still verifies from the cut."""
    cut = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()[9]
    count, path = audit.archive_and_purge(cut.occurred_at, tmp_path)
    archived = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert count == len(archived) >= 1
    first_left = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action != "audit.archived").order_by(AuditEvent.id))
    assert first_left.prev_hash == archived[-1]["hash"]
    assert audit.verify_chain()[0]


def test_no_secrets_in_events_or_logs(app, db, client, login_as, emulator, caplog):
    """After installing with a secret and signing in, no event or log line holds the secret or any token."""
    caplog.set_level(logging.DEBUG)
    from tests.conftest import install_integration

    integration = install_integration(app, emulator)
    start_run(integration, "full", "manual")
    jobs.run_queued_syncs(app)
    user = emulator.info["demo_users"][1]
    requester = app.test_client()
    sso.sign_in(requester, integration, user["userPrincipalName"], user["password"])
    secret = emulator.app()["client_secret"]
    exported = "\n".join(json.dumps(e) for e in audit.stream(audit.Filters()))
    logs = "\n".join(r.getMessage() + str(getattr(r, "audit", "")) for r in caplog.records)
    for haystack in (exported, logs):
        assert secret not in haystack and user["password"] not in haystack
        assert "eyJ0eXAi" not in haystack and "eyJhbGci" not in haystack  # no JWT


def test_csv_export_writes_time_and_detail_as_json_dumps_does(app, db, login_as, client):
    """The CSV export reads the time and the detail as the database's own text; each cell is still exactly what
    isoformat() and json.dumps(..., ensure_ascii=False) write from the stored event."""
    from portal import signals

    details = [{}, {"a": 1, "b": [1, 2], "c": None, "d": True}, {"tiny": 1e-05, "big": 1e20, "half": 0.5, "n": -3},
               {"name": 'Zoë "quoted" \\ back\nslash\u2028'}, {"nested": {"x": {"y": []}}, "ip": "10.0.0.1"}]
    for detail in details:
        signals.setting_changed.send("test", actor=signals.SYSTEM, target=signals.Target("setting", "k", "=k"),
                                     detail=detail)
    db.session.commit()
    login_as("admin")
    body = client.get("/admin/audit/export.csv?action=setting.changed").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "setting.changed")
                                .order_by(AuditEvent.id)).all()
    assert [r["detail"] for r in rows] == [json.dumps(e.detail, ensure_ascii=False) for e in events]
    assert [r["occurred_at"] for r in rows] == [e.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
                                                for e in events]
    assert {r["target_label"] for r in rows} == {"'=k"}
