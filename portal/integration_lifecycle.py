"""Pause, resume and uninstall an integration, from its page or the CLI, each audited.

Paused: no sync is queued or started and no workflow action is claimed (they wait, queued); Microsoft sign-in goes on
only if the admin chose so. Uninstalled: the secret is wiped, queued work is cancelled, and the requesters stay
(deactivated, detached, with their tickets and history); the sign-in button disappears and the tenant may be
installed again.
"""
from datetime import UTC, datetime

import sqlalchemy as sa

from portal import admin_roles, signals
from portal.database import db
from portal.devices import registry
from portal.exceptions import Conflict, ValidationError
from portal.models import ActionRun, Integration, Requester, SyncRun


def _target(integration: Integration) -> signals.Target:
    return signals.Target("integration", str(integration.id), integration.name)


def pause(integration: Integration, keep_sign_in: bool, *, actor: signals.Principal) -> None:
    """Stop syncs and actions now; sign-in continues only when keep_sign_in."""
    if integration.status == "uninstalled":
        raise Conflict("This integration is uninstalled.")
    integration.paused_at = integration.paused_at or datetime.now(UTC)
    integration.sign_in_while_paused = keep_sign_in
    signals.integration_paused.send("lifecycle", actor=actor, target=_target(integration),
                                    detail={"sign_in_continues": keep_sign_in})
    db.session.commit()


def resume(integration: Integration, *, actor: signals.Principal) -> None:
    """Syncs, actions and sign-in start again; waiting actions run."""
    if integration.paused_at is None:
        raise Conflict("This integration is not paused.")
    integration.paused_at, integration.sign_in_while_paused = None, False
    signals.integration_resumed.send("lifecycle", actor=actor, target=_target(integration))
    db.session.commit()


def uninstall(integration: Integration, typed_name: str, *, actor: signals.Principal) -> int:
    """Uninstall once the admin typed its exact name; returns how many requesters were detached."""
    if integration.status == "uninstalled":
        raise Conflict("This integration is already uninstalled.")
    if (typed_name or "").strip() != integration.name:
        raise ValidationError(f"Type the integration's name, {integration.name}, exactly, to uninstall it.",
                              detail={"errors": {"confirm_name": "The name does not match."}})
    now = datetime.now(UTC)
    people = db.session.scalars(sa.select(Requester.id).where(Requester.integration_id == integration.id)).all()
    db.session.execute(sa.update(Requester).where(Requester.integration_id == integration.id).values(
        integration_id=None, status=sa.case((Requester.status == "active", "disabled"), else_=Requester.status),
        account_enabled=False, updated_at=now))
    db.session.execute(sa.update(ActionRun).where(ActionRun.integration_id == integration.id,
                                                  ActionRun.status.in_(("pending", "blocked", "awaiting_approval")))
                       .values(status="cancelled", finished_at=now, error_message="The integration was uninstalled."))
    db.session.execute(sa.update(SyncRun).where(SyncRun.integration_id == integration.id, SyncRun.status == "queued")
                       .values(status="failed", finished_at=now, message="The integration was uninstalled."))
    integration.status, integration.status_reason = "uninstalled", f"Uninstalled by {actor.label}."
    integration.secret_encrypted, integration.secret_hint, integration.delta_link = b"", "", None
    integration.paused_at = None
    admins = admin_roles.revoke_integration_admins(integration.id, "the integration was uninstalled", actor)
    signals.integration_uninstalled.send("lifecycle", actor=actor, target=_target(integration),
                                         detail={"requesters_detached": len(people), "admins_revoked": admins})
    db.session.commit()
    registry.end_for_requesters(people, "integration_uninstalled", actor)
    return len(people)


def is_paused(integration: Integration | None) -> bool:
    """Whether work for this integration must wait."""
    return bool(integration and integration.paused_at)
