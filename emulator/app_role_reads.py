"""graph.microsoft.com v1.0: an app's service principal (its appRoles) and the app role assignments a user holds.

GET /servicePrincipals(appId='{appId}') reads the service principal by its app id; GET /users/{id}/appRoleAssignments
lists the assignments granted to the user and, as Graph documents, to groups the user is a direct member of (never
through nesting). Both need Directory.Read.All or a stronger permission (Application.Read.All for the first).
"""
from flask import g

from emulator.app_roles import service_principal_id
from emulator.graph_common import GraphFailure, find_user_or_404, graph_blueprint, json_response, require

bp = graph_blueprint("app_role_reads", __name__)
SP_READ_ROLES = {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
ASSIGNMENT_READ_ROLES = {"Directory.Read.All", "Directory.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"}


@bp.get("/servicePrincipals(appId='<app_id>')")
def service_principal(app_id):
    """The app's service principal in this tenant: id, appId, displayName and the appRoles it declares."""
    require(SP_READ_ROLES)
    app = g.tenant.apps.get(app_id)
    if app is None:
        raise GraphFailure(404, "Request_ResourceNotFound", f"Resource '{app_id}' does not exist or one of its queried "
                                                              "reference-property objects are not present.")
    return json_response({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
                          "id": service_principal_id(app.client_id), "appId": app.client_id,
                          "displayName": app.display_name, "appRoles": list(app.app_roles)})


@bp.get("/users/<key>/appRoleAssignments")
def user_app_role_assignments(key):
    """Assignments to the user, then to the groups the user is a direct member of, across the tenant's apps."""
    require(ASSIGNMENT_READ_ROLES)
    user = find_user_or_404(key)
    direct = set(g.tenant.groups.member_of(user.id))
    value = [dict(a) for app in g.tenant.apps.values() for a in app.role_assignments
             if a["principalId"] == user.id or a["principalId"] in direct]
    return json_response({"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{user.id}')/"
                                            "appRoleAssignments", "value": value})
