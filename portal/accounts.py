"""Local admin accounts: creation and password sign-in with lockout. No Flask imports."""
from datetime import UTC, datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from portal import signals
from portal.database import db
from portal.exceptions import Conflict, InvalidCredentials, ValidationError
from portal.lockout import LockoutPolicy, is_locked, register_failure, register_success
from portal.models import Admin

MIN_PASSWORD_LENGTH = 12
INVALID_CREDENTIALS = ("The email address or password is not correct, or the account is locked for a while "
                       "after too many attempts. Try again later, or ask another admin to unlock it.")
# Verifying against a fixed hash for unknown emails keeps the response time the same (no enumeration).
_DUMMY = Admin(password_hash="scrypt:32768:8:1$RJ5Nn1F7mE1sAcFt$0f1e4e0b")  # noqa: S106 (matches no password)


def normalise_email(email: str) -> str:
    """Validate and lower-case an email address (no DNS look-up: this may run offline)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(f"That is not a valid email address: {exc}") from exc


def check_password_strength(password: str) -> None:
    """ASVS-style floor: long enough, not blank, not all one character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(set(password)) < 4:
        raise ValidationError("The password is too simple: use a mix of characters.")


def create_admin(email: str, password: str, display_name: str = "", *, actor=signals.SYSTEM) -> Admin:
    """Create a local admin; refuses duplicates and weak passwords."""
    email = normalise_email(email)
    check_password_strength(password)
    if db.session.scalar(sa.select(Admin.id).where(Admin.email == email)):
        raise Conflict(f"An admin with the email {email} already exists.")
    admin = Admin(email=email, display_name=display_name or email.split("@")[0])
    admin.set_password(password)
    db.session.add(admin)
    db.session.flush()
    signals.admin_created.send("accounts", actor=actor, target=signals.Target("admin", str(admin.id), email))
    db.session.commit()
    return admin


def authenticate_admin(email: str, password: str, policy: LockoutPolicy, now: datetime | None = None) -> Admin:
    """Check a password sign-in, counting failures and locking; failures commit, success is committed by sign_in."""
    now = now or datetime.now(UTC)
    admin = db.session.scalar(sa.select(Admin).where(Admin.email == email.strip().lower()))
    if admin is None:
        _DUMMY.check_password(password)
        _failed(None, email, "unknown email")
    if is_locked(admin, now):
        _failed(admin, email, "locked")
    if not admin.check_password(password):
        locked_now = register_failure(admin, now, policy)
        if locked_now:
            signals.admin_locked_out.send("accounts", actor=signals.ANONYMOUS, target=_target(admin),
                                          outcome="failure", reason="too many failed sign-ins",
                                          detail={"locked_until": admin.locked_until.isoformat()})
        _failed(admin, email, "wrong password")
    if not admin.is_enabled:
        _failed(admin, email, "account disabled")
    register_success(admin)
    admin.last_signed_in_at = now
    return admin


def _target(admin: Admin) -> signals.Target:
    return signals.Target("admin", str(admin.id), admin.email)


def _failed(admin: Admin | None, email: str, reason: str):
    """Record the failure, commit it, and raise one message whatever the reason (no enumeration)."""
    target = _target(admin) if admin else signals.Target("admin", None, email[:254])
    signals.admin_sign_in_failed.send("accounts", actor=signals.ANONYMOUS, target=target,
                                      outcome="failure", reason=reason)
    db.session.commit()
    raise InvalidCredentials(INVALID_CREDENTIALS)


def unlock_requester(requester, *, actor: signals.Principal, reason: str = "unlocked by an admin") -> bool:
    """Lift a requester's portal lock and reset the counters; audited. Returns whether it was locked."""
    from portal.lockout import unlock

    was_locked = requester.locked_until is not None and requester.locked_until > datetime.now(UTC)
    unlock(requester)
    signals.requester_unlocked.send("accounts", actor=actor, target=signals.Target("requester", str(requester.id),
                                    requester.label), reason=reason, detail={"was_locked": was_locked})
    db.session.commit()
    return was_locked
