"""Lockout arithmetic shared by admin and requester sign-in, and its atomic counter in the database; no Flask.

Policy: `threshold` failures within `window` lock the account for `base`; each further lockout
doubles the wait up to `maximum`. Attempts while locked neither count nor extend the lock.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import signals
from portal.database import db


@dataclass(frozen=True)
class LockoutPolicy:
    """The four numbers that define the lockout policy."""

    threshold: int = 5
    window: timedelta = timedelta(minutes=15)
    base: timedelta = timedelta(minutes=15)
    maximum: timedelta = timedelta(hours=24)

    @classmethod
    def from_values(cls, values: dict) -> "LockoutPolicy":
        """Build from the policy settings (minutes)."""
        return cls(values["lockout_threshold"], timedelta(minutes=values["lockout_window_minutes"]),
                   timedelta(minutes=values["lockout_base_minutes"]), timedelta(minutes=values["lockout_max_minutes"]))

    def duration(self, previous_lockouts: int) -> timedelta:
        """Lock length for the next lockout: base doubled per earlier lockout, capped."""
        factor = 2 ** min(previous_lockouts, 20)
        return min(self.base * factor, self.maximum)


def is_locked(account, now: datetime) -> bool:
    """Whether the account is locked at `now`."""
    return account.locked_until is not None and account.locked_until > now


def register_failure(account, now: datetime, policy: LockoutPolicy) -> bool:
    """The reference model of one failure (True when it starts a lockout); count_failure does the same atomically in
    the database, and the tests hold the two together."""
    if is_locked(account, now):
        return False
    if account.first_failed_at is None or now - account.first_failed_at > policy.window:
        account.first_failed_at, account.failed_attempts = now, 0
    account.failed_attempts += 1
    if account.failed_attempts < policy.threshold:
        return False
    account.locked_until = now + policy.duration(account.lockout_count)
    if hasattr(account, "locked_at"):
        account.locked_at = now
    account.lockout_count += 1
    account.failed_attempts, account.first_failed_at = 0, None
    return True


def count_failure(model, account_id: int, now: datetime, policy: LockoutPolicy) -> datetime | None:
    """Count one failure in the database itself, so concurrent attempts can neither overwrite each other's count nor
    both start a lock; returns when the lock ends if this failure started one (the caller commits)."""
    table = model.__table__
    new_window = sa.or_(table.c.first_failed_at.is_(None), table.c.first_failed_at < now - policy.window)
    counted = db.session.execute(
        sa.update(table).where(table.c.id == account_id,
                               sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
        .values(failed_attempts=sa.case((new_window, 1), else_=table.c.failed_attempts + 1),
                first_failed_at=sa.case((new_window, now), else_=table.c.first_failed_at))
        .returning(table.c.failed_attempts, table.c.lockout_count)).first()
    if counted is None or counted.failed_attempts < policy.threshold:
        return None
    until = now + policy.duration(counted.lockout_count)
    values = {"locked_until": until, "lockout_count": table.c.lockout_count + 1, "failed_attempts": 0,
              "first_failed_at": None, **({"locked_at": now} if "locked_at" in table.c else {})}
    started = db.session.execute(
        sa.update(table).where(table.c.id == account_id, table.c.failed_attempts >= policy.threshold)
        .values(**values).returning(table.c.id)).first()
    return until if started else None


def register_success(account) -> None:
    """A successful sign-in clears the failure count and the escalation."""
    account.failed_attempts, account.first_failed_at = 0, None
    account.lockout_count, account.locked_until = 0, None


def unlock(account) -> None:
    """An admin unlock lifts the lock and resets the counters."""
    register_success(account)


def lift_requester_lock(requester, *, actor, reason: str) -> bool:
    """Lift a requester's portal lock and reset the counters, audited and committed (the admin's Unlock button and
    the Unlock workflow action alike); returns whether it was locked."""
    was_locked = is_locked(requester, datetime.now(UTC))
    unlock(requester)
    signals.requester_unlocked.send("accounts", actor=actor, target=signals.Target("requester", str(requester.id),
                                    requester.label), reason=reason, detail={"was_locked": was_locked})
    db.session.commit()
    return was_locked
