"""Installing, verifying and maintaining Entra ID integrations. No Flask imports: settings are passed in."""
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from portal import signals, sync_scope
from portal.crypto import SecretBox, secret_hint
from portal.database import db, get_or_404
from portal.directory import field_mapping
from portal.directory.sync_plan import GUEST_POLICIES
from portal.entra import credentials, permissions
from portal.entra.clients import MicrosoftSettings, app_credentials, credentials_for, graph_for
from portal.entra.cloud import CLOUDS
from portal.entra.credentials import AppCredentials, EntraError
from portal.entra.graph import GraphClient, GraphError, RetryPolicy
from portal.exceptions import Conflict, NotFound, ValidationError
from portal.models import FieldMapping, Integration

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass
class InstallRequest:
    """What the admin typed on the install form (or the CLI)."""

    name: str
    tenant_id: str
    client_id: str
    client_secret: str
    secret_expires_on: date | None
    cloud: str = "global"


INSTALL_MESSAGES = {
    "name": "Give the integration a name of 1 to 120 characters (for example 'Contoso staff').",
    "tenant_id": ("Enter the Directory (tenant) ID as a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47, "
                  "or a verified domain like contoso.onmicrosoft.com."),
    "client_id": "Enter the Application (client) ID: a GUID like 1e2feb89-414c-443c-9027-c4d1c386bbc4.",
    "client_secret": "Paste the client secret's Value (one line, no spaces).",
    "expiry_missing": "Enter the date the secret expires (shown beside it in Certificates & secrets).",
    "expiry_past": "That date is in the past: the secret has already expired. Create a new one.",
    "cloud": "Choose Global, US Government or China.",
}


def validate_install(form: InstallRequest, today: date | None = None) -> dict:
    """Field-by-field checks with messages that say what is wrong; raises ValidationError with `errors`."""
    today = today or datetime.now(UTC).date()
    name, tenant, client = form.name.strip(), form.tenant_id.strip().lower(), form.client_id.strip().lower()
    secret = form.client_secret.strip()
    problems = {
        "name": not 1 <= len(name) <= 120,
        "tenant_id": not (GUID.match(tenant) or DOMAIN.match(tenant)),
        "client_id": not GUID.match(client),
        "client_secret": not secret or len(secret) > 1024 or any(c.isspace() for c in secret),
        "cloud": form.cloud not in CLOUDS,
    }
    errors = {field: INSTALL_MESSAGES[field] for field, bad in problems.items() if bad}
    if form.secret_expires_on is None or form.secret_expires_on < today:
        key = "expiry_missing" if form.secret_expires_on is None else "expiry_past"
        errors["secret_expires_on"] = INSTALL_MESSAGES[key]
    if errors:
        raise ValidationError("Some fields need attention.", detail={"errors": errors})
    return {"name": name, "tenant_id": tenant, "client_id": client, "client_secret": secret}


@dataclass
class Probe:
    """What Verify learned: the tenant GUID, granted roles, and whether reading users works."""

    tenant_guid: str | None
    roles: list
    can_read_users: bool
    graph_error: GraphError | None = None


def probe(creds: AppCredentials, retry: RetryPolicy | None = None) -> Probe:
    """Get a fresh app-only token, read its roles, then GET /users?$top=1&$select=id. Raises EntraError."""
    credentials.forget(creds)  # a cached token would show yesterday's permissions
    token = credentials.acquire_app_token(creds)
    claims = credentials.token_claims(token["access_token"])
    roles = sorted(r for r in claims.get("roles", []) if isinstance(r, str))
    try:
        GraphClient(creds, retry=retry or RetryPolicy(max_attempts=2)).first_user_id()
    except GraphError as exc:
        return Probe(claims.get("tid"), roles, False, exc)
    return Probe(claims.get("tid"), roles, True)


def install(form: InstallRequest, settings: MicrosoftSettings, *, actor: signals.Principal) -> Integration:
    """Check the credentials with Microsoft, then save everything in one transaction (or nothing)."""
    clean = validate_install(form)
    creds = app_credentials(settings, form.cloud, clean["tenant_id"], clean["client_id"], clean["client_secret"])
    try:
        result = probe(creds, settings.retry)
        _refuse_second_install(clean["tenant_id"], result.tenant_guid)
    except (EntraError, Conflict) as exc:
        info = exc.support_info() if isinstance(exc, EntraError) else {"error_code": exc.code}
        signals.integration_failing.send("integrations", actor=actor, target=signals.Target("integration", None, clean["name"]),
                                         outcome="failure", reason=f"Install refused: {exc.message}",
                                         detail={k: v for k, v in info.items() if k != "description"})
        db.session.commit()
        raise
    integration = Integration(
        name=clean["name"], tenant_id=clean["tenant_id"], client_id=clean["client_id"], cloud=form.cloud,
        secret_encrypted=SecretBox(settings.encryption_key).encrypt(clean["client_secret"]),
        secret_hint=secret_hint(clean["client_secret"]), secret_expires_on=form.secret_expires_on)
    integration.mappings = [FieldMapping(tab=field_mapping.FIELDS[k].tab, portal_field=k, graph_attribute=v)
                            for k, v in field_mapping.default_mapping().items()]
    db.session.add(integration)
    db.session.flush()
    signals.integration_installed.send("integrations", actor=actor, target=_installation_target(integration),
                                       detail={"cloud": form.cloud, "client_id": clean["client_id"]})
    _record_probe(integration, result, actor)
    db.session.commit()
    return integration


def _refuse_second_install(tenant_id: str, tenant_guid: str | None) -> None:
    """One installation per Entra tenant: the same people twice would be two requesters each and two sign-in buttons."""
    keys = {k.lower() for k in (tenant_id, tenant_guid) if k}
    for existing in all_integrations():
        if keys & {k.lower() for k in (existing.tenant_id, existing.directory_tenant_id) if k}:
            raise Conflict(f"This Microsoft Entra tenant is already installed as '{existing.name}'. To use another "
                           "app registration for it, open that installation and replace its credentials there.",
                           code="tenant_already_installed", detail={"integration_id": existing.id})


def verify(integration: Integration, settings: MicrosoftSettings, *, actor: signals.Principal) -> Probe:
    """Re-run Verify on a saved integration and store the outcome; a token failure is stored, then raised."""
    try:
        result = probe(credentials_for(integration, settings), settings.retry)
    except EntraError as exc:
        mark_failing(integration, exc.message, exc.support_info(), actor=actor)
        db.session.commit()
        raise
    _record_probe(integration, result, actor)
    db.session.commit()
    return result


def _record_probe(integration: Integration, result: Probe, actor) -> None:
    integration.granted_permissions = result.roles
    integration.directory_tenant_id = result.tenant_guid
    if result.can_read_users:
        integration.status, integration.status_reason, integration.last_error = "verified", None, None
        integration.verified_at = datetime.now(UTC)
        signals.integration_verified.send("integrations", actor=actor, target=_installation_target(integration),
                                          detail={"roles": result.roles, "tenant": result.tenant_guid})
        return
    exc = result.graph_error
    reason = ("No Microsoft Graph application permissions are granted: admin consent is missing. Grant "
              "User.Read.All and press 'Grant admin consent' in the Entra admin center, then verify again."
              if not result.roles else f"Reading users failed: {exc.message}")
    info = exc.support_info() if result.roles else dict(exc.support_info(), error_code="no_consent")
    mark_failing(integration, reason, info, actor=actor)


def mark_failing(integration: Integration, reason: str, info: dict, *, actor=signals.SYSTEM) -> None:
    """Record why the integration fails (shown to admins) and audit it; the caller commits."""
    integration.status, integration.status_reason, integration.last_error = "failing", reason, info
    signals.integration_failing.send("integrations", actor=actor, target=_installation_target(integration), outcome="failure",
                                     reason=reason, detail={k: v for k, v in info.items() if k != "description"})


def replace_secret(integration: Integration, new_secret: str, expires_on: date | None, settings: MicrosoftSettings,
                   *, actor: signals.Principal) -> Probe:
    """Check the new secret with Microsoft first; only a working secret replaces the old one."""
    form = InstallRequest(integration.name, integration.tenant_id, integration.client_id, new_secret, expires_on,
                       integration.cloud)
    clean = validate_install(form)
    creds = app_credentials(settings, integration.cloud, integration.tenant_id, integration.client_id, clean["client_secret"])
    result = probe(creds, settings.retry)
    credentials.forget(creds)
    integration.secret_encrypted = SecretBox(settings.encryption_key).encrypt(clean["client_secret"])
    integration.secret_hint, integration.secret_expires_on = secret_hint(clean["client_secret"]), expires_on
    signals.integration_secret_replaced.send("integrations", actor=actor, target=_installation_target(integration),
                                             detail={"expires_on": expires_on.isoformat() if expires_on else None})
    _record_probe(integration, result, actor)
    db.session.commit()
    return result


def permission_checklist(integration: Integration) -> list[dict]:
    """Verify's permission checklist for the stored roles."""
    return permissions.checklist(integration.granted_permissions or [])


def expiry_state(integration: Integration, today: date | None = None) -> tuple[str | None, int | None]:
    """('expired'|'7'|'30'|None, days left) from the entered expiry date."""
    if integration.secret_expires_on is None:
        return None, None
    days = (integration.secret_expires_on - (today or datetime.now(UTC).date())).days
    if days < 0:
        return "expired", days
    if days <= 7:
        return "7", days
    if days <= 30:
        return "30", days
    return None, days


def integration_or_404(integration_id: int) -> Integration:
    """One installed integration, or a 404 that says so (an uninstalled one is gone for every page and command)."""
    item = get_or_404(Integration, integration_id, "There is no such integration.")
    if item.status == "uninstalled":
        raise NotFound("That integration was uninstalled. Its requesters and history stay; install it again from "
                       "Marketplace to use it.")
    return item


def all_integrations() -> list[Integration]:
    """Every installed integration (not the uninstalled ones), by name."""
    return list(db.session.scalars(sa.select(Integration).where(Integration.status != "uninstalled")
                                   .order_by(Integration.name)))


def save_mapping(integration: Integration, requested: dict, *, actor: signals.Principal,
                 guest_policy: str | None = None, scope: dict | None = None) -> dict:
    """Validate and store the mapping (and the guest policy, and a scope `sync_scope.clean_scope` checked); a change
    forces the next sync to be full. Returns the changes."""
    clean = field_mapping.validate(requested)
    if guest_policy is not None and guest_policy not in GUEST_POLICIES:
        raise ValidationError("Choose how guests are synced.", detail={"errors": {"guest_policy": "Choose one."}})
    current = {m.portal_field: m for m in integration.mappings}
    changes = {}
    for name, attribute in clean.items():
        row = current.get(name)
        if row is None:
            integration.mappings.append(FieldMapping(tab=field_mapping.FIELDS[name].tab, portal_field=name,
                                                     graph_attribute=attribute))
            changes[name] = [None, attribute]
        elif row.graph_attribute != attribute:
            changes[name] = [row.graph_attribute, attribute]
            row.graph_attribute = attribute
    if guest_policy is not None and guest_policy != integration.guest_policy:
        changes["guest_policy"] = [integration.guest_policy, guest_policy]
        integration.guest_policy = guest_policy
    if scope is not None:
        sync_scope.apply_scope(integration, scope, changes)
    if changes:
        integration.delta_link = None
        signals.mapping_changed.send("integrations", actor=actor, target=_installation_target(integration), detail=changes)
    if changes or not integration.mapping_version:
        integration.mapping_version += 1  # also the first save of the defaults: from then on the scheduler syncs
    db.session.commit()
    return changes


def mapping_of(integration: Integration) -> dict:
    """The stored mapping as {portal_field: attribute}, default for anything missing."""
    stored = {m.portal_field: m.graph_attribute for m in integration.mappings}
    return {k: stored[k] if k in stored else v for k, v in field_mapping.default_mapping().items()}


def preview(integration: Integration, requested: dict, settings: MicrosoftSettings, count: int = 5) -> list[dict]:
    """The mapped values of a few real users, for the mapping page's live preview."""
    clean = field_mapping.validate(requested)
    graph = graph_for(integration, settings)
    page = next(graph.users(field_mapping.select_for(clean), expand_manager=bool(clean.get("manager")), top=count,
                            manager_select=("id", "displayName")))
    users = [u for u in page.get("value", []) if isinstance(u, dict)][:count]
    return [dict(field_mapping.requester_fields(u, clean), id=u.get("id"), account_enabled=u.get("accountEnabled"),
                 manager_name=field_mapping.manager_name(u)) for u in users]


def _installation_target(integration: Integration) -> signals.Target:
    return signals.Target("integration", str(integration.id), integration.name)
