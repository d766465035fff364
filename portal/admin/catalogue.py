"""Admin service catalogue and the password-reset email template."""
from flask import flash, redirect, render_template, request, url_for

from portal import policy, tickets
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.database import db
from portal.exceptions import NotFound, PortalError
from portal.models import ServiceCategory


@bp.route("/catalogue", methods=["GET", "POST"])
def catalogue():
    """List services; POST adds one (name, description, whether it is about another person)."""
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        name = (request.form.get("name") or "").strip()[:120]
        if not name or any(c.name.lower() == name.lower() for c in tickets.categories(active_only=False)):
            flash("Give the service a new, unique name.", "warning")
        else:
            db.session.add(ServiceCategory(name=name, description=(request.form.get("description") or "")[:500],
                                           asks_for_target=request.form.get("asks_for_target") == "on",
                                           position=len(tickets.categories(active_only=False))))
            db.session.commit()
            flash(f"Service '{name}' added.", "success")
        return redirect(url_for("admin.catalogue"))
    return render_template("admin/catalogue.html", items=tickets.categories(active_only=False), form=form)


@bp.route("/catalogue/<int:category_id>/toggle", methods=["POST"])
def toggle_category(category_id):
    """Hide a service from requesters, or show it again (tickets keep their category)."""
    item = db.session.get(ServiceCategory, category_id)
    if item is None:
        raise NotFound("There is no such service.")
    item.is_active = not item.is_active
    db.session.commit()
    flash(f"'{item.name}' is now {'offered' if item.is_active else 'hidden'}.", "success")
    return redirect(url_for("admin.catalogue"))


@bp.route("/settings/mail", methods=["GET", "POST"])
def mail_template():
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
