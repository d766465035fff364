"""What approvers see and receive: the cards on their home page, the decision page, and the email that links to it."""
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal import mail, policy
from portal.database import db
from portal.exceptions import MailError
from portal.models import ActionRun, Admin, Approval, Requester, ServiceCategory, Ticket
from portal.workflows import approvals
from portal.workflows.actions import action_type

log = logging.getLogger("portal.approvals")


@dataclass
class ApprovalCard:
    """One approval as a page shows it: what would happen, to whom, asked by whom, and who may decide."""

    approval: Approval
    ticket: Ticket
    service: str
    raiser: Requester
    target: Requester
    actions: list[str]
    approver: str

    @property
    def id(self) -> int:
        return self.approval.id

    @property
    def summary(self) -> str:
        """One line for lists and email subjects."""
        about = f" for {self.target.label}" if self.target.id != self.raiser.id else ""
        if self.ticket.unverified:
            return f"{self.service}{about}, asked from the public form as {self.ticket.contact_email} (unverified)"
        return f"{self.service}{about}, asked by {self.raiser.label}"

    @property
    def expires_at(self) -> datetime:
        return self.approval.expires_at


def card(approval: Approval) -> ApprovalCard:
    """Everything a decider needs to see about one approval."""
    ticket = db.session.get(Ticket, approval.ticket_id)
    category = db.session.get(ServiceCategory, ticket.category_id) if ticket.category_id else None
    raiser = db.session.get(Requester, ticket.requester_id)
    target = db.session.get(Requester, ticket.subject_requester_id) if ticket.subject_requester_id else raiser
    runs = db.session.scalars(sa.select(ActionRun.action).where(ActionRun.ticket_id == ticket.id)
                              .order_by(ActionRun.id)).all()
    return ApprovalCard(approval, ticket, category.name if category else ticket.subject, raiser, target,
                        [action_type(a).label for a in runs], approvals.approver_label(approval))


def cards_for(user) -> list[ApprovalCard]:
    """The approvals waiting for this person."""
    return [card(a) for a in approvals.waiting_for(user)]


def admin_overview(admin: Admin) -> dict:
    """The admin Approvals page: waiting for this admin, waiting for managers, recently decided, and Unlock runs
    that wait for an admin to turn an account back on."""
    pending = db.session.scalars(sa.select(Approval).where(Approval.status == "pending").order_by(Approval.id)
                                 .limit(200)).all()
    decided = db.session.scalars(sa.select(Approval).where(Approval.status != "pending")
                                 .order_by(Approval.decided_at.desc(), Approval.id.desc()).limit(20)).all()
    parked = db.session.scalars(sa.select(ActionRun).where(ActionRun.status == "awaiting_approval")
                                .order_by(ActionRun.id).limit(200)).all()
    return {"mine": [card(a) for a in pending if approvals.may_decide(a, admin)],
            "others": [card(a) for a in pending if not approvals.may_decide(a, admin)],
            "decided": [card(a) for a in decided], "parked": parked}


def notify_pending(config) -> int:
    """Email the deciders of every approval not yet announced; a mail failure is recorded, never raised."""
    ids = db.session.scalars(sa.select(Approval.id).where(Approval.mail_status.is_(None),
                                                          Approval.status == "pending")).all()
    for approval_id in ids:
        approval = db.session.get(Approval, approval_id)
        approval.mail_status = _announce(card(approval), config)
        db.session.commit()
    return len(ids)


def _announce(item: ApprovalCard, config) -> str:
    base = policy.mail_identity()[1].rstrip("/")
    sent = failed = 0
    for address, link in _recipients(item.approval, base):
        subject = f"Approval needed: ticket #{item.ticket.id}, {item.service}"
        text = (f"{item.summary}.\n\nIf approved, Frontdesk will run: {', '.join(item.actions) or 'no action'}.\n"
                f"Decide here (you will be asked to sign in): {link}\n\nThe request expires on "
                f"{item.expires_at:%Y-%m-%d %H:%M} UTC. Nothing happens until someone who may decide approves it.")
        try:
            mail.send(config, address, subject, text, attempts=config.get("MAIL_ATTEMPTS", 3))
            sent += 1
        except MailError as exc:
            failed += 1
            log.warning("approval %s: mail to an approver failed: %s", item.id, exc.message)
    return "sent" if sent and not failed else ("failed" if failed else "no_recipient")


def _recipients(approval: Approval, base: str) -> list[tuple[str, str]]:
    """The manager's email with the requester page, and admins' emails with the admin page."""
    found = []
    if approval.approver_requester_id:
        person = db.session.get(Requester, approval.approver_requester_id)
        if person.email:
            found.append((person.email, f"{base}/approvals/{approval.id}"))
    admins = []
    if approval.approver_admin_id:
        admins.append(db.session.get(Admin, approval.approver_admin_id))
    if approval.any_admin:
        admins += db.session.scalars(sa.select(Admin).where(Admin.is_enabled.is_(True)).order_by(Admin.id)).all()
    found += [(a.email, f"{base}/admin/approvals") for a in {a.id: a for a in admins if a.is_enabled}.values()]
    return found
