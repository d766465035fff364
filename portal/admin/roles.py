"""The Roles page: which Entra groups make their members admins (the Frontdesk.Admin app role always does), and
every Microsoft admin with why they are one."""
from flask import flash, redirect, render_template, request, url_for

from portal import admin_roles, integrations, sync_scope
from portal.admin import bp
from portal.admin.views_common import actor, ms_settings, plural
from portal.auth.roles import ADMIN_APP_ROLE
from portal.entra.credentials import EntraError
from portal.entra.graph import GraphError
from portal.exceptions import ValidationError


@bp.get("/integrations/<int:integration_id>/roles")
def roles(integration_id):
    """Group rules, a group search to add one, and the Microsoft admins with their provenance."""
    item = integrations.integration_or_404(integration_id)
    query, found, problem = request.args.get("q"), [], None
    if query is not None:
        try:
            found = sync_scope.picker_groups(item, query, ms_settings())
        except (ValidationError, GraphError, EntraError) as exc:
            problem = exc.message
    return _roles_page(item, query=query, found=found, problem=problem)


def _roles_page(item, status: int = 200, **extra):
    return render_template("admin/roles.html", integration=item, app_role=ADMIN_APP_ROLE,
                           rules=admin_roles.rules_of(item.id), rule_rows=admin_roles.rule_rows(item.id),
                           admins=admin_roles.microsoft_admins(item.id), **extra), status


@bp.post("/integrations/<int:integration_id>/roles")
def add_role_rule(integration_id):
    """Map the chosen group to the admin role (step-up, audited)."""
    item = integrations.integration_or_404(integration_id)
    try:
        rule = admin_roles.add_rule(item, request.form.get("group_id", ""), ms_settings(), actor())
    except (ValidationError, GraphError, EntraError) as exc:
        return _roles_page(item, status=422, problem=exc.message)
    flash(f"Members of {rule.group_name}, nested groups included, are now admins when they sign in with Microsoft.", "success")
    return redirect(url_for("admin.roles", integration_id=item.id))


@bp.post("/integrations/<int:integration_id>/roles/<int:rule_id>/remove")
def remove_role_rule(integration_id, rule_id):
    """Unmap a group; admins it made lose the role and their sessions now (step-up, audited)."""
    item = integrations.integration_or_404(integration_id)
    lost = admin_roles.remove_rule(item, rule_id, ms_settings(), actor())
    flash(f"Removed. {plural(lost, 'admin')} lost the role and were signed out.", "success")
    return redirect(url_for("admin.roles", integration_id=item.id))
