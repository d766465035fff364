"""Requesters as admins and requesters see them: search, one person's page, and their manager."""
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal import sign_in_pages
from portal.database import contains_text, db, get_or_404
from portal.devices import registry
from portal.models import AuditEvent, Integration, Requester

STATUSES = ("active", "disabled", "deleted", "locked")
PER_PAGE = 50


@dataclass(frozen=True)
class RequesterPage:
    """One requester with what the admin page shows beside them."""

    person: Requester
    manager: Requester | None
    integration: Integration | None
    locked: bool
    microsoft_locked_until: datetime | None
    devices: list
    sign_ins: list
    events: list


def find_requesters(q: str, status: str | None, page: int):
    """Name, email or UPN contains `q`; status filter ('locked' means locked now); PER_PAGE a page."""
    query = sa.select(Requester).order_by(Requester.display_name, Requester.id)
    if q:
        query = query.where(sa.or_(*(contains_text(column, q) for column in (
            Requester.display_name, Requester.email, Requester.user_principal_name))))
    if status == "locked":
        query = query.where(Requester.locked_until > datetime.now(UTC))
    elif status in STATUSES:
        query = query.where(Requester.status == status)
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def requester_or_404(requester_id: int) -> Requester:
    """One requester, or a 404 that says so."""
    return get_or_404(Requester, requester_id, "There is no such requester.")


def manager_of(person: Requester) -> Requester | None:
    """The person's manager, when the directory names one Frontdesk knows."""
    return db.session.get(Requester, person.manager_id) if person.manager_id else None


def admin_page(requester_id: int) -> RequesterPage:
    """Everything synced about one requester, their devices, and the audit events that concern them."""
    person = requester_or_404(requester_id)
    concerning = sa.or_(sa.and_(AuditEvent.target_type == "requester", AuditEvent.target_id == str(person.id)),
                        sa.and_(AuditEvent.actor_type == "requester", AuditEvent.actor_id == str(person.id)))
    newest = sa.select(AuditEvent).where(concerning).order_by(AuditEvent.id.desc())
    return RequesterPage(
        person=person, manager=manager_of(person),
        integration=db.session.get(Integration, person.integration_id) if person.integration_id else None,
        locked=person.locked_until is not None and person.locked_until > datetime.now(UTC),
        microsoft_locked_until=person.microsoft_locked_until if person.microsoft_locked_until and
        person.microsoft_locked_until > datetime.now(UTC) else None,
        devices=registry.active("requester", person.id),
        sign_ins=sign_in_pages.history(person.id),
        events=db.session.scalars(newest.limit(15)).all())


def by_ids(ids) -> dict[int, Requester]:
    """Requesters by id, for pages that name several."""
    ids = list(ids)
    return {r.id: r for r in db.session.scalars(sa.select(Requester).where(Requester.id.in_(ids)))} if ids else {}
