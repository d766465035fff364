"""Admins from Entra: who may sign in with Microsoft as an admin and why, the Roles page's group rules, and the check
after every sync that ends the sessions of anyone who lost the role. Local admins stay as break-glass accounts."""
from datetime import UTC, datetime

import sqlalchemy as sa

from portal import signals
from portal.auth import roles
from portal.database import db
from portal.devices import registry
from portal.directory.field_mapping import as_text
from portal.entra import group_reads
from portal.entra.clients import MicrosoftSettings, graph_for
from portal.entra.graph import GraphClient, GraphError
from portal.exceptions import NotFound, SignInFailed, ValidationError
from portal.models import Admin, Integration, Requester, RoleRule
from portal.sync_scope import GROUP_ID, require_group_permission

MAX_RULES = 20


def rules_of(integration_id: int) -> dict[str, str]:
    """The groups whose members are admins, id to name."""
    return dict(db.session.execute(sa.select(RoleRule.group_id, RoleRule.group_name).where(
        RoleRule.integration_id == integration_id)).all())


def admit_admin(integration: Integration, claims: dict, graph: GraphClient) -> Admin:
    """The admin this Microsoft account is, created or refreshed from Entra; SignInFailed when it holds no role."""
    expected_tenant = integration.directory_tenant_id or integration.tenant_id
    if claims.get("tid") != expected_tenant:
        raise SignInFailed("wrong_tenant", reason=f"tid {claims.get('tid')}")
    person = db.session.scalar(sa.select(Requester).where(Requester.integration_id == integration.id,
                                                          Requester.entra_object_id == claims["oid"]))
    if person is not None and person.status != "active":
        raise SignInFailed("portal_disabled" if person.status == "disabled" else "portal_deleted", counted=False)
    try:
        grant = roles.resolve(claims, rules_of(integration.id), graph)
    except GraphError as exc:
        raise SignInFailed("unavailable", reason=f"role lookup: {exc.message}"[:200], counted=False) from exc
    admin = db.session.scalar(sa.select(Admin).where(Admin.integration_id == integration.id,
                                                     Admin.entra_object_id == claims["oid"]))
    if grant is None:
        if admin is not None:
            _revoke(admin, "no role in Entra at sign-in")
            db.session.commit()
        raise SignInFailed("not_an_admin", reason=f"oid {claims['oid']}", counted=False)
    return _grant(integration, admin, claims, grant)


def _grant(integration: Integration, admin: Admin | None, claims: dict, grant: roles.RoleGrant) -> Admin:
    """Create or refresh the Microsoft admin; a new or changed reason is audited."""
    email = (as_text(claims.get("preferred_username"), 254) or as_text(claims.get("email"), 254) or claims["oid"]).lower()
    if admin is None:
        taken = db.session.scalar(sa.select(Admin.id).where(sa.func.lower(Admin.email) == email))
        if taken is not None:
            raise SignInFailed("admin_email_taken", reason=email, counted=False)
        admin = Admin(email=email, integration_id=integration.id, entra_object_id=claims["oid"], password_hash=None)
        db.session.add(admin)
    changed = admin.role_reason != grant.reason or not admin.is_enabled
    admin.display_name = as_text(claims.get("name"), 200) or admin.display_name or email
    admin.role_reason, admin.role_source = grant.reason, grant.group_id or "app_role"
    admin.is_enabled, admin.role_checked_at = True, datetime.now(UTC)
    db.session.flush()
    if changed:
        signals.admin_role_granted.send("roles", actor=signals.SYSTEM, target=_admin_role_target(admin),
                                        detail={"role": grant.role, "because": grant.reason})
    return admin


def _revoke(admin: Admin, why: str, actor: signals.Principal = signals.SYSTEM) -> int:
    """Disable the Microsoft admin and end every session they have; audited. The caller commits."""
    if not admin.is_enabled:
        return 0
    admin.is_enabled, admin.role_checked_at = False, datetime.now(UTC)
    ended = registry.end_all("admin", admin.id, "role_removed", actor)
    signals.admin_role_revoked.send("roles", actor=actor, target=_admin_role_target(admin), reason=why,
                                    detail={"was": admin.role_reason, "sessions_ended": ended})
    return ended


def revoke_integration_admins(integration_id: int, why: str, actor: signals.Principal) -> int:
    """Every Microsoft admin of an integration loses the role (it was uninstalled); the caller commits."""
    return sum(_revoke(admin, why, actor) >= 0 for admin in microsoft_admins(integration_id) if admin.is_enabled)


def _admin_role_target(admin: Admin) -> signals.Target:
    return signals.Target("admin", str(admin.id), admin.email)


def rule_rows(integration_id: int) -> list[RoleRule]:
    """The Roles page's group rules, by name."""
    return list(db.session.scalars(sa.select(RoleRule).where(RoleRule.integration_id == integration_id)
                                   .order_by(RoleRule.group_name, RoleRule.id)))


def microsoft_admins(integration_id: int) -> list[Admin]:
    """The integration's Microsoft admins, enabled first, by name."""
    return list(db.session.scalars(sa.select(Admin).where(Admin.integration_id == integration_id).order_by(
        Admin.is_enabled.desc(), Admin.display_name, Admin.id)))


def recheck_admins(integration: Integration, settings: MicrosoftSettings) -> int:
    """After a sync: a Microsoft admin whose account was deactivated, whose app role was unassigned, or who left every
    mapped group loses the role and their sessions at once. Returns how many lost it; commits."""
    rules, graph, lost = rules_of(integration.id), graph_for(integration, settings), 0
    for admin in microsoft_admins(integration.id):
        if not admin.is_enabled:
            continue
        why = _inactive_because(admin, integration)
        if why is None:
            try:
                grant = roles.still_granted(integration.client_id, admin.entra_object_id, rules, graph)
            except GraphError as exc:
                if exc.http_status != 404:
                    continue  # this admin is checked again at the next sync and at sign-in; the others go on
                grant = None  # the account no longer exists in Entra
            why = None if grant else "no admin role in Entra any more"
            if grant and (grant.group_id or "app_role") != admin.role_source:
                admin.role_reason, admin.role_source = grant.reason, grant.group_id or "app_role"
        if why:
            _revoke(admin, why)
            lost += 1
        else:
            admin.role_checked_at = datetime.now(UTC)
    db.session.commit()
    return lost


def _inactive_because(admin: Admin, integration: Integration) -> str | None:
    """The account is disabled or removed in Entra, as the sync just recorded."""
    status = db.session.scalar(sa.select(Requester.status).where(Requester.integration_id == integration.id,
                                                                 Requester.entra_object_id == admin.entra_object_id))
    return f"account {status} in Entra" if status in ("disabled", "deleted") else None


def add_rule(integration: Integration, group_id: str, settings: MicrosoftSettings, actor: signals.Principal) -> RoleRule:
    """Map an Entra group (checked with Graph) to the admin role; audited, committed."""
    require_group_permission(integration)
    group_id = (group_id or "").strip().lower()
    if not GROUP_ID.match(group_id):
        raise ValidationError("Choose a group from the search results.", detail={"errors": {"group": "Not a group id."}})
    rules = rules_of(integration.id)
    if group_id in rules:
        raise ValidationError(f"{rules[group_id]} already makes its members admins.", detail={"errors": {"group": "Already mapped."}})
    if len(rules) >= MAX_RULES:
        raise ValidationError(f"At most {MAX_RULES} groups can grant the admin role: nest them in one group in Entra.",
                              detail={"errors": {"group": "Too many groups."}})
    group = group_reads.find_group(graph_for(integration, settings), group_id)
    if group is None:
        raise ValidationError("The tenant has no such group (it may have been deleted).", detail={"errors": {"group": "Unknown group."}})
    rule = RoleRule(integration_id=integration.id, group_id=group_id, role="admin",
                    group_name=as_text(group.get("displayName"), 256) or group_id)
    db.session.add(rule)
    db.session.flush()
    signals.role_rule_added.send("roles", actor=actor, target=signals.Target("integration", str(integration.id), integration.name),
                                 detail={"group": group_id, "name": rule.group_name, "role": "admin"})
    db.session.commit()
    return rule


def remove_rule(integration: Integration, rule_id: int, settings: MicrosoftSettings, actor: signals.Principal) -> int:
    """Unmap a group; its members who hold no other grant lose the role and their sessions now. Returns how many."""
    rule = db.session.get(RoleRule, rule_id)
    if rule is None or rule.integration_id != integration.id:
        raise NotFound("There is no such role rule.")
    signals.role_rule_removed.send("roles", actor=actor, target=signals.Target("integration", str(integration.id), integration.name),
                                   detail={"group": rule.group_id, "name": rule.group_name, "role": rule.role})
    db.session.delete(rule)
    db.session.flush()
    try:
        return recheck_admins(integration, settings)
    except GraphError:
        db.session.commit()  # the rule is gone; the next sync's check ends the sessions
        return 0
