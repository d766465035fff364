"""Lockout arithmetic with a frozen clock."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from portal.lockout import LockoutPolicy, is_locked, register_failure, register_success

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy()


@dataclass
class Account:
    failed_attempts: int = 0
    first_failed_at: datetime | None = None
    lockout_count: int = 0
    locked_until: datetime | None = None


def fail(account, times, start=T0, step=timedelta(seconds=10)):
    return [register_failure(account, start + i * step, POLICY) for i in range(times)]


def test_five_failures_within_window_lock_for_fifteen_minutes():
    """The fifth failure in 15 minutes locks for 15 minutes."""
    account = Account()
    assert fail(account, 5) == [False] * 4 + [True]
    assert account.locked_until == T0 + 4 * timedelta(seconds=10) + timedelta(minutes=15)
    assert is_locked(account, account.locked_until - timedelta(seconds=1))
    assert not is_locked(account, account.locked_until)


def test_failures_spread_beyond_the_window_do_not_lock():
    """Failures more than 15 minutes apart start a new count."""
    account = Account()
    assert not any(fail(account, 10, step=timedelta(minutes=4)))


def test_attempts_while_locked_do_not_extend_the_lock():
    """Failures during a lock are not counted and do not move locked_until."""
    account = Account()
    fail(account, 5)
    until = account.locked_until
    assert not any(fail(account, 20, start=until - timedelta(minutes=5)))
    assert account.locked_until == until


def test_each_further_lockout_doubles_up_to_a_day():
    """15, 30, 60 ... minutes, capped at 24 hours."""
    account, now, lengths = Account(), T0, []
    for _ in range(9):
        fail(account, 5, start=now)
        lengths.append(account.locked_until - (now + 4 * timedelta(seconds=10)))
        now = account.locked_until + timedelta(seconds=1)
    minutes = [int(x.total_seconds() // 60) for x in lengths]
    assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]


def test_success_resets_counters():
    """A successful sign-in clears failures and the escalation."""
    account = Account()
    fail(account, 4)
    register_success(account)
    assert account.failed_attempts == 0 and account.lockout_count == 0
    assert fail(account, 5)[-1] is True


@given(st.lists(st.integers(min_value=0, max_value=3600), max_size=60))
def test_lock_never_exceeds_the_maximum(gaps):
    """Whatever the rhythm of failures, a lock is never longer than the maximum."""
    account, now = Account(), T0
    for gap in gaps:
        now += timedelta(seconds=gap)
        if register_failure(account, now, POLICY):
            assert account.locked_until - now <= POLICY.maximum


def test_json_log_lines_cannot_be_forged_with_newlines():
    """Log injection: a value with a newline and a fake JSON record stays inside one JSON line."""
    import json
    import logging

    from portal.logging_setup import JsonFormatter

    record = logging.LogRecord("portal", logging.INFO, __file__, 1, "user said %s", ('x\n{"level": "ERROR"}',), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line and json.loads(line)["msg"] == 'user said x\\x0a{"level": "ERROR"}'
