"""Admin settings: the password-reset email template, with a preview and a test send to the admin's own address."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import policy
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.exceptions import PortalError
from portal.mail_preview import preview_mail, send_test_mail

TEMPLATE = "password_reset"
PARTS = ("subject", "text", "html")


def _edited() -> dict:
    """The template as typed in the form (not saved yet)."""
    return {part: request.form.get(part, "") for part in PARTS}


def _page(template: dict, form, error=None, preview=None):
    return render_template("admin/mail_template.html", template=template, form=form, error=error, preview=preview,
                           demo_mailbox=current_app.config.get("DEMO_MAILBOX")), (422 if error else 200)


@bp.route("/settings/mail", methods=["GET", "POST"], endpoint="mail_template")
def edit_mail_template():
    """Edit the password-reset email (subject, text and HTML); {{ temporary_password }} is required."""
    form, error = ActionForm(), None
    template = policy.mail_template(TEMPLATE)
    if request.method == "POST" and form.validate_on_submit():
        template = _edited()
        try:
            policy.set_mail_template(TEMPLATE, template, actor=actor())
        except PortalError as exc:
            error = exc.message
        else:
            flash("Email template saved.", "success")
            return redirect(url_for("admin.mail_template"))
    return _page(template, form, error)


@bp.route("/settings/mail/preview", methods=["POST"], endpoint="mail_template_preview")
def preview_mail_template():
    """Show the edited template filled with sample values and a sample password; nothing is saved or sent."""
    form, template = ActionForm(), _edited()
    if not form.validate_on_submit():
        return redirect(url_for("admin.mail_template"))
    try:
        return _page(template, form, preview=preview_mail(template))
    except PortalError as exc:
        return _page(template, form, error=exc.message)


@bp.route("/settings/mail/test", methods=["POST"], endpoint="mail_template_test")
def send_mail_template_test():
    """Send the edited template, with sample values, to the signed-in admin through the normal mail path."""
    form, template = ActionForm(), _edited()
    if not form.validate_on_submit():
        return redirect(url_for("admin.mail_template"))
    try:
        to = send_test_mail(TEMPLATE, template, actor(), current_user.email)
    except PortalError as exc:
        return _page(template, form, error=exc.message)
    flash(f"Test email sent to {to}, with a sample password. The template itself is not saved yet.", "success")
    return _page(template, form, preview=preview_mail(template))
