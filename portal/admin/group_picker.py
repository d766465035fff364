"""The mapping page's group picker: a fragment of groups matching a search, each with its member count."""
from flask import render_template, request

from portal import integrations, sync_scope
from portal.admin import bp
from portal.admin.views_common import ms_settings
from portal.entra.credentials import EntraError
from portal.entra.graph import GraphError
from portal.exceptions import ValidationError


@bp.get("/integrations/<int:integration_id>/mapping/groups")
def group_picker(integration_id):
    """Search the tenant's groups by name (Graph $search) for the scope picker; errors are shown in the fragment."""
    item = integrations.integration_or_404(integration_id)
    groups, problem = [], None
    try:
        groups = sync_scope.picker_groups(item, request.args.get("q", ""), ms_settings())
    except (ValidationError, GraphError, EntraError) as exc:
        problem = exc.message
    return render_template("admin/_group_picker.html", groups=groups, problem=problem, query=request.args.get("q", ""))
