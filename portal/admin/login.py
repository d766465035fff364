"""Admin sign-in and sign-out with email and password."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal import accounts, policy, signals
from portal.accounts import InvalidCredentials
from portal.admin import bp
from portal.admin.forms import AdminLoginForm
from portal.devices.web import end_device_session, start_device_session
from portal.extensions import db, limiter
from portal.lockout import LockoutPolicy
from portal.security import public, rotate_session, safe_next_url


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_ADMIN_LOGIN"], methods=["POST"])
@public
def login():
    """Show the form; on success rotate the session id and go to a safe `next`."""
    form = AdminLoginForm()
    error = None
    if form.validate_on_submit():
        try:
            admin = accounts.authenticate_admin(form.email.data, form.password.data,
                                                LockoutPolicy.from_values(policy.all_values()))
        except InvalidCredentials as exc:
            error = exc.message
        else:
            rotate_session()
            login_user(admin)
            start_device_session(admin)
            flash(f"Welcome back, {admin.label}.", "success")
            return redirect(safe_next_url(request.args.get("next"), url_for("admin.dashboard")))
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error, reason=request.args.get("reason")), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST only, with CSRF) and clear the server-side session."""
    signals.admin_signed_out.send("admin", actor=signals.Principal.of(current_user),
                                  target=signals.Target("admin", str(current_user.id), current_user.email))
    db.session.commit()
    end_device_session()
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("admin.login"))
