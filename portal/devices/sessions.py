"""The Sessions and My devices pages' service: find live sessions and end them, each change committed here."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from portal import signals
from portal.database import contains_text, db, get_or_404
from portal.devices import registry
from portal.exceptions import NotFound
from portal.models import Admin, DeviceSession, Requester

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")
PER_PAGE = 50
COUNT_CAP = 10_000  # the Sessions page counts this many at most, then says "200+ pages"


@dataclass(frozen=True)
class SessionFilters:
    """What the admin typed into the Sessions filter bar, already trimmed."""

    person: str = ""
    device_type: str | None = None
    ip: str | None = None
    older_than_hours: int | None = None


def find_live_sessions(filters: SessionFilters, page: int) -> "SessionPage":
    """Live sessions of requesters and admins, newest activity first, one page of PER_PAGE."""
    page = max(page, 1)
    query = (sa.select(DeviceSession).outerjoin(Requester, DeviceSession.requester_id == Requester.id)
             .outerjoin(Admin, DeviceSession.admin_id == Admin.id)
             .options(sa.orm.contains_eager(DeviceSession.requester), sa.orm.contains_eager(DeviceSession.admin))
             .order_by(DeviceSession.last_seen_at.desc(), DeviceSession.id.desc()))
    items = db.session.scalars(_live_where(query, filters).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return SessionPage(items, page, _capped_count(filters, page))


def _live_where(query, filters: SessionFilters):
    """The filters' WHERE clauses (the person filter needs the requester and admin tables joined)."""
    query = query.where(DeviceSession.ended_at.is_(None))
    if filters.person:
        query = query.where(sa.or_(*(contains_text(column, filters.person) for column in (
            Requester.display_name, Requester.email, Admin.email))))
    if filters.device_type in DEVICE_TYPES:
        query = query.where(DeviceSession.device_type == filters.device_type)
    if filters.ip:
        query = query.where(DeviceSession.ip_address == filters.ip)
    if filters.older_than_hours and filters.older_than_hours <= 24 * 3650:
        query = query.where(DeviceSession.created_at <= registry.now() - timedelta(hours=filters.older_than_hours))
    return query


def _capped_count(filters: SessionFilters, page: int) -> int:
    """Matching sessions, counted no further than COUNT_CAP (or just past the page shown): a count never reads
    every live session of a large tenant."""
    query = sa.select(DeviceSession.id)
    if filters.person:
        query = query.outerjoin(Requester, DeviceSession.requester_id == Requester.id).outerjoin(
            Admin, DeviceSession.admin_id == Admin.id)
    limit = max(COUNT_CAP, page * PER_PAGE) + 1
    return db.session.scalar(sa.select(sa.func.count()).select_from(_live_where(query, filters).limit(limit).subquery()))


@dataclass(frozen=True)
class SessionPage:
    """One page of sessions with what the pager shows; a count that reached its cap reads as '200+' pages."""

    items: list
    page: int
    counted: int  # past the cap (see _capped_count) when there are more sessions than were counted

    capped = property(lambda self: self.counted > max(COUNT_CAP, self.page * PER_PAGE))
    pages = property(lambda self: max(1, -(-min(self.counted, max(COUNT_CAP, self.page * PER_PAGE)) // PER_PAGE)))
    pages_label = property(lambda self: f"{self.pages}+" if self.capped else str(self.pages))
    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages or self.capped)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)


def end_one_session(device_id: int, actor: signals.Principal) -> DeviceSession:
    """An admin ends one session now."""
    device = get_or_404(DeviceSession, device_id, "There is no such session.")
    registry.end(device, "revoked_by_admin", actor)
    db.session.commit()
    return device


def end_sessions_of_requester(requester_id: int, actor: signals.Principal) -> tuple[Requester, int]:
    """An admin ends every session of one requester; returns the person and how many ended."""
    person = get_or_404(Requester, requester_id, "There is no such requester.")
    count = registry.end_all("requester", person.id, "revoked_by_admin", actor)
    db.session.commit()
    return person, count


def end_every_other_session(actor: signals.Principal, keep: int | None) -> int:
    """An admin ends every live session except their own (`keep`)."""
    live = db.session.scalars(sa.select(DeviceSession).where(DeviceSession.ended_at.is_(None))).all()
    count = sum(1 for device in live if device.id != keep and registry.end(device, "revoked_by_admin", actor))
    db.session.commit()
    return count


def sign_out_own_device(requester: Requester, device_id: int, current_id: int | None) -> DeviceSession:
    """A requester ends one of their other devices; someone else's device, or this one, is 'not found'."""
    device = db.session.get(DeviceSession, device_id)
    if device is None or device.requester_id != requester.id or device.id == current_id:
        raise NotFound("There is no such device among yours.")
    registry.end(device, "revoked_by_user", signals.Principal.of(requester))
    db.session.commit()
    return device


def sign_out_other_devices(requester: Requester, current_id: int | None) -> int:
    """A requester ends every device except this one."""
    count = registry.end_all("requester", requester.id, "revoked_by_user", signals.Principal.of(requester),
                             keep=current_id)
    db.session.commit()
    return count
