"""Admin settings: the password-reset email template."""
from flask import flash, redirect, render_template, request, url_for

from portal import policy
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.exceptions import PortalError


@bp.route("/settings/mail", methods=["GET", "POST"], endpoint="mail_template")
def edit_mail_template():
    """Edit the password-reset email (subject, text and HTML); {{ temporary_password }} is required."""
    form, error = ActionForm(), None
    template = policy.mail_template("password_reset")
    if request.method == "POST" and form.validate_on_submit():
        template = {part: request.form.get(part, "") for part in ("subject", "text", "html")}
        try:
            policy.set_mail_template("password_reset", template, actor=actor())
        except PortalError as exc:
            error = exc.message
        else:
            flash("Email template saved.", "success")
            return redirect(url_for("admin.mail_template"))
    return render_template("admin/mail_template.html", template=template, form=form, error=error), (422 if error else 200)
