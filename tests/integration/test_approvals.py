"""Who may target whom, approvals before actions, and admins acting from a requester's page: against the emulator,
a real SMTP server and the real database."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import jobs, signals, tickets
from portal.accounts import create_admin
from portal.devices import registry
from portal.directory.runs import start_run
from portal.models import ActionRun, Approval, AuditEvent, Requester, Ticket, TicketEvent
from portal.workflows import admin_service, approvals, runner
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from


@pytest.fixture
def org(app, db, synced, new_user):
    """boss <- lead <- member, and peer <- boss: a small reporting chain synced from the emulator."""
    people = {"boss": new_user(givenName="Bea")}
    people["lead"] = new_user(givenName="Leo", managerId=people["boss"]["id"])
    people["member"] = new_user(givenName="Mia", managerId=people["lead"]["id"])
    people["peer"] = new_user(givenName="Pat", managerId=people["boss"]["id"])
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    for props in people.values():
        props["requester"] = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == props["id"]))
    assert people["member"]["requester"].manager_id == people["lead"]["requester"].id
    return people


def as_person(app, who):
    """A separate browser for one requester (session and device seeded, as the login_as fixture does)."""
    from portal.extensions import db as _db

    browser = app.test_client()
    with browser.session_transaction() as sess:
        device, _ = registry.register_device(who, sess.sid, "Mozilla/5.0 (pytest)", "127.0.0.1", registry.SessionPolicy())
        sess.update({"_user_id": who.get_id(), "_fresh": True, "device_id": device.id,
                     "auth_time": device.authenticated_at.timestamp()})
        _db.session.commit()
    return browser


def as_admin(app, admin):
    browser = app.test_client()
    assert admin_sign_in(browser, admin.email, ADMIN_PASSWORD).status_code == 302
    return browser


def disable_workflow(synced, catalogue, category="Leaver: disable account", approver=None, admin_id=None):
    gate = {"approver": approver, "admin_id": admin_id} if approver else None
    return admin_service.save(None, f"{category} flow", [catalogue[category].id], True,
                              [{"integration_id": synced.id, "action": "disable", "target": "ticket_subject"}],
                              actor=signals.SYSTEM, approval=gate)


def raise_about(browser, catalogue, category, about):
    page = browser.get("/tickets/new").get_data(as_text=True)
    return browser.post("/tickets/new", data={"csrf_token": csrf_from(page), "category": catalogue[category].id,
                                              "subject": "Please", "description": "Details", "about": about})


def ticket_id(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def decide(browser, url, choice, comment=""):
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    return browser.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), choice: "1",
                                   "comment": comment})


def enabled(emulator, props):
    return emulator.user(props["id"])["props"]["accountEnabled"]


def test_self_only_refuses_a_colleague(app, db, org, catalogue, emulator):
    """'Reset my password' is self only: naming a colleague is refused with what is allowed, and nothing is saved."""
    admin_service.save(None, "Resets", [catalogue["Reset my password"].id], True,
                       [{"integration_id": org["boss"]["requester"].integration_id, "action": "force_password_reset",
                         "target": "ticket_subject"}], actor=signals.SYSTEM)
    refused = raise_about(as_person(app, org["member"]["requester"]), catalogue, "Reset my password",
                          org["peer"]["mail"])
    assert refused.status_code == 422
    assert "This service is only for your own account" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun)) == 0


def test_reports_rule_allows_direct_and_indirect_reports_only(app, db, org, synced, catalogue, emulator):
    """A manager may name a direct or indirect report; a report may not name their manager, nor a peer."""
    tickets.set_target_rule(catalogue["Leaver: disable account"], "reports", signals.SYSTEM)
    disable_workflow(synced, catalogue)
    boss, lead, member = (as_person(app, org[k]["requester"]) for k in ("boss", "lead", "member"))
    upward = raise_about(member, catalogue, "Leaver: disable account", org["lead"]["mail"])
    sideways = raise_about(lead, catalogue, "Leaver: disable account", org["peer"]["mail"])
    assert upward.status_code == 422 and sideways.status_code == 422
    assert "does not report to you" in sideways.get_data(as_text=True)
    assert enabled(emulator, org["lead"]) is True and enabled(emulator, org["peer"]) is True
    ticket_id(raise_about(lead, catalogue, "Leaver: disable account", org["member"]["mail"]))  # direct report
    assert enabled(emulator, org["member"]) is False
    emulator.update_user(org["member"]["id"], accountEnabled=True)
    start_run(synced, "delta", "manual")  # back in the directory, so an active requester again
    jobs.run_queued_syncs(app)
    ticket_id(raise_about(boss, catalogue, "Leaver: disable account", org["member"]["mail"]))  # two levels down
    assert enabled(emulator, org["member"]) is False


def test_the_runner_checks_the_chain_again(app, db, org, synced, catalogue, emulator):
    """The chain changes between the ticket and its run: the run is refused and Entra is untouched."""
    tickets.set_target_rule(catalogue["Leaver: disable account"], "reports", signals.SYSTEM)
    disable_workflow(synced, catalogue)
    app.config["ACTION_KICK"] = "none"
    ticket = tickets.create(org["lead"]["requester"], catalogue["Leaver: disable account"].id, "Leaving", "",
                            org["member"]["mail"])
    emulator.update_user(org["member"]["id"], managerId=org["peer"]["id"])
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    jobs.run_actions(app)
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket.id))
    assert run.status == "failed" and run.error_code == "target_not_allowed"
    assert "does not report to you" in run.error_message
    assert enabled(emulator, org["member"]) is True


def test_leaver_waits_for_the_targets_manager_who_approves_from_home(app, db, org, synced, catalogue, emulator,
                                                                     mailbox, admin):
    """A colleague's leaver ticket does nothing; the leaver's manager gets an email, approves from their home page,
    and only then is the account disabled; each step is on the timeline and in the audit log."""
    disable_workflow(synced, catalogue)
    raiser = as_person(app, org["member"]["requester"])
    number = ticket_id(raise_about(raiser, catalogue, "Leaver: disable account", org["peer"]["mail"]))
    approval = db.session.scalar(sa.select(Approval).where(Approval.ticket_id == number))
    assert approval.approver_requester_id == org["boss"]["requester"].id and approval.any_admin is True
    assert enabled(emulator, org["peer"]) is True
    assert "Waiting for approval by" in raiser.get(f"/tickets/{number}").get_data(as_text=True)
    to_boss = [m for m in mailbox if m["To"] == org["boss"]["mail"]]
    assert len(to_boss) == 1 and f"ticket #{number}" in to_boss[0]["Subject"]
    assert f"/approvals/{approval.id}" in to_boss[0].get_payload(decode=True).decode()
    boss = as_person(app, org["boss"]["requester"])
    home = boss.get("/home").get_data(as_text=True)
    assert 'id="approvals-for-me"' in home and f"/approvals/{approval.id}" in home and f"Ticket #{number}:" in home
    assert decide(boss, f"/approvals/{approval.id}", "approve", "Confirmed with HR").status_code == 302
    assert enabled(emulator, org["peer"]) is False
    db.session.expire_all()
    assert db.session.get(ActionRun, db.session.scalar(sa.select(ActionRun.id).where(
        ActionRun.ticket_id == number))).status == "succeeded"
    lines = [e.public_message for e in db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == number))]
    assert any(line.startswith(f"Approved by {org['boss']['requester'].label} (Confirmed with HR)") for line in lines)
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_type == "approval")))
    assert actions == {"approval.requested", "approval.approved"}
    assert "approvals-for-me" not in boss.get("/home").get_data(as_text=True)


def test_rejection_needs_a_reason_and_cancels_everything(app, db, org, synced, catalogue, emulator):
    """Rejecting without a comment is refused with a message; with one, the runs are cancelled and the ticket
    closes, and Entra is never touched."""
    disable_workflow(synced, catalogue)
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    approval_id = db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == number))
    boss = as_person(app, org["boss"]["requester"])
    bare = decide(boss, f"/approvals/{approval_id}", "reject")
    assert bare.status_code == 422 and "Say why you reject it" in bare.get_data(as_text=True)
    assert decide(boss, f"/approvals/{approval_id}", "reject", "Pat is not leaving").status_code == 302
    jobs.run_actions(app)
    db.session.expire_all()
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == number))
    assert run.status == "cancelled" and db.session.get(Ticket, number).status == "closed"
    assert enabled(emulator, org["peer"]) is True
    again = boss.post(f"/approvals/{approval_id}", data={
        "csrf_token": csrf_from(boss.get("/tickets/new").get_data(as_text=True)), "approve": "1"})
    assert again.status_code == 409 and "already rejected; nothing changed" in again.get_data(as_text=True)
    assert "Rejected by" in boss.get(f"/approvals/{approval_id}").get_data(as_text=True)
    assert db.session.get(Approval, approval_id).status == "rejected"


def test_only_the_approver_decides(app, db, org, synced, catalogue, emulator, admin):
    """The raiser, the target, another manager and a requester with a guessed id all get 'not found'; so does an
    admin when the approval names another admin."""
    other_admin = create_admin("second@example.com", ADMIN_PASSWORD, "Second Admin")
    disable_workflow(synced, catalogue, "General request", approver="named_admin", admin_id=str(other_admin.id))
    tickets.set_target_rule(catalogue["General request"], "reports", signals.SYSTEM)
    number = ticket_id(raise_about(as_person(app, org["lead"]["requester"]), catalogue, "General request",
                                   org["member"]["mail"]))
    approval_id = db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == number))
    for key in ("lead", "member", "peer", "boss"):
        browser = as_person(app, org[key]["requester"])
        assert browser.get(f"/approvals/{approval_id}").status_code == 404, key
        token = csrf_from(browser.get("/tickets/new").get_data(as_text=True))
        assert browser.post(f"/approvals/{approval_id}", data={"csrf_token": token, "approve": "1"}).status_code == 404
    first_admin = as_admin(app, admin)
    assert first_admin.get(f"/admin/approvals/{approval_id}").status_code == 404
    assert db.session.get(Approval, approval_id).status == "pending" and enabled(emulator, org["member"]) is True
    assert decide(as_admin(app, other_admin), f"/admin/approvals/{approval_id}", "approve").status_code == 302
    assert enabled(emulator, org["member"]) is False


def test_an_undecided_approval_expires(app, db, org, synced, catalogue, emulator, monkeypatch):
    """After the expiry (72 hours by default) the scheduler's sweep expires it and cancels the runs; a late
    decision changes nothing."""
    disable_workflow(synced, catalogue)
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    approval = db.session.scalar(sa.select(Approval).where(Approval.ticket_id == number))
    assert approval.expires_at - approval.requested_at == timedelta(hours=72)
    later = approvals.approval_clock() + timedelta(hours=72, seconds=1)
    monkeypatch.setattr(approvals, "approval_clock", lambda: later)
    jobs.run_actions(app)
    db.session.expire_all()
    assert db.session.get(Approval, approval.id).status == "expired"
    assert db.session.scalar(sa.select(ActionRun.status).where(ActionRun.ticket_id == number)) == "cancelled"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "approval.expired")) == 1
    boss = as_person(app, org["boss"]["requester"])
    page = boss.get(f"/approvals/{approval.id}").get_data(as_text=True)
    assert "Expired" in page and 'name="approve"' not in page
    assert enabled(emulator, org["peer"]) is True


def test_a_crash_between_approval_and_execution_runs_the_action_once(app, db, org, synced, catalogue, emulator):
    """The decision and the release commit together; the process dies before running; the next sweeps run the
    disable exactly once, and a second decision is refused."""
    disable_workflow(synced, catalogue)
    app.config["ACTION_KICK"] = "none"
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    approval_id = db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == number))
    boss = org["boss"]["requester"]
    approvals.decide(approval_id, boss, True, "")
    with pytest.raises(Exception, match="already approved"):
        approvals.decide(approval_id, boss, False, "changed my mind")
    db.session.remove()  # the web process is gone; only the database remembers
    jobs.run_actions(app)
    calls = emulator.stats()["graph_requests"]
    jobs.run_actions(app)
    jobs.run_actions(app)
    assert emulator.stats()["graph_requests"] == calls  # the later sweeps find nothing to do
    finished = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "action.finished")).all()
    assert len(finished) == 1 and finished[0].outcome == "success"
    assert enabled(emulator, org["peer"]) is False


def test_admin_acts_from_the_requester_page_with_a_reason_after_step_up(app, db, org, synced, emulator, admin,
                                                                        monkeypatch):
    """No reason: nothing queued. A stale sign-in: the password page, nothing queued. Then the action runs through
    the runner, on a ticket raised by IT, audited with the admin as actor."""
    browser = as_admin(app, admin)
    person = org["peer"]["requester"]
    page = browser.get(f"/admin/requesters/{person.id}").get_data(as_text=True)
    assert 'id="account-actions"' in page
    url = f"/admin/requesters/{person.id}/actions"
    token = csrf_from(page)
    assert browser.post(url, data={"csrf_token": token, "action": "disable", "reason": ""}).status_code == 302
    assert browser.post(url, data={"csrf_token": token, "action": "nope", "reason": "Leaving today"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun)) == 0
    later = registry.now() + registry.FRESH_SIGN_IN + timedelta(minutes=1)
    with monkeypatch.context() as m:
        m.setattr(registry, "now", lambda: later)
        stale = browser.post(url, data={"csrf_token": token, "action": "disable", "reason": "Leaving today"})
        assert stale.status_code == 302 and "/admin/confirm-password" in stale.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun)) == 0
    done = browser.post(url, data={"csrf_token": token, "action": "disable", "reason": "Leaving today"})
    assert done.status_code == 302 and "/admin/tickets/" in done.headers["Location"]
    assert enabled(emulator, org["peer"]) is False
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.raised_by_admin_id == admin.id and ticket.requester_id == person.id
    requested = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "action.requested"))
    assert requested.actor_type == "admin" and requested.actor_id == str(admin.id)
    assert requested.detail["why"] == "Leaving today"
    detail = browser.get(done.headers["Location"]).get_data(as_text=True)
    assert "Leaving today" in detail


def test_an_admins_approval_also_re_enables_but_a_managers_does_not(app, db, org, synced, catalogue, emulator, admin):
    """Unlock of a disabled account behind an Approval step: a manager's approval releases it, yet turning the
    account back on still waits for an admin."""
    admin_service.save(None, "Unlocks", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock", "target": "ticket_subject"}],
                       actor=signals.SYSTEM, approval={"approver": "target_manager"})
    tickets.set_target_rule(catalogue["Account locked out"], "reports", signals.SYSTEM)
    emulator.update_user(org["member"]["id"], accountEnabled=False)
    number = ticket_id(raise_about(as_person(app, org["boss"]["requester"]), catalogue, "Account locked out",
                                   org["member"]["mail"]))
    approval_id = db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == number))
    assert decide(as_person(app, org["lead"]["requester"]), f"/approvals/{approval_id}", "approve").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(ActionRun.status).where(ActionRun.ticket_id == number)) == "awaiting_approval"
    assert enabled(emulator, org["member"]) is False
    runner.approve(number, db.session.scalar(sa.select(ActionRun.id).where(ActionRun.ticket_id == number)),
                   signals.Principal.of(admin))
    jobs.run_actions(app)
    assert enabled(emulator, org["member"]) is True


def test_the_same_people_are_asked_once(app, db, org, synced, catalogue, admin):
    """The leaver service's own rule and a workflow's 'any admin' step resolve to different deciders (the manager
    or an admin, versus admins only): two approvals; a second identical step adds none."""
    admin_service.save(None, "Leavers", [catalogue["Leaver: disable account"].id], True,
                       [{"integration_id": synced.id, "action": "disable", "target": "ticket_subject"}],
                       actor=signals.SYSTEM, approval={"approver": "any_admin"})
    admin_service.save(None, "Leavers again", [catalogue["Leaver: disable account"].id], True,
                       [{"integration_id": synced.id, "action": "disable", "target": "ticket_subject"}],
                       actor=signals.SYSTEM, approval={"approver": "any_admin"})
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    gates = db.session.scalars(sa.select(Approval).where(Approval.ticket_id == number).order_by(Approval.id)).all()
    assert [(g.rule, g.approver_requester_id, g.any_admin) for g in gates] == [
        ("target_manager_or_admin", org["boss"]["requester"].id, True), ("any_admin", None, True)]


def test_a_manager_step_on_the_leaver_service_asks_the_manager_once(app, db, org, synced, catalogue):
    """The leaver service lets "the manager or an admin" approve, and the workflow's own step says "the target's
    manager": the manager is asked once, strictly (their one decision satisfies both), never twice."""
    disable_workflow(synced, catalogue, approver="target_manager")
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    gates = db.session.scalars(sa.select(Approval).where(Approval.ticket_id == number)).all()
    assert [(g.rule, g.approver_requester_id, g.any_admin) for g in gates] == [
        ("target_manager", org["boss"]["requester"].id, False)]


def test_the_approval_follows_a_manager_change(app, db, org, synced, catalogue, emulator):
    """The leaver moves to another manager before anyone decides: the old manager gets 'not found', the new one
    decides (and is emailed, as the sweep resets the notice)."""
    disable_workflow(synced, catalogue)
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    approval_id = db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == number))
    emulator.update_user(org["peer"]["id"], managerId=org["lead"]["id"])
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    old = as_person(app, org["boss"]["requester"])
    token = csrf_from(old.get("/tickets/new").get_data(as_text=True))
    assert old.post(f"/approvals/{approval_id}", data={"csrf_token": token, "approve": "1"}).status_code == 404
    assert enabled(emulator, org["peer"]) is True
    db.session.expire_all()
    assert db.session.get(Approval, approval_id).approver_requester_id == org["lead"]["requester"].id
    assert decide(as_person(app, org["lead"]["requester"]), f"/approvals/{approval_id}", "approve").status_code == 302
    assert enabled(emulator, org["peer"]) is False


def test_one_person_approves_one_step(app, db, org, synced, catalogue, emulator, admin):
    """The service's rule (manager or admin) and an 'any admin' step: the same admin cannot clear both; a second
    admin can; pressing neither button decides nothing."""
    admin_service.save(None, "Leavers", [catalogue["Leaver: disable account"].id], True,
                       [{"integration_id": synced.id, "action": "disable", "target": "ticket_subject"}],
                       actor=signals.SYSTEM, approval={"approver": "any_admin"})
    number = ticket_id(raise_about(as_person(app, org["member"]["requester"]), catalogue, "Leaver: disable account",
                                   org["peer"]["mail"]))
    first, second = db.session.scalars(sa.select(Approval.id).where(Approval.ticket_id == number)
                                       .order_by(Approval.id)).all()
    browser = as_admin(app, admin)
    page = browser.get(f"/admin/approvals/{first}").get_data(as_text=True)
    neither = browser.post(f"/admin/approvals/{first}", data={"csrf_token": csrf_from(page), "comment": "hmm"})
    assert neither.status_code == 422 and "Press Approve or Reject" in neither.get_data(as_text=True)
    assert decide(browser, f"/admin/approvals/{first}", "approve").status_code == 302
    again = decide(browser, f"/admin/approvals/{second}", "approve")
    assert again.status_code == 422 and "needs someone else" in again.get_data(as_text=True)
    assert enabled(emulator, org["peer"]) is True
    other = as_admin(app, create_admin("third@example.com", ADMIN_PASSWORD, "Third Admin"))
    assert decide(other, f"/admin/approvals/{second}", "approve").status_code == 302
    assert enabled(emulator, org["peer"]) is False


def test_an_address_two_people_share_is_refused_and_a_sign_in_name_wins(app, db, org, synced, catalogue, new_user):
    """V's mail is Y's sign-in name: naming it targets Y (the UPN wins); a mail X and W share is refused."""
    tickets.set_target_rule(catalogue["General request"], "anyone_approval", signals.SYSTEM)
    domain = org["peer"]["mail"].split("@")[1]
    tag = org["peer"]["id"][:8]
    y = new_user(userPrincipalName=f"name.{tag}@{domain}", mail=f"y.{tag}@example.com")
    new_user(mail=f"name.{tag}@{domain}")  # V
    new_user(mail=f"team.{tag}@example.com")  # X
    new_user(mail=f"team.{tag}@example.com")  # W, a shared mailbox address
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    raiser = as_person(app, org["member"]["requester"])
    number = ticket_id(raise_about(raiser, catalogue, "General request", f"NAME.{tag}@{domain}"))
    assert db.session.get(Ticket, number).subject_requester_id == db.session.scalar(
        sa.select(Requester.id).where(Requester.entra_object_id == y["id"]))
    refused = raise_about(raiser, catalogue, "General request", f"team.{tag}@example.com")
    assert refused.status_code == 422 and "Several people share that address" in refused.get_data(as_text=True)
