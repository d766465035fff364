"""Emails about tickets: IT when one needs attention, the requester when its status changes or IT replies.

Nothing here ever raises: a mail that cannot go is logged and noted on the ticket for admins only, so the runner
and the pages carry on. The mails hold no secret and no comment text, only the ticket number and a link.
"""
import logging
from html import escape
from urllib.parse import urljoin

from flask import current_app

from portal import mail, policy
from portal.database import db
from portal.models import ActionRun, Requester, Ticket, TicketEvent
from portal.workflows.actions import action_type

log = logging.getLogger("portal.tickets")


def link(path: str) -> str:
    """An absolute link built from the portal address on the Settings page, else PORTAL_URL (never from a request's
    Host header)."""
    base = policy.mail_identity()[1] or "/"
    return urljoin(base if base.endswith("/") else base + "/", path.lstrip("/"))


def tell_it(ticket: Ticket, run: ActionRun) -> None:
    """Mail the IT notification address, if one is set, that an action of the ticket failed."""
    to = policy.get("it_notify_email")
    if not to:
        return
    action = action_type(run.action).label
    url = link(f"/admin/tickets/{ticket.id}")
    subject = f"Ticket #{ticket.id} needs attention: {action} failed"
    text = (f"{action} failed on ticket #{ticket.id} ({ticket.subject}).\n\nError: {run.error_message or 'unknown'}\n\n"
            f"Open the ticket: {url}\n")
    html = (f"<p>{escape(action)} failed on ticket #{ticket.id} ({escape(ticket.subject)}).</p>"
            f"<p>Error: {escape(run.error_message or 'unknown')}</p><p><a href=\"{escape(url)}\">Open the ticket</a></p>")
    _send(ticket, to, subject, text, html, "IT")


def tell_requester_status(ticket: Ticket, status_label: str) -> None:
    """Mail the requester that their ticket's status changed."""
    url = link(f"/tickets/{ticket.id}")
    _to_requester(ticket, f"Ticket #{ticket.id} is now: {status_label.lower()}",
                  f"The status of your ticket #{ticket.id} ({ticket.subject}) is now: {status_label.lower()}.", url)


def tell_requester_comment(ticket: Ticket) -> None:
    """Mail the requester that IT wrote on their ticket (the text stays in the portal)."""
    url = link(f"/tickets/{ticket.id}")
    _to_requester(ticket, f"IT replied on ticket #{ticket.id}",
                  f"IT wrote a comment on your ticket #{ticket.id} ({ticket.subject}). Sign in to read it and reply.", url)


def _to_requester(ticket: Ticket, subject: str, sentence: str, url: str) -> None:
    """Only a verified ticket's requester is mailed: an unverified one's address was typed by someone unknown."""
    requester = db.session.get(Requester, ticket.requester_id) if ticket.requester_id else None
    if requester is None or ticket.unverified:
        return
    hello = requester.given_name or requester.display_name or ""
    text = f"Hello {hello},\n\n{sentence}\n\nOpen it: {url}\n"
    html = f"<p>Hello {escape(hello)},</p><p>{escape(sentence)}</p><p><a href=\"{escape(url)}\">Open your ticket</a></p>"
    _send(ticket, requester.email or requester.user_principal_name, subject, text, html, "the requester")


def _send(ticket: Ticket, to: str, subject: str, text: str, html: str, whom: str) -> None:
    """Send, or log the failure and add a timeline line only admins see; never raises (not committed)."""
    config = current_app.config
    try:
        mail.send(config, to, subject, text, html, attempts=config.get("MAIL_ATTEMPTS", 3))
    except Exception as exc:  # a notice must never break the runner or a page
        log.warning("ticket %s: the email to %s could not be sent (%s)", ticket.id, whom, exc.__class__.__name__)
        reason = getattr(exc, "message", exc.__class__.__name__)
        db.session.add(TicketEvent(ticket_id=ticket.id, kind="mail_failed", actor_type="system", actor_label="Frontdesk",
                                   public_message=f"The email to {whom} could not be sent: {reason}",
                                   detail={"subject": subject}, visible_to_requester=False))
