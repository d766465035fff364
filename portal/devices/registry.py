"""Register, check, touch and end device sessions; policies for idle, absolute lifetime and device limits."""
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from ua_parser import parse

from portal import signals
from portal.database import db
from portal.exceptions import DeviceLimitReached
from portal.models import DeviceSession, Requester

TOUCH_EVERY = timedelta(minutes=1)
FRESH_SIGN_IN = timedelta(minutes=10)
EXPIRY_REASONS = {"idle_timeout", "absolute_timeout"}


def now() -> datetime:
    """The registry's clock (tests freeze it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class SessionPolicy:
    """Idle timeout, absolute lifetime, device limit and what to do at the limit."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    max_devices: int = 5
    limit_mode: str = "end_oldest"

    @classmethod
    def from_values(cls, values: dict) -> "SessionPolicy":
        return cls(timedelta(minutes=values["session_idle_minutes"]), timedelta(hours=values["session_absolute_hours"]),
                   values["session_max_devices"], values["session_limit_mode"])


def sid_hash(sid: str) -> str:
    """Session ids are stored only as SHA-256, so the table cannot be used to hijack a session."""
    return hashlib.sha256(sid.encode()).hexdigest()


def describe_device(user_agent: str | None) -> tuple[str, str]:
    """('Chrome 131 on Windows 10', 'desktop') from a User-Agent with ua-parser."""
    if not user_agent:
        return "Unknown device", "other"
    result = parse(user_agent[:512])
    browser = result.user_agent.family if result.user_agent else "Browser"
    major = result.user_agent.major if result.user_agent and result.user_agent.major else ""
    os_name = result.os.family if result.os else "an unknown system"
    os_major = result.os.major if result.os and result.os.major and result.os.family in ("Windows", "Mac OS X", "Android", "iOS") else ""
    device = result.device.family if result.device else None
    where = device if device in ("iPhone", "iPad") else f"{os_name} {os_major}".strip()
    label = f"{browser} {major}".strip() + f" on {where}"
    if device == "iPhone" or (os_name == "Android" and "Mobile" in user_agent):
        kind = "mobile"
    elif device == "iPad" or os_name == "Android":
        kind = "tablet"
    elif "bot" in user_agent.lower() or (result.device and result.device.family == "Spider"):
        kind = "bot"
    else:
        kind = "desktop"
    return label[:200], kind


def _owner_filter(principal_type: str, principal_id: int):
    column = DeviceSession.requester_id if principal_type == "requester" else DeviceSession.admin_id
    return sa.and_(DeviceSession.principal_type == principal_type, column == principal_id)


def active(principal_type: str, principal_id: int) -> list[DeviceSession]:
    """Live sessions of one person, newest first."""
    return list(db.session.scalars(sa.select(DeviceSession).where(
        _owner_filter(principal_type, principal_id), DeviceSession.ended_at.is_(None))
        .order_by(DeviceSession.created_at.desc())))


def register_device(principal, sid: str, user_agent: str | None, ip: str | None, policy: SessionPolicy,
             authenticated_at: datetime | None = None) -> tuple[DeviceSession, list[DeviceSession]]:
    """Record a new sign-in; at the device limit end the oldest (or refuse). Returns (device, ended)."""
    moment = now()
    live = active(principal.principal_type, principal.id)
    ended = []
    if principal.principal_type == "requester" and len(live) >= policy.max_devices:
        if policy.limit_mode == "refuse":
            raise DeviceLimitReached(f"You are already signed in on {len(live)} devices, the most allowed. Sign out "
                                     "on one of them (My devices), then try again.")
        for old in sorted(live, key=lambda d: d.created_at)[: len(live) - policy.max_devices + 1]:
            end(old, "replaced", signals.SYSTEM)
            ended.append(old)
    label, kind = describe_device(user_agent)
    device = DeviceSession(sid_hash=sid_hash(sid), principal_type=principal.principal_type, device_label=label,
                           device_type=kind, user_agent=(user_agent or "")[:512] or None, ip_address=ip,
                           created_at=moment, last_seen_at=moment, authenticated_at=authenticated_at or moment,
                           expires_at=moment + policy.absolute)
    if principal.principal_type == "requester":
        device.requester_id = principal.id
    else:
        device.admin_id = principal.id
    db.session.add(device)
    db.session.flush()
    signals.session_started.send("devices", actor=signals.Principal.of(principal), target=_device_target(device),
                                 detail={"device": label, "type": kind, "replaced": [d.id for d in ended]})
    return device, ended


def preload(device_id) -> DeviceSession | None:
    """Load a device session with its requester or admin in one query, into the session's identity map.

    The identity map holds objects weakly: the caller keeps the returned device for the rest of the request.
    """
    if not isinstance(device_id, int):
        return None
    return db.session.get(DeviceSession, device_id, options=[sa.orm.joinedload(DeviceSession.requester),
                                                              sa.orm.joinedload(DeviceSession.admin)])


def check(device_id: int | None, sid: str, policy: SessionPolicy) -> tuple[DeviceSession | None, str | None]:
    """Is this request's device session still valid? Returns (device, None) or (None, reason). Touches at most once a minute."""
    device = db.session.get(DeviceSession, device_id) if device_id else None
    if device is None or device.sid_hash != sid_hash(sid):
        return None, "revoked"
    if device.ended_at is not None:
        return None, ended_reason(device)
    moment = now()
    if moment >= device.expires_at:
        end(device, "absolute_timeout", signals.SYSTEM)
        db.session.commit()
        return None, "expired"
    if moment - device.last_seen_at >= policy.idle:
        end(device, "idle_timeout", signals.SYSTEM)
        db.session.commit()
        return None, "idle"
    if moment - device.last_seen_at >= TOUCH_EVERY:
        db.session.execute(sa.update(DeviceSession).where(DeviceSession.id == device.id).values(last_seen_at=moment))
        db.session.commit()
    return device, None


def ended_reason(device: DeviceSession) -> str:
    """The sign-in page's notice for an ended session, so the person is told what happened."""
    if device.end_reason in EXPIRY_REASONS:
        return "expired"
    return {"replaced": "replaced", "password_reset": "password_reset",
            "account_disabled": "disabled"}.get(device.end_reason, "revoked")


def end(device: DeviceSession, reason: str, actor: signals.Principal) -> bool:
    """End one session with a reason; audited. The caller commits. False if it had already ended."""
    if device.ended_at is not None:
        return False
    device.ended_at, device.end_reason = now(), reason
    if reason == "signed_out":
        return True  # the sign-out event itself is audited by the sign-in service
    signal = signals.session_expired if reason in EXPIRY_REASONS else signals.session_revoked
    signal.send("devices", actor=actor, target=_device_target(device), reason=reason,
                outcome="success", detail={"device": device.device_label, "ip": device.ip_address})
    return True


def end_all(principal_type: str, principal_id: int, reason: str, actor: signals.Principal,
            keep: int | None = None) -> int:
    """End every live session of one person (except `keep`); the caller commits."""
    count = 0
    for device in active(principal_type, principal_id):
        if device.id != keep and end(device, reason, actor):
            count += 1
    return count


def end_for_requesters(requester_ids, reason: str, actor: signals.Principal = signals.SYSTEM) -> int:
    """Account events (disabled by sync or a workflow, password reset) end all their sessions at once."""
    count = sum(end_all("requester", rid, reason, actor) for rid in requester_ids)
    db.session.commit()
    return count


def is_fresh(authenticated_at: datetime | None) -> bool:
    """Sensitive actions need a sign-in no older than 10 minutes (ASVS 7.5.2)."""
    return authenticated_at is not None and now() - authenticated_at <= FRESH_SIGN_IN


def cleanup(policy: SessionPolicy, history_days: int) -> tuple[int, int]:
    """End sessions past their idle or absolute limit, and delete ended ones older than the retention."""
    moment = now()
    expired = 0
    stale = db.session.scalars(sa.select(DeviceSession).where(DeviceSession.ended_at.is_(None), sa.or_(
        DeviceSession.expires_at <= moment, DeviceSession.last_seen_at <= moment - policy.idle))).all()
    for device in stale:
        end(device, "absolute_timeout" if device.expires_at <= moment else "idle_timeout", signals.SCHEDULER)
        expired += 1
    removed = db.session.execute(sa.delete(DeviceSession).where(
        DeviceSession.ended_at.is_not(None), DeviceSession.ended_at < moment - timedelta(days=history_days))).rowcount
    db.session.commit()
    return expired, removed


def _device_target(device: DeviceSession) -> signals.Target:
    owner = f"{device.principal_type}:{device.requester_id or device.admin_id}"
    return signals.Target("session", str(device.id), f"{device.device_label} ({owner})")


@signals.directory_synced.connect
def _on_directory_synced(sender, integration_id=None, **_):
    """After a sync, a requester the directory shows disabled or removed keeps no open session (one that outlived an
    earlier sync, or was opened before the sync saw the change)."""
    inactive = db.session.scalars(sa.select(DeviceSession.requester_id).join(
        Requester, DeviceSession.requester_id == Requester.id).where(
        Requester.integration_id == integration_id, Requester.status != "active",
        DeviceSession.ended_at.is_(None)).distinct()).all()
    if inactive:
        end_for_requesters(inactive, "account_disabled")


@signals.requesters_deactivated.connect
def _on_deactivated(sender, requester_ids=(), reason="account_disabled", **_):
    """Sync or a workflow deactivated requesters: their sessions end at once."""
    end_for_requesters(requester_ids, reason)
