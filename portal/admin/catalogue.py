"""Admin service catalogue: the services requesters raise tickets for."""
from flask import flash, redirect, render_template, request, url_for

from portal import tickets
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.database import get_or_404
from portal.exceptions import ValidationError
from portal.models import ServiceCategory
from portal.workflows.targeting import TARGET_RULES


@bp.route("/catalogue", methods=["GET", "POST"])
def catalogue():
    """List services; POST adds one (name, description, whether it is about another person)."""
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            added = tickets.add_service(request.form.get("name"), request.form.get("description"),
                                        request.form.get("target_rule", ""))
        except ValidationError as exc:
            flash(exc.message, "warning")
        else:
            flash(f"Service '{added.name}' added.", "success")
        return redirect(url_for("admin.catalogue"))
    return render_template("admin/catalogue.html", items=tickets.categories(active_only=False), form=form,
                           rules=TARGET_RULES)


@bp.route("/catalogue/<int:category_id>/rule", methods=["POST"])
def category_rule(category_id):
    """Change who a ticket for this service may be about (audited; open tickets are checked again before acting)."""
    item = get_or_404(ServiceCategory, category_id, "There is no such service.")
    tickets.set_target_rule(item, request.form.get("target_rule", ""), actor())
    flash(f"'{item.name}': {TARGET_RULES[item.target_rule].lower()}.", "success")
    return redirect(url_for("admin.catalogue"))


@bp.route("/catalogue/<int:category_id>/toggle", methods=["POST"])
def toggle_category(category_id):
    """Hide a service from requesters, or show it again (tickets keep their category)."""
    item = get_or_404(ServiceCategory, category_id, "There is no such service.")
    tickets.toggle_service(item)
    flash(f"'{item.name}' is now {'offered' if item.is_active else 'hidden'}.", "success")
    return redirect(url_for("admin.catalogue"))
