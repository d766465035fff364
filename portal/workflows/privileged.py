"""Entra admins are refused up front: an action reads the target's directory roles before it changes anything.

Microsoft refuses app-only password and enable changes on a user holding a directory role, and an admin's
sign-in sessions are not ours to end either; asking first turns a bare 403 into a reason an admin can act on.
"""
from portal.entra import permissions
from portal.entra.graph import GraphClient
from portal.exceptions import GraphError, PermissionMissing, PrivilegedTarget
from portal.models import Requester

FEATURE = "read_roles"


def refuse_privileged(graph: GraphClient, requester: Requester, label: str) -> None:
    """Raise PrivilegedTarget when the target holds any Entra directory role; PermissionMissing when roles cannot be
    read for want of a permission."""
    name = requester.display_name or requester.user_principal_name or "This person"
    roles = _read_roles(graph, requester, name)
    if not roles:
        return
    names = [r.get("displayName") or "a directory role" for r in roles]
    raise PrivilegedTarget(
        f"{name} is an administrator in Entra ID ({', '.join(names)}); an Entra admin must do this. Nothing was "
        f"changed: Frontdesk acts only on accounts without an Entra admin role.",
        public=f"{label} was not done: this account is an administrator in Microsoft Entra ID, so an IT admin must "
               f"do this in Entra ID. IT has been told.", roles=names)


def _read_roles(graph: GraphClient, requester: Requester, name: str) -> list[dict]:
    try:
        return graph.directory_roles(requester.entra_object_id)
    except GraphError as exc:
        if exc.http_status != 403:
            raise
        feature = permissions.BY_KEY[FEATURE]
        raise PermissionMissing(
            f"Microsoft refused to list {name}'s Entra admin roles, which Frontdesk checks before acting, so nothing "
            f"was changed. The app registration needs {feature.describe_need()} ({feature.label}). "
            f"{permissions.GRANT_HOW.format(perms=sorted(feature.any_of[0])[0])} Then run Verify and retry.",
            http_status=403, code=exc.code, request_id=exc.request_id) from exc
