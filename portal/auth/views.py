"""Requester sign-in with Microsoft: the sign-in page, start, callback, sign-out; failures render through errors.py.

form_post and cookies: Microsoft's answer arrives as a cross-site POST, which a SameSite=Lax session
cookie does not accompany. Rather than weaken that cookie, the POST handler seals the answer (Fernet,
2-minute life) and answers 303 to GET /auth/callback; that top-level GET navigation carries the Lax
cookie, so the flow kept in the server-side session is found and checked (state, PKCE, nonce).
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from portal import help_requests, jobs, sign_in
from portal.auth import sso
from portal.auth.forms import AskItForm
from portal.devices.web import flash_ended_devices
from portal.exceptions import ValidationError
from portal.extensions import csrf, limiter
from portal.security import public_url, safe_next_url

bp = Blueprint("auth", __name__)


HINT_COOKIE = "frontdesk_login_hint"
HINT_DAYS = 90


@bp.route("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_SIGN_IN_PAGES"])
def login():
    """One 'Sign in with Microsoft' button per verified integration, with the work email this device remembers."""
    return render_template("auth/login.html", integrations=sign_in.verified_integrations(),
                           reason=request.args.get("reason"), hint=sign_in.usable_hint(request.cookies.get(HINT_COOKIE)))


@bp.route("/auth/start/<int:integration_id>", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_START"])
def start(integration_id):
    """Say plainly when the typed account is locked; otherwise begin the flow and go to Microsoft."""
    hint = sign_in.usable_hint(request.form.get("login_hint"))
    notice = sign_in.lock_notice(hint) if hint else None
    if notice:
        return render_template("auth/login.html", integrations=sign_in.verified_integrations(), hint=hint,
                               lock=notice, reason=None), 423
    auth_uri = sign_in.start_requester_sign_in(
        integration_id, public_url("auth.callback"), hint,
        safe_next_url(request.args.get("next"), url_for("requester.home")), current_app.config)
    response = redirect(auth_uri)
    if hint:
        response.set_cookie(HINT_COOKIE, hint, max_age=HINT_DAYS * 86400, httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


@bp.route("/auth/callback", methods=["POST"])
@csrf.exempt  # Microsoft's form_post cannot carry our CSRF token; state, PKCE and nonce protect this step
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_CALLBACK"])
def callback_post():
    """Seal Microsoft's cross-site POST and bounce it to a same-site GET that carries the session cookie."""
    sealed = sso.seal_callback(request.form.to_dict(), current_app.config["ENCRYPTION_KEY"])
    return redirect(url_for("auth.callback", r=sealed), code=303)


@bp.route("/auth/callback", methods=["GET"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_CALLBACK"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_FAILURES"], key_func=sign_in.browser_key,
               deduct_when=sign_in.flow_failure_counted)
def callback():
    """Finish the flow (the service checks everything and signs in), then go where the person was heading."""
    next_url, ended = sign_in.finish_requester_sign_in(request.args.to_dict(), current_app.config)
    flash_ended_devices(ended)
    response = redirect(next_url)
    if current_user.principal_type == "requester":  # the known-device cookie lets a requester past their own lock
        name, value, options = sign_in.requester_device_cookie(current_user.id, current_app.config)
        response.set_cookie(name, value, **options)
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out here, then at Microsoft, landing on the signed-out page."""
    target = public_url("auth.signed_out")
    end_session = sign_in.sign_out(target, current_app.config)
    return redirect(end_session or target)


@bp.route("/signed-out")
def signed_out():
    """Where sign-out lands after Microsoft's end-session endpoint."""
    return render_template("auth/signed_out.html")


def _asker_email() -> str:
    """The rate-limit key for the email a help request names (lower-cased), so one address cannot be flooded."""
    return "ask-it:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/help", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_ASK_IT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_ASK_IT_EMAIL"], methods=["POST"], key_func=_asker_email)
def ask_it():
    """Can't sign in? Ask IT: an unverified ticket and its number, the same answer whether the account exists or not."""
    form = AskItForm()
    if form.validate_on_submit():
        try:
            ticket = help_requests.raise_help_request(form.email.data, form.message.data, request.remote_addr)
        except ValidationError as exc:
            for name, message in (exc.detail or {}).get("errors", {}).items():
                getattr(form, name).errors = [message]
        else:
            jobs.kick_actions(current_app._get_current_object())  # plans a matched person's workflows, after this
            return render_template("auth/ask_it_sent.html", number=ticket.id)
    return render_template("auth/ask_it.html", form=form), (422 if form.errors else 200)
