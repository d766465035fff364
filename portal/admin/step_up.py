"""Step-up: security changes need the admin's password within the last 10 minutes (ASVS 7.5.2), audited."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import sign_in
from portal.admin import bp
from portal.admin.forms import StepUpForm
from portal.admin.login import KNOWN_DEVICE_COOKIE
from portal.devices import registry
from portal.devices.web import authenticated_at
from portal.exceptions import InvalidCredentials
from portal.security import public_url, safe_next_url

# Pages that change security: policy, secrets, mail templates, installs, workflows, other people's sessions,
# approving an action that undoes an admin's decision, deciding approvals, acting on an account, and changing who
# a service may target.
STEP_UP_ENDPOINTS = frozenset({"admin.settings", "admin.replace_secret", "admin.mail_template",
                               "admin.mail_template_preview", "admin.mail_template_test", "admin.install",
                               "admin.workflow_edit", "admin.revoke_session", "admin.revoke_person", "admin.revoke_all",
                               "admin.approve_run", "admin.decide_approval", "admin.requester_action",
                               "admin.category_rule", "admin.pause_integration", "admin.resume_integration",
                               "admin.uninstall_integration", "admin.add_role_rule",
                               "admin.remove_role_rule"})


@bp.before_request
def require_recent_sign_in():
    """Send a stale sign-in to the password page first, and back to the page it came from afterwards."""
    if request.endpoint not in STEP_UP_ENDPOINTS or registry.is_fresh(authenticated_at()):
        return None
    back = request.full_path.rstrip("?") if request.method == "GET" else urlsplit(request.referrer or "").path
    flash("For your security, enter your password again before changing this.", "info")
    return redirect(url_for("admin.step_up", next=safe_next_url(back, url_for("admin.dashboard"))))


@bp.route("/confirm-password", methods=["GET", "POST"])
def step_up():
    """Ask for the password again (a Microsoft admin signs in at Microsoft again); fresh for 10 minutes."""
    form, error = StepUpForm(), None
    if current_user.signs_in_with_microsoft:
        return render_template("admin/step_up.html", form=form, microsoft=True), 200
    if form.validate_on_submit():
        try:
            sign_in.confirm_admin_password(form.password.data, request.cookies.get(KNOWN_DEVICE_COOKIE),
                                           current_app.config["SECRET_KEY"])
        except InvalidCredentials:
            error = ("That password is not correct. Wrong passwords here count like failed sign-ins, and too many "
                     "lock the account for a while.")
        else:
            return redirect(safe_next_url(request.args.get("next"), url_for("admin.dashboard")))
    return render_template("admin/step_up.html", form=form, error=error), (401 if error else 200)


@bp.post("/confirm-microsoft")
def step_up_microsoft():
    """A Microsoft admin confirms by signing in at Microsoft again (prompt=login); back to the page after."""
    back = safe_next_url(request.args.get("next"), url_for("admin.dashboard"))
    if not current_user.signs_in_with_microsoft:
        return redirect(url_for("admin.step_up", next=back))
    return redirect(sign_in.start_requester_sign_in(current_user.integration_id, public_url("auth.callback"), None,
                                                    back, current_app.config, kind="step_up"))
