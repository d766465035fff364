"""Signing people in and out, for admins and requesters alike: session rotation, device registration, lockout
bookkeeping, signals and the commit happen here, never in a view (compare Flask-Security-Too's login_user)."""
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, request, session
from flask_login import current_user, login_user, logout_user

from portal import accounts, admin_roles, policy, signals
from portal.auth import sso
from portal.database import db
from portal.devices import registry
from portal.entra import clients
from portal.exceptions import DeviceLimitReached, SignInFailed
from portal.lockout import LockoutPolicy
from portal.models import Integration, Requester
from portal.security import rotate_session

FLOWS = "auth_flows"
SIGNED_IN = {"admin": signals.admin_signed_in, "requester": signals.requester_signed_in}
SIGNED_OUT = {"admin": signals.admin_signed_out, "requester": signals.requester_signed_out}


def lockout_policy() -> LockoutPolicy:
    """The admin-editable lockout numbers."""
    return LockoutPolicy.from_values(policy.all_values())


def sign_in(principal, detail: dict | None = None) -> list:
    """Rotate the session id, log in, register the device, audit and commit; returns devices ended by the limit."""
    rotate_session()
    login_user(principal)
    try:
        device, ended = registry.register_device(principal, session.sid, request.user_agent.string,
                                                 request.remote_addr,
                                                 registry.SessionPolicy.from_values(policy.all_values()))
    except DeviceLimitReached:
        logout_user()
        session.clear()
        db.session.rollback()
        raise
    session["device_id"] = device.id
    session["principal_type"] = principal.principal_type
    session["auth_time"] = device.authenticated_at.timestamp()
    SIGNED_IN[principal.principal_type].send("sign_in", actor=signals.Principal.of(principal),
                                             target=_principal_target(principal), detail=detail or {})
    db.session.commit()
    return ended


def sign_out(post_logout_redirect_uri: str, config, reason: str = "signed_out") -> str | None:
    """Audit the sign-out, end this device, forget the session; returns Microsoft's end-session URL for requesters."""
    if not current_user.is_authenticated:
        session.clear()
        return None
    principal = current_user._get_current_object()
    SIGNED_OUT[principal.principal_type].send("sign_in", actor=signals.Principal.of(principal),
                                              target=_principal_target(principal))
    device = db.session.get(registry.DeviceSession, session.get("device_id") or 0)
    if device is not None:
        registry.end(device, reason, signals.Principal.of(principal))
    db.session.commit()
    integration_id = (session.get("sso") or {}).get("integration_id") if principal.principal_type == "requester" else None
    logout_user()
    session.clear()
    return _end_session_url(integration_id, post_logout_redirect_uri, config)


def sign_in_admin(email: str, password: str, device: str | None, secret_key: str):
    """Password sign-in for a local admin (lockout counted in accounts), then the shared sign-in; returns the admin,
    devices ended by the limit, and a fresh known-device token for this browser."""
    admin = accounts.authenticate_admin(email, password, lockout_policy(), device=device, secret_key=secret_key)
    ended = sign_in(admin, detail={"method": "password", "break_glass": True})
    session["break_glass"] = True
    return admin, ended, accounts.known_device_token(admin, secret_key)


def confirm_admin_password(password: str, device: str | None, secret_key: str) -> None:
    """Step-up: the signed-in admin enters their password again; a wrong one counts like a failed sign-in, a right
    one makes this sign-in fresh for another FRESH_SIGN_IN (audited, committed)."""
    admin = current_user._get_current_object()
    accounts.authenticate_admin(admin.email, password, lockout_policy(), device=device, secret_key=secret_key)
    _mark_fresh(admin, {"method": "password"})


def _mark_fresh(admin, detail: dict) -> None:
    """Step-up done: this device's sign-in counts as fresh again (audited, committed)."""
    moment = registry.now()
    device_row = db.session.get(registry.DeviceSession, session.get("device_id") or 0)
    if device_row is not None:
        device_row.authenticated_at = moment
    session["auth_time"] = moment.timestamp()
    signals.admin_stepped_up.send("sign_in", actor=signals.Principal.of(admin), target=_principal_target(admin),
                                  detail=detail)
    db.session.commit()


def verified_integrations() -> list[Integration]:
    """One 'Sign in with Microsoft' button per verified integration."""
    return list(db.session.scalars(sa.select(Integration).where(
        Integration.status == "verified",
        sa.or_(Integration.paused_at.is_(None), Integration.sign_in_while_paused.is_(True))).order_by(Integration.name)))


def start_requester_sign_in(integration_id: int, redirect_uri: str, login_hint: str | None, next_url: str,
                            config, kind: str = "requester") -> str:
    """Begin the auth-code flow, keep it in the server-side session under its state; returns Microsoft's URL. `kind`
    says who finishes it: a requester, an admin, or an admin's step-up (which makes Microsoft ask again)."""
    integration = db.session.get(Integration, integration_id)
    try:
        if integration is None or (integration.paused_at and not integration.sign_in_while_paused):
            raise SignInFailed("integration_unavailable", counted=False)
        flow = sso.begin_auth_code_flow(integration, _creds(integration, config), redirect_uri, login_hint,
                                        prompt="login" if kind == "step_up" else None)
    except SignInFailed as exc:
        _record(exc, kind)
        raise
    flows = dict(session.get(FLOWS, {}))
    flows[flow["state"]] = {"flow": flow, "integration_id": integration.id, "started": time.time(), "next": next_url,
                            "kind": kind}
    session[FLOWS] = sso.prune_flows(flows)
    return flow["auth_uri"]


REQUESTER_DEVICE_COOKIE = "frontdesk_device"


def requester_device_cookie(requester_id: int, config) -> tuple[str, str, dict]:
    """The known-device cookie to set after a requester signed in (name, value, options)."""
    return (REQUESTER_DEVICE_COOKIE, accounts.requester_device_token(requester_id, config["SECRET_KEY"]),
            {"max_age": accounts.KNOWN_DEVICE_DAYS * 86400, "httponly": True, "samesite": "Lax",
             "secure": config.get("SESSION_COOKIE_SECURE", False)})


def usable_hint(email: str | None) -> str | None:
    """A typed work email fit to pass to Microsoft as login_hint, or None (never an error: the hint is optional)."""
    email = (email or "").strip()
    if not 3 <= len(email) <= 254 or email.count("@") != 1 or any(c.isspace() or ord(c) < 32 for c in email):
        return None
    return email


def lock_notice(email: str | None, now: datetime | None = None) -> tuple[str, datetime] | None:
    """For a known, locked requester: where the lock is ('microsoft' or 'frontdesk') and when it ends; else None, the
    same for an unknown email as for a known unlocked one."""
    now, email = now or datetime.now(UTC), (email or "").lower()
    person = db.session.scalars(sa.select(Requester).where(sa.or_(
        sa.func.lower(Requester.user_principal_name) == email, sa.func.lower(Requester.email) == email))).first()
    if person is None:
        return None
    if person.microsoft_locked_until and person.microsoft_locked_until > now:
        return "microsoft", person.microsoft_locked_until
    if person.locked_until and person.locked_until > now:
        return "frontdesk", person.locked_until
    return None


def finish_requester_sign_in(args: dict, config) -> tuple[str, list]:
    """Check Microsoft's answer, the flow, the tenant and the requester, then sign in; returns (next URL, ended)."""
    pending = None
    try:
        params = sso.unseal_callback(args["r"], config["ENCRYPTION_KEY"]) if "r" in args else args
        pending = _pop_flow(params)
        error = sso.microsoft_error(params)
        if error:
            raise error
        integration = db.session.get(Integration, pending["integration_id"])
        if integration.paused_at and not integration.sign_in_while_paused:
            raise SignInFailed("integration_unavailable", counted=False)
        claims = sso.redeem(integration, _creds(integration, config), pending["flow"], params)
        ended = FINISH[pending.get("kind", "requester")](integration, claims, config, pending["started"])
    except SignInFailed as exc:
        _record(exc, (pending or {}).get("kind", "requester"))
        g.sign_in_flow_failed = pending is not None  # only these count towards the per-browser failure limit
        raise
    if pending.get("kind") != "step_up":
        session["sso"] = {"integration_id": integration.id, "oid": claims["oid"], "tid": claims["tid"]}
    return pending["next"], ended


def _finish_requester(integration: Integration, claims: dict, config, _started: float) -> list:
    """A requester: known, active and not locked (a browser they used before passes their own lock)."""
    known = accounts.requester_of_device(request.cookies.get(REQUESTER_DEVICE_COOKIE), config["SECRET_KEY"])
    requester = sso.admit(integration, claims, lockout_policy(), known_requester_id=known)
    detail = {"integration": integration.id, **({"known_device": True} if known == requester.id else {})}
    try:
        return sign_in(requester, detail=detail)
    except DeviceLimitReached as exc:
        raise SignInFailed("device_limit", requester=requester, reason=exc.message, counted=False) from exc


def _finish_admin(integration: Integration, claims: dict, config, _started: float) -> list:
    """An admin whose role Entra gives now (app role or mapped group); the reason is audited with the sign-in."""
    admin = admin_roles.admit_admin(integration, claims, clients.graph_for(integration, clients.MicrosoftSettings.from_config(config)))
    return sign_in(admin, detail={"method": "microsoft", "integration": integration.id, "because": admin.role_reason})


def _finish_step_up(integration: Integration, claims: dict, config, started: float) -> list:
    """The signed-in Microsoft admin typed their password at Microsoft again (auth_time after this step-up began, so
    a browser that dropped prompt=login gains nothing): this sign-in is fresh for another 10 minutes."""
    admin = current_user._get_current_object() if current_user.is_authenticated else None
    if (admin is None or admin.principal_type != "admin" or admin.integration_id != integration.id
            or admin.entra_object_id != claims.get("oid")):
        raise SignInFailed("not_same_admin", reason=f"oid {claims.get('oid')}", counted=False)
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int | float) or auth_time < started - STEP_UP_SKEW:
        raise SignInFailed("not_reauthenticated", reason=f"auth_time {auth_time} before {int(started)}", counted=False)
    # The role is worked out again from Entra now: someone unassigned since the last sync cannot step up.
    admin_roles.admit_admin(integration, claims, clients.graph_for(integration, clients.MicrosoftSettings.from_config(config)))
    _mark_fresh(admin, {"method": "microsoft"})
    return []


STEP_UP_SKEW = 120  # seconds of clock difference allowed between Microsoft and us, as for the ID token's times
FINISH = {"requester": _finish_requester, "admin": _finish_admin, "step_up": _finish_step_up}


def _end_session_url(integration_id: int | None, post_logout_redirect_uri: str, config) -> str | None:
    """Microsoft's end-session URL for the integration the requester signed in with, if it still exists."""
    integration = db.session.get(Integration, integration_id) if integration_id else None
    return sso.end_session_url(_creds(integration, config), post_logout_redirect_uri) if integration else None


def flow_failure_counted(_response) -> bool:
    """For the failure rate limit: a callback with no flow of this browser (stale, forged, or sent from another
    site's page) is refused cheaply and never uses up the limit that protects real sign-ins."""
    return bool(g.get("sign_in_flow_failed"))


def browser_key() -> str:
    """Failures are limited per browser (address and session), so one browser cannot lock out its neighbours."""
    return f"{request.remote_addr}|{session.sid if hasattr(session, 'sid') else '-'}"


def _pop_flow(params: dict) -> dict:
    """Each flow answers once; an unknown state is a stale or forged answer."""
    flows = dict(session.get(FLOWS, {}))
    pending = flows.pop(str(params.get("state")), None)
    if pending is None:
        raise SignInFailed("state_mismatch")
    session[FLOWS] = flows
    return pending


def _record(exc: SignInFailed, kind: str = "requester") -> None:
    db.session.rollback()
    g.sign_in_page = "auth.login" if kind == "requester" else "admin.login"  # where the failure page sends them back
    if kind == "requester":
        sso.record_failure(exc, lockout_policy())
        return
    signals.admin_sign_in_failed.send("sso", actor=signals.ANONYMOUS, outcome="failure", reason=exc.code,
                                      detail={"method": "microsoft", "step_up": kind == "step_up",
                                              "detail": (exc.reason or "")[:300]})
    db.session.commit()


def _creds(integration: Integration, config):
    return clients.credentials_for(integration, clients.MicrosoftSettings.from_config(config))


def _principal_target(principal) -> signals.Target:
    label = principal.email if principal.principal_type == "admin" else principal.label
    return signals.Target(principal.principal_type, str(principal.id), label)

