"""Who an integration syncs, as chosen on the mapping page: everyone in the tenant, or the members of chosen groups
(nested members included). Checks a choice with Microsoft, stores it, and searches groups for the picker."""
import re

import sqlalchemy as sa

from portal.database import db
from portal.directory.field_mapping import as_text
from portal.directory.group_scope import scope_groups
from portal.entra import group_reads, permissions
from portal.entra.clients import MicrosoftSettings, graph_for
from portal.entra.graph import GraphError
from portal.exceptions import ValidationError
from portal.models import Integration, ScopeGroup, ScopeMember

SCOPES = {"tenant": "Everyone in the tenant", "groups": "Members of these groups"}
MAX_GROUPS = 20
MAX_SEARCH = 64
GROUP_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NEEDS_PERMISSION = ("Group-scoped sync needs the Microsoft Graph application permission GroupMember.Read.All (or "
                    "Group.Read.All) with admin consent. Grant it in the Entra admin center, press Verify on the "
                    "integration's page, then choose the groups again.")


def _refuse(message: str):
    raise ValidationError(message, detail={"errors": {"scope": message}})


def require_group_permission(integration: Integration) -> None:
    """Refuse anything group-scoped while Verify has not seen a group permission granted."""
    if permissions.missing_features(["group_sync"], integration.granted_permissions or []):
        _refuse(NEEDS_PERMISSION)


def clean_scope(integration: Integration, kind: str | None, group_ids: list, settings: MicrosoftSettings) -> dict:
    """The chosen scope checked: {"kind", "groups": [{"id", "name"}]}, every group known to the tenant; raises
    ValidationError (errors["scope"]) with what is wrong."""
    if kind not in SCOPES:
        _refuse("Choose who is synced: everyone in the tenant, or the members of chosen groups.")
    if kind == "tenant":
        return {"kind": "tenant", "groups": []}
    require_group_permission(integration)
    values = [v.strip().lower() for v in group_ids if isinstance(v, str) and v.strip()]
    chosen = list(dict.fromkeys(v for v in values if GROUP_ID.match(v)))
    if len(chosen) < len(set(values)):
        _refuse(f"{len(set(values)) - len(chosen)} of the chosen values are not group ids; choose groups with the "
                "search below.")
    if not chosen:
        _refuse("Choose at least one group, or sync everyone in the tenant.")
    if len(chosen) > MAX_GROUPS:
        _refuse(f"Choose at most {MAX_GROUPS} groups ({len(chosen)} chosen). Nest them in one group in Entra to sync "
                "more: nested members are included.")
    graph, found, unknown = graph_for(integration, settings), [], []
    for group_id in chosen:
        try:
            group = group_reads.find_group(graph, group_id)
        except GraphError as exc:
            if exc.http_status == 403:
                _refuse(NEEDS_PERMISSION)
            raise
        if group is None:
            unknown.append(group_id)
        else:
            found.append({"id": group_id, "name": as_text(group.get("displayName"), 256) or group_id})
    if unknown:
        _refuse(f"This tenant has no group with the id {', '.join(unknown)} (it was deleted, or belongs to another "
                "tenant). Remove it and choose again.")
    return {"kind": "groups", "groups": found}


def apply_scope(integration: Integration, scope: dict, changes: dict) -> None:
    """Store a cleaned scope, noting in `changes` what moved; a change makes the next sync a full one (not committed:
    the mapping save commits)."""
    rows = scope_groups(integration.id)
    before, after = {r.group_id: r for r in rows}, {g["id"]: g["name"] for g in scope["groups"]}
    if scope["kind"] != integration.sync_scope:
        changes["sync_scope"] = [integration.sync_scope, scope["kind"]]
        integration.sync_scope = scope["kind"]
    if set(before) != set(after):
        changes["scope_groups"] = [sorted(r.display_name for r in rows), sorted(after.values())]
    for group_id, row in before.items():
        if group_id not in after:
            db.session.delete(row)
        else:
            row.display_name, row.missing_since = after[group_id], None
    db.session.add_all(ScopeGroup(integration_id=integration.id, group_id=group_id, display_name=name, nested_ids=[])
                       for group_id, name in after.items() if group_id not in before)
    if "sync_scope" in changes or "scope_groups" in changes:
        integration.delta_link = integration.groups_delta_link = None
        db.session.execute(sa.delete(ScopeMember).where(ScopeMember.integration_id == integration.id))


def current_scope(integration: Integration) -> dict:
    """The stored scope in the shape `clean_scope` returns, with each group's absence, for the mapping page."""
    return {"kind": integration.sync_scope, "groups": [
        {"id": r.group_id, "name": r.display_name, "missing": r.missing_since is not None}
        for r in scope_groups(integration.id)]}


def picker_groups(integration: Integration, text: str | None, settings: MicrosoftSettings) -> list[dict]:
    """Up to 10 groups whose name has a word starting with `text`, each with its user count (nested included)."""
    require_group_permission(integration)
    text = (text or "").strip()
    if len(text) > MAX_SEARCH:
        _refuse(f"Search with at most {MAX_SEARCH} characters.")
    term = "".join(c for c in text if c.isprintable() and c not in '"\\')
    graph = graph_for(integration, settings)
    return [{"id": g["id"], "name": as_text(g.get("displayName"), 256) or g["id"],
             "description": as_text(g.get("description"), 256),
             "kind": "Microsoft 365" if "Unified" in (g.get("groupTypes") or []) else "Security",
             "count": group_reads.user_member_count(graph, g["id"])}
            for g in group_reads.search_groups(graph, term) if GROUP_ID.match(g["id"])]
