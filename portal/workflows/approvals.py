"""Approvals that a ticket's actions wait for: who decides, the decision, and expiry.

A ticket's runs stay 'blocked' until every one of its approvals is approved; a rejection or an expiry cancels them.
Each decision is one conditional UPDATE (status must still be 'pending'), so two deciders, two workers or a crash
can never decide twice, and the runs are released in the same transaction as the decision.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import policy, signals, ticket_progress
from portal.database import db
from portal.exceptions import Conflict, NotFound, ValidationError
from portal.models import ActionRun, Admin, Approval, Requester, ServiceCategory, Ticket, TicketEvent, Workflow

APPROVERS = {
    "target_manager": "The manager of the person the ticket is about",
    "raiser_manager": "The manager of the person who raised the ticket",
    "named_admin": "A named IT admin",
    "any_admin": "Any IT admin",
}
SERVICE_RULE = "target_manager_or_admin"  # a service's 'anyone, approval required' rule, for someone else
UNVERIFIED = "unverified_request"  # a ticket from the public form: an admin checks who asked
MAX_COMMENT = 2000


def approval_clock() -> datetime:
    """One clock for approvals, so tests can move past an expiry."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Decider:
    """Who an approval waits for: a requester (a manager), one admin, and/or any admin, and why."""

    requester_id: int | None = None
    admin_id: int | None = None
    any_admin: bool = False
    note: str = ""


def plan(ticket: Ticket, flows: list[Workflow]) -> list[Approval]:
    """The approvals a new ticket needs: its service's rule for someone else, then every Approval step."""
    raiser = db.session.get(Requester, ticket.requester_id)
    target = db.session.get(Requester, ticket.subject_requester_id) if ticket.subject_requester_id else raiser
    category = db.session.get(ServiceCategory, ticket.category_id) if ticket.category_id else None
    wanted = [(UNVERIFIED, None, None)] if ticket.unverified else []
    if category and category.target_rule == "anyone_approval" and target.id != raiser.id:
        wanted.append((SERVICE_RULE, None, None))
    wanted += [(step.approver, step.id, step.approver_admin_id) for flow in flows for step in flow.steps
               if step.kind == "approval" and step.approver in APPROVERS]
    resolved = [(rule, step_id, _decider(rule, raiser, target, admin_id)) for rule, step_id, admin_id in wanted]
    # A manager who alone must approve also satisfies "the manager or any admin": ask that manager once, strictly.
    strict = {d.requester_id for _, _, d in resolved if d.requester_id and not d.any_admin}
    opened, seen = [], set()
    for rule, step_id, decider in resolved:
        key = (decider.requester_id, decider.admin_id, decider.any_admin)
        if key in seen or (decider.any_admin and decider.requester_id in strict):
            continue  # the same people are never asked twice for one ticket
        seen.add(key)
        opened.append(_open(ticket, rule, step_id, decider))
    return opened


def _decider(rule: str, raiser: Requester, target: Requester, admin_id: int | None) -> Decider:
    """Resolve the rule to people now; a missing or conflicted manager falls back to any admin, and says so."""
    if rule == "any_admin":
        return Decider(any_admin=True)
    if rule == UNVERIFIED:
        return Decider(any_admin=True, note="Asked from the public form by someone who was not signed in: check who "
                                            "asked before approving.")
    if rule == "named_admin":
        admin = db.session.get(Admin, admin_id) if admin_id else None
        return (Decider(admin_id=admin.id) if admin and admin.is_enabled else
                Decider(any_admin=True, note="The named admin no longer exists, so any IT admin may decide."))
    person = raiser if rule == "raiser_manager" else target
    manager = db.session.get(Requester, person.manager_id) if person.manager_id else None
    either = rule == SERVICE_RULE
    if manager is None or manager.status != "active":
        return Decider(any_admin=True, note=f"{person.label} has no active manager in the directory, so any IT admin "
                                            "may decide.")
    if manager.id == raiser.id:
        return Decider(any_admin=True, note="Nobody approves their own request, so an IT admin decides.")
    return Decider(requester_id=manager.id, any_admin=either)


def _open(ticket: Ticket, rule: str, step_id: int | None, decider: Decider) -> Approval:
    now = approval_clock()
    approval = Approval(ticket_id=ticket.id, workflow_step_id=step_id, rule=rule, status="pending",
                        approver_requester_id=decider.requester_id, approver_admin_id=decider.admin_id,
                        any_admin=decider.any_admin, reason=decider.note, requested_at=now, comment="",
                        expires_at=now + timedelta(hours=policy.get("approval_expiry_hours")))
    db.session.add(approval)
    db.session.flush()
    who = approver_label(approval)
    _line(approval, "approval_requested", f"Waiting for approval by {who}.", {"rule": rule, "note": decider.note})
    signals.approval_requested.send("approvals", actor=signals.SYSTEM, target=approval_target(approval),
                                    detail={"ticket": ticket.id, "rule": rule, "approver": who})
    return approval


def approver_label(approval: Approval) -> str:
    """Who may decide, in words."""
    names = []
    if approval.approver_requester_id:
        names.append(db.session.get(Requester, approval.approver_requester_id).label)
    if approval.approver_admin_id:
        names.append(db.session.get(Admin, approval.approver_admin_id).label)
    if approval.any_admin:
        names.append("an IT admin")
    return " or ".join(names)


def may_decide(approval: Approval, user) -> bool:
    """Only the resolved approver decides: their own requester id, their named admin id, or any admin if allowed."""
    if user.principal_type == "admin":
        return approval.any_admin or approval.approver_admin_id == user.id
    return approval.approver_requester_id == user.id


def waiting_for(user) -> list[Approval]:
    """Pending approvals this person may decide, oldest first."""
    query = sa.select(Approval).where(Approval.status == "pending").order_by(Approval.id)
    if user.principal_type == "admin":
        query = query.where(sa.or_(Approval.any_admin.is_(True), Approval.approver_admin_id == user.id))
    else:
        query = query.where(Approval.approver_requester_id == user.id)
    return list(db.session.scalars(query.limit(200)))


def decision_or_404(approval_id: int, user) -> Approval:
    """An approval this person may decide (pending or decided); anyone else's is 'not found' (no IDOR)."""
    approval = db.session.get(Approval, approval_id)
    if approval is None or not may_decide(approval, user):
        raise NotFound("There is no such approval waiting for you.")
    return approval


def decide(approval_id: int, user, approve: bool | None, comment: str) -> Approval:
    """Approve or reject (None: neither button, refused), once: the decision and the release or cancellation of the
    runs commit together."""
    if approve is None:
        raise ValidationError("Press Approve or Reject.")
    approval = db.session.get(Approval, approval_id)
    if approval is not None and refresh_decider(approval):
        db.session.commit()  # the person moved to another manager since: the new one decides
    approval = decision_or_404(approval_id, user)
    who = signals.Principal.of(user)
    if approve and _approved_another_step(approval, f"{who.type}:{who.id}"):
        raise ValidationError("You already approved another step of this ticket; this one needs someone else.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"Keep the comment under {MAX_COMMENT} characters.")
    if not approve and not comment:
        raise ValidationError("Say why you reject it: the person who asked will read your comment.")
    if approval.status == "pending" and approval.expires_at <= approval_clock():
        if expire(approval):
            db.session.commit()
            settle(approval.ticket_id)
    status = "approved" if approve else "rejected"
    if not _claim(approval, status, who.label, comment, f"{who.type}:{who.id}"):
        db.session.rollback()
        raise Conflict(f"This approval is already {db.session.get(Approval, approval_id).status}; nothing changed.")
    _after_decision(approval, who, comment)
    db.session.commit()
    if approval.status == "rejected":
        settle(approval.ticket_id)
    return approval


def _claim(approval: Approval, status: str, by: str | None, comment: str, key: str | None = None) -> bool:
    """The conditional UPDATE that makes a decision happen exactly once."""
    done = db.session.execute(sa.update(Approval).where(Approval.id == approval.id, Approval.status == "pending")
                              .values(status=status, decided_at=approval_clock(), decided_by=by, comment=comment,
                                      decided_by_key=key))
    db.session.refresh(approval)
    return done.rowcount == 1


def _approved_another_step(approval: Approval, key: str) -> bool:
    """Separation of duties: one person's approval counts for one step of a ticket."""
    return bool(db.session.scalar(sa.select(Approval.id).where(
        Approval.ticket_id == approval.ticket_id, Approval.id != approval.id, Approval.status == "approved",
        Approval.decided_by_key == key).limit(1)))


def refresh_decider(approval: Approval) -> bool:
    """A manager rule is re-read from the synced chain: when the person now reports to someone else, the new manager
    (or the admin fallback) decides, and is told; returns whether it changed (not committed)."""
    if approval.status != "pending" or approval.rule not in ("target_manager", "raiser_manager", SERVICE_RULE):
        return False
    ticket = db.session.get(Ticket, approval.ticket_id)
    raiser = db.session.get(Requester, ticket.requester_id)
    target = db.session.get(Requester, ticket.subject_requester_id) if ticket.subject_requester_id else raiser
    now = _decider(approval.rule, raiser, target, None)
    if (now.requester_id, now.any_admin) == (approval.approver_requester_id, approval.any_admin):
        return False
    approval.approver_requester_id, approval.any_admin, approval.reason = now.requester_id, now.any_admin, now.note
    approval.mail_status = None  # the new approver gets the email
    _line(approval, "approval_requested", f"The manager changed in the directory: now waiting for approval by "
                                          f"{approver_label(approval)}.", {"rule": approval.rule})
    return True


def follow_manager_changes() -> int:
    """The scheduler's sweep: pending manager approvals follow the synced chain; returns how many moved."""
    moved = 0
    for approval in db.session.scalars(sa.select(Approval).where(Approval.status == "pending")).all():
        moved += refresh_decider(approval)
    db.session.commit()
    return moved


def _after_decision(approval: Approval, actor: signals.Principal, comment: str) -> None:
    said = f" ({comment})" if comment else ""
    if approval.status == "approved":
        _line(approval, "approval_approved", f"Approved by {actor.label}{said}.", {"by": actor.label}, actor)
        signals.approval_approved.send("approvals", actor=actor, target=approval_target(approval),
                                       detail={"ticket": approval.ticket_id})
        _release_if_clear(approval.ticket_id, actor)
    else:
        _line(approval, "approval_rejected", f"Rejected by {actor.label}{said}. Nothing was changed.",
              {"by": actor.label}, actor)
        signals.approval_rejected.send("approvals", actor=actor, target=approval_target(approval),
                                       reason=comment, detail={"ticket": approval.ticket_id})
        _cancel_ticket(approval.ticket_id, f"Rejected by {actor.label}.")


def _release_if_clear(ticket_id: int, actor: signals.Principal) -> None:
    """When no approval of the ticket is left undecided, its blocked runs become due now; an admin's final approval
    also counts as the admin approval an Unlock needs to turn a disabled account back on (a manager's does not)."""
    if not all_clear(ticket_id):
        return
    for run in db.session.scalars(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id,
                                                             ActionRun.status == "blocked")):
        run.status, run.next_attempt_at = "pending", approval_clock()
        if actor.type == "admin":
            run.detail = dict(run.detail or {}, approved_by=actor.label)


def _cancel_ticket(ticket_id: int, why: str) -> None:
    """A rejection or expiry: other approvals and every blocked run are cancelled (not committed); `settle` then
    closes the ticket."""
    db.session.execute(sa.update(Approval).where(Approval.ticket_id == ticket_id, Approval.status == "pending")
                       .values(status="cancelled", decided_at=approval_clock()))
    db.session.execute(sa.update(ActionRun).where(ActionRun.ticket_id == ticket_id, ActionRun.status == "blocked")
                       .values(status="cancelled", finished_at=approval_clock(), error_message=why))


def settle(ticket_id: int) -> None:
    """After a rejection or expiry committed: the ticket follows its (now cancelled) runs, or simply closes when it
    had none; the requester is told like any other status change."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket_progress.current_runs(ticket_id):
        ticket_progress.follow_runs(ticket)
    elif ticket.status != "closed":
        ticket_progress.set_by_hand(ticket, "closed", signals.SYSTEM)


def expire(approval: Approval) -> bool:
    """Expire one overdue approval (not committed); False if someone decided it first."""
    if not _claim(approval, "expired", None, ""):
        return False
    _line(approval, "approval_expired", "Nobody decided in time, so the request expired. Nothing was changed.", {})
    signals.approval_expired.send("approvals", actor=signals.SCHEDULER, target=approval_target(approval),
                                  detail={"ticket": approval.ticket_id})
    _cancel_ticket(approval.ticket_id, "The approval expired.")
    return True


def expire_due() -> int:
    """The scheduler's sweep: expire every overdue pending approval, one transaction each."""
    due = db.session.scalars(sa.select(Approval.id).where(Approval.status == "pending",
                                                          Approval.expires_at <= approval_clock())).all()
    count = 0
    for approval_id in due:
        expired = expire(db.session.get(Approval, approval_id))
        db.session.commit()
        if expired:
            settle(db.session.scalar(sa.select(Approval.ticket_id).where(Approval.id == approval_id)))
        count += expired
    return count


def all_clear(ticket_id: int) -> bool:
    """The runner's last check: true when no approval of the ticket is anything but approved."""
    return not db.session.scalar(sa.select(sa.func.count()).select_from(Approval).where(
        Approval.ticket_id == ticket_id, Approval.status != "approved"))


def _line(approval: Approval, kind: str, public: str, detail: dict, actor: signals.Principal = signals.SYSTEM) -> None:
    db.session.add(TicketEvent(ticket_id=approval.ticket_id, kind=kind, actor_type=actor.type,
                               actor_label=actor.label if actor.type != "system" else "Approval",
                               public_message=public, detail=dict(detail, approval=approval.id)))


def approval_target(approval: Approval) -> signals.Target:
    """How an approval is named in the audit log."""
    return signals.Target("approval", str(approval.id), f"approval for ticket #{approval.ticket_id}")
