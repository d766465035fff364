"""Local admin accounts: creation and password sign-in with lockout. No Flask imports."""
import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadData, URLSafeTimedSerializer

from portal import signals
from portal.database import db
from portal.exceptions import Conflict, InvalidCredentials, ValidationError
from portal.lockout import LockoutPolicy, count_failure, is_locked, register_success
from portal.models import Admin

MIN_PASSWORD_LENGTH = 12
KNOWN_DEVICE_DAYS = 90
INVALID_CREDENTIALS = ("The email address or password is not correct, or the account is locked for a while "
                       "after too many attempts. Check both and try again later; a browser you have signed in with "
                       "before is not held back by such a lock.")
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


def authenticate_admin(email: str, password: str, policy: LockoutPolicy, *, device: str | None = None,
                       secret_key: str = "", now: datetime | None = None) -> Admin:
    """Check a password sign-in; every failure path pays one password hash (no timing oracle) and is committed.

    A lock from failed attempts stops unknown browsers only: a browser holding this admin's known-device token
    (set at an earlier sign-in) still gets in with the right password, so a stranger cannot lock an admin out.
    """
    now = now or datetime.now(UTC)
    admin = db.session.scalar(sa.select(Admin).where(Admin.email == email.strip().lower()))
    password_ok = (admin or _DUMMY).check_password(password)
    if admin is None:
        _failed(None, email, "unknown email")
    locked = is_locked(admin, now)
    if locked and not is_known_device(admin, device, secret_key):
        _failed(admin, email, "locked")
    if not password_ok:
        until = count_failure(Admin, admin.id, now, policy)
        if until:
            signals.admin_locked_out.send("accounts", actor=signals.ANONYMOUS, target=_admin_target(admin),
                                          outcome="failure", reason="too many failed sign-ins",
                                          detail={"locked_until": until.isoformat()})
        _failed(admin, email, "wrong password")
    if not admin.is_enabled:
        _failed(admin, email, "account disabled")
    if not locked:  # a known browser passes a lock without lifting it for everyone else
        register_success(admin)
    admin.last_signed_in_at = now
    return admin


REQUESTER_DEVICE_SALT = "frontdesk-requester-known-device"


def known_device_token(admin: Admin, secret_key: str) -> str:
    """A signed note for a cookie: this browser signed in as this admin (OWASP 'device cookies'); a new password
    voids it, because it carries a tag of the password hash."""
    return _device_serializer(secret_key).dumps({"admin": admin.id, "tag": _password_tag(admin)})


def is_known_device(admin: Admin, token: str | None, secret_key: str) -> bool:
    """Whether the token was issued to this admin, within KNOWN_DEVICE_DAYS, for the current password."""
    if not token or not secret_key:
        return False
    try:
        data = _device_serializer(secret_key).loads(token, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadData:
        return False
    return (isinstance(data, dict) and data.get("admin") == admin.id
            and hmac.compare_digest(str(data.get("tag")), _password_tag(admin)))


def requester_device_token(requester_id: int, secret_key: str) -> str:
    """The same idea for requesters: this browser signed in as this requester, so a lock that wrong passwords typed
    elsewhere caused does not shut the owner out here (Microsoft has just accepted their password)."""
    return URLSafeTimedSerializer(secret_key, salt=REQUESTER_DEVICE_SALT).dumps({"requester": requester_id})


def requester_of_device(token: str | None, secret_key: str) -> int | None:
    """The requester a browser's device cookie names (within KNOWN_DEVICE_DAYS), or None."""
    if not token or not secret_key:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=REQUESTER_DEVICE_SALT).loads(token, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadData:
        return None
    value = data.get("requester") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _device_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="frontdesk-admin-known-device")


def _password_tag(admin: Admin) -> str:
    return hashlib.sha256((admin.password_hash or "").encode()).hexdigest()[:24]


def _admin_target(admin: Admin) -> signals.Target:
    return signals.Target("admin", str(admin.id), admin.email)


def _failed(admin: Admin | None, email: str, reason: str):
    """Record the failure, commit it, and raise one message whatever the reason (no enumeration)."""
    target = _admin_target(admin) if admin else signals.Target("admin", None, email[:254])
    signals.admin_sign_in_failed.send("accounts", actor=signals.ANONYMOUS, target=target,
                                      outcome="failure", reason=reason)
    db.session.commit()
    raise InvalidCredentials(INVALID_CREDENTIALS)

