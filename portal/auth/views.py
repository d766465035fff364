"""Requester sign-in with Microsoft: the sign-in page, start, callback, sign-out, and the failure pages.

form_post and cookies: Microsoft's answer arrives as a cross-site POST, which a SameSite=Lax session
cookie does not accompany. Rather than weaken that cookie, the POST handler seals the answer (Fernet,
2-minute life) and answers 303 to GET /auth/callback; that top-level GET navigation carries the Lax
cookie, so the flow kept in the server-side session is found and checked (state, PKCE, nonce).
"""
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal import policy, signals
from portal.auth import sso
from portal.devices.registry import DeviceLimitReached
from portal.devices.web import end_device_session, start_device_session
from portal.entra import clients
from portal.extensions import csrf, db, limiter
from portal.lockout import LockoutPolicy
from portal.models import Integration
from portal.security import rotate_session, safe_next_url

bp = Blueprint("auth", __name__)
FLOWS = "auth_flows"


def _policy() -> LockoutPolicy:
    return LockoutPolicy.from_values(policy.all_values())


def _creds(integration: Integration):
    return clients.credentials_for(integration, clients.MicrosoftSettings.from_config(current_app.config))


@bp.route("/login")
def login():
    """One 'Sign in with Microsoft' button per verified integration."""
    verified = db.session.scalars(
        sa.select(Integration).where(Integration.status == "verified").order_by(Integration.name)).all()
    return render_template("auth/login.html", integrations=verified, reason=request.args.get("reason"))


@bp.route("/auth/start/<int:integration_id>", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_START"])
def start(integration_id):
    """Begin the flow: keep it in the server-side session under its state, then go to Microsoft."""
    integration = db.session.get(Integration, integration_id)
    try:
        if integration is None:
            raise sso.SignInFailed("integration_unavailable", counted=False)
        flow = sso.start(integration, _creds(integration), url_for("auth.callback", _external=True),
                         request.form.get("login_hint"))
    except sso.SignInFailed as exc:
        return _failed(exc)
    flows = dict(session.get(FLOWS, {}))
    flows[flow["state"]] = {"flow": flow, "integration_id": integration.id, "started": time.time(),
                            "next": safe_next_url(request.args.get("next"), url_for("requester.home"))}
    session[FLOWS] = sso.prune_flows(flows)
    return redirect(flow["auth_uri"])


@bp.route("/auth/callback", methods=["POST"])
@csrf.exempt  # Microsoft's form_post cannot carry our CSRF token; state, PKCE and nonce protect this step
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_CALLBACK"])
def callback_post():
    """Seal Microsoft's cross-site POST and bounce it to a same-site GET that carries the session cookie."""
    sealed = sso.seal_callback(request.form.to_dict(), current_app.config["ENCRYPTION_KEY"])
    return redirect(url_for("auth.callback", r=sealed), code=303)


@bp.route("/auth/callback", methods=["GET"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_CALLBACK"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_FAILURES"], deduct_when=lambda r: r.status_code >= 400)
def callback():
    """Finish the flow: Microsoft errors, state, code, tenant and requester checks, then sign in."""
    try:
        params = (sso.unseal_callback(request.args["r"], current_app.config["ENCRYPTION_KEY"])
                  if "r" in request.args else request.args.to_dict())
        flows = dict(session.get(FLOWS, {}))
        pending = flows.pop(str(params.get("state")), None)
        if pending is None:
            raise sso.SignInFailed("state_mismatch")
        session[FLOWS] = flows  # each flow answers once
        error = sso.microsoft_error(params)
        if error:
            raise error
        integration = db.session.get(Integration, pending["integration_id"])
        claims = sso.redeem(integration, _creds(integration), pending["flow"], params)
        requester = sso.admit(integration, claims, _policy())
    except sso.SignInFailed as exc:
        return _failed(exc)
    return _signed_in(requester, integration, claims, pending["next"])


def _signed_in(requester, integration, claims, next_url):
    rotate_session()
    try:
        login_user(requester)
        start_device_session(requester)
    except DeviceLimitReached as exc:
        logout_user()
        session.clear()
        db.session.rollback()
        return _failed(sso.SignInFailed("device_limit", requester=requester, detail=exc.message, counted=False))
    session["sso"] = {"integration_id": integration.id, "oid": claims["oid"], "tid": claims["tid"]}
    signals.requester_signed_in.send("sso", actor=signals.Principal.of(requester),
                                     target=signals.Target("requester", str(requester.id), requester.label),
                                     detail={"integration": integration.id})
    db.session.commit()
    return redirect(next_url)


def _failed(exc: sso.SignInFailed):
    sso.record_failure(exc, _policy())
    failure = exc.failure
    return render_template("auth/error.html", failure=failure, kind=exc.code, until=exc.until), failure.status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out here, then at Microsoft, landing on the signed-out page."""
    target = url_for("auth.signed_out", _external=True)
    end_session = None
    if current_user.is_authenticated and current_user.principal_type == "requester":
        signals.requester_signed_out.send("sso", actor=signals.Principal.of(current_user),
                                          target=signals.Target("requester", str(current_user.id), current_user.label))
        db.session.commit()
        end_device_session()
        integration = db.session.get(Integration, (session.get("sso") or {}).get("integration_id") or 0)
        if integration is not None:
            end_session = sso.end_session_url(_creds(integration), target)
    logout_user()
    session.clear()
    return redirect(end_session or target)


@bp.route("/signed-out")
def signed_out():
    """Where sign-out lands after Microsoft's end-session endpoint."""
    return render_template("auth/signed_out.html")
