"""Database leases: a named, expiring lock row so one process at a time runs a sync or leads the scheduler."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Lease


def acquire(name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the lease if it is free, expired or already ours; commits. Atomic on SQLite and PostgreSQL."""
    now = now or datetime.now(UTC)
    taken = db.session.execute(
        sa.update(Lease).where(Lease.name == name, sa.or_(Lease.expires_at < now, Lease.holder == holder))
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)).rowcount
    if taken:
        db.session.commit()
        return True
    try:
        db.session.add(Lease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def renew(name: str, holder: str, ttl: timedelta) -> bool:
    """Extend our lease (in the caller's transaction); False if someone else holds it now."""
    now = datetime.now(UTC)
    return bool(db.session.execute(sa.update(Lease).where(Lease.name == name, Lease.holder == holder)
                                   .values(expires_at=now + ttl)).rowcount)


def release(name: str, holder: str) -> None:
    """Give the lease up; commits."""
    db.session.execute(sa.delete(Lease).where(Lease.name == name, Lease.holder == holder))
    db.session.commit()


def holder_of(name: str) -> str | None:
    """Who holds a live lease, if anyone."""
    lease = db.session.get(Lease, name)
    return lease.holder if lease and lease.expires_at > datetime.now(UTC) else None
