"""Lockout arithmetic shared by admin and requester sign-in; pure functions, no Flask.

Policy: `threshold` failures within `window` lock the account for `base`; each further lockout
doubles the wait up to `maximum`. Attempts while locked neither count nor extend the lock.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta


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
    """Count one failure; return True when this failure starts a lockout."""
    if is_locked(account, now):
        return False
    if account.first_failed_at is None or now - account.first_failed_at > policy.window:
        account.first_failed_at, account.failed_attempts = now, 0
    account.failed_attempts += 1
    if account.failed_attempts < policy.threshold:
        return False
    account.locked_until = now + policy.duration(account.lockout_count)
    account.lockout_count += 1
    account.failed_attempts, account.first_failed_at = 0, None
    return True


def register_success(account) -> None:
    """A successful sign-in clears the failure count and the escalation."""
    account.failed_attempts, account.first_failed_at = 0, None
    account.lockout_count, account.locked_until = 0, None


def unlock(account) -> None:
    """An admin unlock lifts the lock and resets the counters."""
    register_success(account)
