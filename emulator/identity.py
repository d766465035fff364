"""login.microsoftonline.com: discovery, keys, the sign-in pages, the token endpoint and sign-out."""
import base64
import hashlib
import json
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, jsonify, make_response, redirect, render_template, request

from emulator import app_roles, sign_in_events
from emulator.common import apply_faults, identity_error, state
from emulator.directory import AppRegistration, Tenant, User, password_complexity_ok
from emulator.state import AuthCode
from emulator.tokens import GRAPH_APP_ID

bp = Blueprint("identity", __name__)
SSO_COOKIE = "ESTSAUTHEMU"
GLOBAL_GRAPH = "https://graph.microsoft.com"


def _tenant_or_error(tenant_key: str):
    tenant = state().directory.find_tenant(tenant_key)
    if tenant is None:
        return None, identity_error(400, "invalid_tenant", 90002, f"Tenant '{tenant_key}' not found. Check to make "
                                    "sure you have the correct tenant ID and are signing into the correct cloud.")
    return tenant, None


@bp.get("/<tenant_key>/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant_key):
    """OIDC discovery; the browser-facing endpoints point at the http port when one is served."""
    tenant, error = _tenant_or_error(tenant_key)
    if error:
        return error
    s, tid = state(), tenant.id
    return jsonify({
        "token_endpoint": f"{s.https_base}/{tid}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{s.https_base}/{tid}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{s.https_base}/{tid}/v2.0", "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{s.https_base}/oidc/userinfo",
        "authorization_endpoint": f"{s.browser_base}/{tid}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{s.https_base}/{tid}/oauth2/v2.0/devicecode",
        "http_logout_supported": True, "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{s.browser_base}/{tid}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                             "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net", "msgraph_host": urlsplit(s.https_base).netloc,
    })


@bp.get("/<tenant_key>/discovery/v2.0/keys")
def keys(tenant_key):
    """JWKS with the RS256 signing key."""
    _, error = _tenant_or_error(tenant_key)
    state().count("jwks_requests")
    return error or jsonify(state().tokens.jwks())


# -- browser sign-in ---------------------------------------------------------------------------

def _error_page(code: int, message: str, status: int = 400):
    return render_template("error.html", code=code, message=message), status


def _redirect_with(ctx: dict, params: dict):
    """Return the result to the app in the requested response_mode."""
    params = {k: v for k, v in params.items() if v is not None}
    if ctx.get("state") is not None:
        params["state"] = ctx["state"]
    mode = ctx.get("response_mode") or "query"
    uri = ctx["redirect_uri"]
    if mode == "form_post":
        return render_template("form_post.html", action=uri, fields=params)
    separator = "#" if mode == "fragment" else ("&" if "?" in uri else "?")
    return redirect(f"{uri}{separator}{urlencode(params)}", code=302)


def _error_redirect(ctx: dict, error: str, aadsts: int, description: str, user: User | None = None):
    """Send the error back to the app, and record the failed sign-in in the tenant's sign-in log."""
    tenant = state().directory.find_tenant(ctx.get("tenant_id") or "")
    if tenant is not None:
        sign_in_events.record(tenant, ctx.get("client_id"), aadsts, user=user, description=description,
                              typed=request.form.get("username") or ctx.get("login_hint") or "")
    return _redirect_with(ctx, {"error": error, "error_description": f"AADSTS{aadsts}: {description}",
                                "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}"})


@bp.get("/<tenant_key>/oauth2/v2.0/authorize")
def authorize(tenant_key):
    """Validate the request, then show the sign-in page (or answer silently for prompt=none)."""
    tenant = state().directory.find_tenant(tenant_key)
    if tenant is None:
        return _error_page(90002, f"Tenant '{tenant_key}' not found.")
    args = request.args
    app = tenant.apps.get(args.get("client_id", ""))
    if app is None:
        sign_in_events.record(tenant, args.get("client_id", ""), 700016, typed=args.get("login_hint", ""))
        return _error_page(700016, f"Application with identifier '{args.get('client_id')}' was not found in the "
                                   f"directory '{tenant.display_name}'.")
    if not app.accepts_redirect(args.get("redirect_uri", "")):
        sign_in_events.record(tenant, app.client_id, 50011, typed=args.get("login_hint", ""))
        return _error_page(50011, "The redirect URI specified in the request does not match the redirect URIs "
                                  f"configured for the application '{app.client_id}'.")
    ctx = _context_from(args, tenant)
    if args.get("response_type") != "code":
        return _error_redirect(ctx, "unsupported_response_type", 700054, "response_type 'code' is required.")
    if args.get("code_challenge") and args.get("code_challenge_method", "plain") not in ("S256", "plain"):
        return _error_redirect(ctx, "invalid_request", 501491, "Invalid code_challenge_method.")
    user, authenticated = _sso_user(tenant), _sso_auth_time()
    if user is not None and args.get("max_age", "").isdigit() and time.time() - authenticated > int(args["max_age"]):
        user = None  # OIDC max_age: the last password entry is too old, so the person types it again
    prompt = args.get("prompt")
    if prompt == "none":
        if user is None:
            return _error_redirect(ctx, "login_required", 50058, "A silent sign-in request was sent but no user is "
                                   "signed in.")
        return _complete(tenant, app, ctx, user, authenticated)
    if user is not None and prompt not in ("login", "select_account", "consent"):
        return _complete(tenant, app, ctx, user, authenticated)
    return _login_page(tenant, app, ctx, username=args.get("login_hint", ""))


def _context_from(args, tenant: Tenant) -> dict:
    keys = ("client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method",
            "response_mode", "prompt", "max_age")
    ctx = {k: args.get(k) for k in keys}
    ctx["tenant_id"], ctx["login_hint"] = tenant.id, args.get("login_hint")
    return ctx


def _login_page(tenant, app, ctx, *, username="", error=None, status=200):
    return render_template("login.html", tenant=tenant, app=app, ctx=state().seal(ctx), username=username,
                           error=error), status


def _sso_auth_time() -> float:
    """When the browser's Microsoft session last typed a password (its SSO cookie's iat), or 0."""
    data = state().unseal(request.cookies.get(SSO_COOKIE, "")) or {}
    return float(data.get("auth_time") or data.get("iat") or 0)


def _sso_user(tenant: Tenant) -> User | None:
    data = state().unseal(request.cookies.get(SSO_COOKIE, ""))
    if not data or data.get("tid") != tenant.id:
        return None
    user = tenant.find_user(data.get("uid", ""))
    if user is None or not user.props.get("accountEnabled", True):
        return None
    if user.sessions_revoked_at and data.get("iat", 0) < user.sessions_revoked_at:
        return None
    if user.password_changed_at and data.get("iat", 0) < user.password_changed_at:
        return None
    return user


@bp.post("/<tenant_key>/login")
def login(tenant_key):
    """The sign-in form's target: Cancel, wrong password, smart lockout, disabled, then success."""
    tenant, ctx = state().directory.find_tenant(tenant_key), state().unseal(request.form.get("ctx", ""))
    if tenant is None or ctx is None or ctx.get("tenant_id") != tenant.id:
        if tenant is not None:
            sign_in_events.record(tenant, "", 900561, typed=request.form.get("username", ""))
        return _error_page(900561, "The sign-in request has expired or was altered. Start again from the application.")
    app = tenant.apps.get(ctx["client_id"])
    username = request.form.get("username", "").strip()
    user = tenant.find_user(username)
    if request.form.get("action") == "cancel":
        return _error_redirect(ctx, "access_denied", 65004, "User declined to consent to access the app.", user)
    if user is None:
        sign_in_events.record(tenant, app.client_id, 50034, typed=username)
        return _login_page(tenant, app, ctx, username=username, status=200, error=(
            "AADSTS50034", "This username may be incorrect. Make sure you typed it correctly."))
    now = time.time()
    if user.locked_until > now:
        return _locked(ctx, user)
    if not user.check_password(request.form.get("password", "")):
        return _wrong_password(tenant, app, ctx, user, now)
    user.failed_sign_ins = 0
    if not user.props.get("accountEnabled", True):
        return _error_redirect(ctx, "access_denied", 50057, "The user account is disabled.", user)
    if user.force_change_password:
        return render_template("change_password.html", tenant=tenant, ctx=state().seal(
            dict(ctx, change_user=user.id, change_until=now + 600)), username=username, error=None)
    return _complete(tenant, app, ctx, user)


def _locked(ctx, user: User):
    return _error_redirect(ctx, "access_denied", 50053, "Your account is locked because you tried to sign in too "
                           "many times with an incorrect user ID or password.", user)


def _wrong_password(tenant, app, ctx, user: User, now: float):
    s = state()
    with tenant.lock:
        user.failed_sign_ins += 1
        locked = user.failed_sign_ins >= s.lockout_threshold
        if locked:
            user.locked_until, user.failed_sign_ins = now + s.lockout_seconds, 0
    if locked:
        return _locked(ctx, user)
    sign_in_events.record(tenant, app.client_id, 50126, user=user)
    return _login_page(tenant, app, ctx, username=user.props["userPrincipalName"], error=(
        "AADSTS50126", "Your account or password is incorrect. If you don't remember your password, reset it now."))


@bp.post("/<tenant_key>/login/change-password")
def change_password(tenant_key):
    """Forced password change at sign-in: the new password must differ and meet complexity rules."""
    tenant, ctx = state().directory.find_tenant(tenant_key), state().unseal(request.form.get("ctx", ""))
    if tenant is None or not ctx or ctx.get("change_until", 0) < time.time():
        return _error_page(900561, "The password change has expired. Start again from the application.")
    user = tenant.find_user(ctx["change_user"])
    new, confirm = request.form.get("new_password", ""), request.form.get("confirm_password", "")
    error = None
    if new != confirm:
        error = "The passwords don't match."
    elif user.check_password(new):
        error = "You can't use your current password. Choose a new one."
    elif not password_complexity_ok(new):
        error = "Passwords must be 8-256 characters and use 3 of: uppercase, lowercase, numbers and symbols."
    if error:
        return render_template("change_password.html", tenant=tenant, ctx=request.form["ctx"],
                               username=user.props["userPrincipalName"], error=error), 200
    user.set_password(new, force_change=False)
    return _complete(tenant, tenant.apps[ctx["client_id"]], ctx, user)


def _complete(tenant: Tenant, app: AppRegistration, ctx: dict, user: User, auth_time: float | None = None):
    """Checks after authentication (assignment, consent), then the code and the SSO cookie; `auth_time` is when
    the password was typed (now, unless the browser's Microsoft session answered)."""
    auth_time = auth_time or time.time()
    if app.assignment_required and not app_roles.is_assigned(tenant, app, user):
        return _error_redirect(ctx, "access_denied", 50105, f"Your administrator has configured the application "
                               f"{app.display_name} to block users unless they are specifically granted access.", user)
    if app.user_consent == "consent_required":
        return _error_redirect(ctx, "consent_required", 65001, "The user or administrator has not consented to use "
                               f"the application with ID '{app.client_id}'.", user)
    if app.user_consent == "interaction_required":
        return _error_redirect(ctx, "interaction_required", 50076, "Due to a configuration change made by your "
                               "administrator, you must use multi-factor authentication to access the app.", user)
    code = state().issue_code(AuthCode(
        tenant.id, app.client_id, ctx["redirect_uri"], user.id, (ctx.get("scope") or "").split(), ctx.get("nonce"),
        ctx.get("code_challenge"), ctx.get("code_challenge_method") or "plain", time.time() + state().code_lifetime,
        auth_time=auth_time))
    client_info = base64.urlsafe_b64encode(json.dumps({"uid": user.id, "utid": tenant.id}).encode()).decode().rstrip("=")
    response = make_response(_redirect_with(ctx, {"code": code, "client_info": client_info,
                                                  "session_state": hashlib.sha256(user.id.encode()).hexdigest()[:36]}))
    sign_in_events.record(tenant, app.client_id, 0, user=user)
    cookie = state().seal({"tid": tenant.id, "uid": user.id, "iat": time.time(), "auth_time": auth_time})
    response.set_cookie(SSO_COOKIE, cookie, httponly=True, samesite="Lax", path="/")
    return response


@bp.get("/<tenant_key>/oauth2/v2.0/logout")
def logout(tenant_key):
    """End the Microsoft session, then go back to post_logout_redirect_uri if it is a web URL."""
    target = request.args.get("post_logout_redirect_uri", "")
    response = make_response(redirect(target) if urlsplit(target).scheme in ("http", "https")
                             else render_template("signed_out.html"))
    response.delete_cookie(SSO_COOKIE, path="/")
    return response


# -- token endpoint ----------------------------------------------------------------------------

def _client_credentials_from_request():
    auth = request.authorization
    if auth and auth.type == "basic":
        return auth.username, auth.password
    return request.form.get("client_id", ""), request.form.get("client_secret")


@bp.post("/<tenant_key>/oauth2/v2.0/token")
def token(tenant_key):
    """Client credentials and authorization code grants, with Entra's errors; user-flow attempts are logged."""
    tenant, error = _tenant_or_error(tenant_key)
    if error:
        return error
    response = make_response(_token(tenant))
    sign_in_events.record_token_attempt(tenant, response)
    return response


def _token(tenant: Tenant):
    client_id, secret = _client_credentials_from_request()
    if state().faults.applies_to("token"):
        blocked = apply_faults(client_id or "anonymous", identity=True)
        if blocked is not None:
            return blocked
    app = tenant.apps.get(client_id)
    if app is None:
        return identity_error(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not "
                              f"found in the directory '{tenant.display_name}'. This can happen if the application has "
                              "not been installed by the administrator of the tenant.")
    problem = _check_secret(app, secret)
    if problem:
        return problem
    grant = request.form.get("grant_type")
    if grant == "client_credentials":
        return _client_credentials(tenant, app)
    if grant == "authorization_code":
        return _authorization_code(tenant, app)
    return identity_error(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")


def _check_secret(app: AppRegistration, secret: str | None):
    if not secret:
        return identity_error(401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or "
                              "'request' is required for the 'client_credentials' grant type.")
    if secret != app.client_secret:
        return identity_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                              "being sent in the request is the client secret value, not the client secret ID, for a "
                              f"secret added to app '{app.client_id}'.")
    if app.secret_expires_at is not None and app.secret_expires_at < time.time():
        return identity_error(401, "invalid_client", 7000222, f"The provided client secret keys for app "
                              f"'{app.client_id}' are expired. Visit the Azure portal to create new keys for your app.")
    return None


def graph_audiences() -> set:
    """Resource identifiers this emulator's Graph answers to."""
    return {GLOBAL_GRAPH, GRAPH_APP_ID, state().https_base}


def _client_credentials(tenant: Tenant, app: AppRegistration):
    scope = request.form.get("scope", "")
    resource = scope[: -len("/.default")] if scope.endswith("/.default") else None
    if resource is None or resource.rstrip("/") not in graph_audiences():
        return identity_error(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. "
                              "Client credential flows must have a scope value with /.default suffixed to the "
                              "resource identifier (application ID URI).")
    access = state().tokens.access_token(tenant_id=tenant.id, app=app, audience=GLOBAL_GRAPH)
    return jsonify(token_type="Bearer", expires_in=3599, ext_expires_in=3599,  # noqa: S106 (a token type, not a password)
                   access_token=access)


def _authorization_code(tenant: Tenant, app: AppRegistration):
    form = request.form
    code = state().codes.get(form.get("code", ""))
    if code is None or code.expires_at < time.time() or code.tenant_id != tenant.id:
        return identity_error(400, "invalid_grant", 70008, "The provided authorization code or refresh token has "
                              "expired due to inactivity. Send a new interactive authorization request.")
    if code.redeemed:
        return identity_error(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please "
                              "retry with a new valid code or use an existing refresh token.")
    if code.client_id != app.client_id:
        return identity_error(400, "invalid_grant", 70000, "The provided grant was issued to another client.")
    if code.redirect_uri != form.get("redirect_uri"):
        return identity_error(400, "invalid_grant", 50011, "The redirect URI does not match the redirect URI used "
                              "in the authorization request.")
    if not _pkce_ok(code, form.get("code_verifier")):
        return identity_error(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge "
                              "supplied in the authorization request.")
    code.redeemed = True
    user = tenant.find_user(code.user_id)
    if user is None or not user.props.get("accountEnabled", True):
        return identity_error(400, "invalid_grant", 50057, "The user account is disabled.")
    return jsonify(_code_tokens(tenant, app, user, code))


def _pkce_ok(code: AuthCode, verifier: str | None) -> bool:
    if not code.code_challenge:
        return True
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == code.code_challenge
    return verifier == code.code_challenge


def _code_tokens(tenant, app, user, code) -> dict:
    s = state()
    scopes = [x for x in code.scopes if x not in ("openid", "profile", "offline_access", "email")] or ["User.Read"]
    scopes = [x.split("/")[-1] for x in scopes]
    granted = " ".join(scopes + ["openid", "profile", "email"])
    client_info = base64.urlsafe_b64encode(json.dumps({"uid": user.id, "utid": tenant.id}).encode()).decode().rstrip("=")
    return {
        "token_type": "Bearer", "scope": granted, "expires_in": 3599, "ext_expires_in": 3599,
        "access_token": s.tokens.access_token(tenant_id=tenant.id, app=app, audience=GLOBAL_GRAPH, user=user,
                                              scopes=scopes),
        "refresh_token": s.seal({"rt": user.id, "c": app.client_id}),
        "id_token": s.tokens.id_token(issuer=f"{s.https_base}/{tenant.id}/v2.0", client_id=app.client_id,
                                      tenant_id=tenant.id, user=user, nonce=code.nonce,
                                      extra=dict(app_roles.id_token_claims(tenant, app, user, s.https_base),
                                                 auth_time=int(code.auth_time or time.time()))),
        "client_info": client_info,
    }
