"""Requesters as admins and requesters see them: search, one person's page, and their manager."""
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal import sign_in_pages
from portal.database import contains_text, db, get_or_404
from portal.devices import registry
from portal.models import AuditEvent, Integration, Requester
from portal.paging import CountedPage

STATUSES = ("active", "disabled", "deleted", "locked")
PER_PAGE = 50
SORT_MATCHES_BELOW = 10_000  # a search with fewer matches sorts them; with more, it walks the name index to the page


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


def find_requesters(q: str, status: str | None, page: int) -> CountedPage:
    """Name, email or UPN contains `q`; status filter ('locked' means locked now); PER_PAGE a page."""
    query = sa.select(Requester)
    if q:
        query = query.where(sa.or_(*(contains_text(column, q) for column in (
            Requester.display_name, Requester.email, Requester.user_principal_name))))
    if status == "locked":
        query = query.where(Requester.locked_until > datetime.now(UTC))
    elif status in STATUSES:
        query = query.where(Requester.status == status)
    page = max(page, 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.with_only_columns(Requester.id).subquery()))
    if q and total <= SORT_MATCHES_BELOW:
        # PostgreSQL would walk the name index past every non-match when the matches cluster late in the alphabet
        # ("olivia"); fenced off in a materialised CTE, the few matches are found by trigram and sorted.
        matches = sa.orm.aliased(Requester, query.cte("matches").prefix_with("MATERIALIZED", dialect="postgresql"))
        ordered = sa.select(matches).order_by(matches.display_name, matches.id)
    else:
        ordered = query.order_by(Requester.display_name, Requester.id)
    items = db.session.scalars(ordered.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all() if total else []
    return CountedPage(items, page, PER_PAGE, total)


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
