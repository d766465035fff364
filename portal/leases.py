"""Database leases: a named, expiring lock row so one process at a time runs a sync or leads the scheduler.

A holder is named host:pid:random, so that after a crash (SIGKILL, OOM) a process on the same host can see the
holder is gone and take over at once instead of waiting for the lease to expire.
"""
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.database import db
from portal.models import Lease


def holder_name(kind: str) -> str:
    """A unique holder name that says where it runs, so a crashed holder can be recognised."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def crashed(holder: str | None) -> bool:
    """True when the holder ran on this host in a process that no longer exists."""
    parts = (holder or "").split(":")
    if len(parts) < 4 or parts[-3] != socket.gethostname() or not parts[-2].isdigit():
        return False
    pid = int(parts[-2])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the lease if it is free, expired, ours, or held by a crashed process here; commits. Atomic."""
    now = now or datetime.now(UTC)
    if _take(name, holder, ttl, now, sa.or_(Lease.expires_at < now, Lease.holder == holder)):
        return True
    try:
        db.session.add(Lease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    current = db.session.scalar(sa.select(Lease.holder).where(Lease.name == name))
    return crashed(current) and _take(name, holder, ttl, now, Lease.holder == current)


def _take(name: str, holder: str, ttl: timedelta, now: datetime, condition) -> bool:
    """Compare-and-set: the row changes hands only if `condition` still holds; commits when it did."""
    taken = db.session.execute(sa.update(Lease).where(Lease.name == name, condition)
                               .values(holder=holder, acquired_at=now, expires_at=now + ttl)).rowcount
    if taken:
        db.session.commit()
    return bool(taken)


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
    """Who holds a live lease, if anyone (a crashed holder here holds nothing)."""
    lease = db.session.get(Lease, name)
    live = lease is not None and lease.expires_at > datetime.now(UTC) and not crashed(lease.holder)
    return lease.holder if live else None
