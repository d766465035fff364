"""Admin sign-in and sign-out with email and password."""
from flask import current_app, flash, redirect, render_template, request, url_for

from portal import sign_in
from portal.accounts import KNOWN_DEVICE_DAYS
from portal.admin import bp
from portal.admin.forms import AdminLoginForm
from portal.devices.web import flash_ended_devices
from portal.exceptions import InvalidCredentials
from portal.extensions import limiter
from portal.security import public, public_url, safe_next_url

KNOWN_DEVICE_COOKIE = "frontdesk_admin_device"  # lets this browser past a lock that strangers caused


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
@limiter.limit(lambda: current_app.config["RATELIMIT_ADMIN_LOGIN"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SIGN_IN_PAGES"], methods=["GET"])
@public
def admin_login():
    """Show the form; on success go to a safe `next` (the service rotated the session id)."""
    form = AdminLoginForm()
    error = None
    if form.validate_on_submit():
        try:
            admin, ended, device = sign_in.sign_in_admin(form.email.data, form.password.data,
                                                         request.cookies.get(KNOWN_DEVICE_COOKIE),
                                                         current_app.config["SECRET_KEY"])
        except InvalidCredentials as exc:
            error = exc.message
        else:
            flash_ended_devices(ended)
            flash(f"Welcome back, {admin.label}.", "success")
            flash("You signed in with a local break-glass account. Use it only when Microsoft sign-in is not "
                  "available; every sign-in with it is audited as break-glass.", "warning")
            response = redirect(safe_next_url(request.args.get("next"), url_for("admin.dashboard")))
            response.set_cookie(KNOWN_DEVICE_COOKIE, device, max_age=KNOWN_DEVICE_DAYS * 86400, path="/admin/",
                                secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Strict")
            return response
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error, reason=request.args.get("reason"),
                           integrations=sign_in.verified_integrations()), status


@bp.post("/login/microsoft/<int:integration_id>", endpoint="login_microsoft")
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO_START"])
@public
def admin_login_microsoft(integration_id):
    """Admins sign in with Microsoft through the requesters' flow; Entra decides the role when they come back."""
    return redirect(sign_in.start_requester_sign_in(
        integration_id, public_url("auth.callback"), None,
        safe_next_url(request.args.get("next"), url_for("admin.dashboard")), current_app.config, kind="admin"))


@bp.route("/logout", methods=["POST"], endpoint="logout")
def admin_logout():
    """Sign out (POST only, with CSRF) and clear the server-side session."""
    sign_in.sign_out(public_url("admin.login"), current_app.config)
    flash("You have been signed out.", "info")
    return redirect(url_for("admin.login"))
