"""Blinker signals that services emit; audit.py listens, so no view ever writes an audit row.

Every signal is sent with keyword arguments: actor (Principal), target (Target or None),
outcome ("success" or "failure"), reason (str or None) and detail (dict). The signal's name is
the audit action, taken from the vocabulary in portal.audit.ACTIONS.
"""
from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()


@dataclass(frozen=True)
class Principal:
    """Who acted: a requester, an admin, the system or the scheduler."""

    type: str
    id: str | None = None
    label: str | None = None

    @classmethod
    def of(cls, user) -> "Principal":
        """Build from an Admin or Requester row (or anything with principal_type, id and label)."""
        return cls(user.principal_type, str(user.id), user.label)


SYSTEM = Principal("system", None, "Frontdesk")
SCHEDULER = Principal("scheduler", None, "Scheduler")
ANONYMOUS = Principal("anonymous", None, None)


@dataclass(frozen=True)
class Target:
    """What was acted on."""

    type: str
    id: str | None = None
    label: str | None = None


def _signal(name: str):
    return _signals.signal(name)


admin_signed_in = _signal("admin.sign_in")
admin_sign_in_failed = _signal("admin.sign_in_failed")
admin_locked_out = _signal("admin.locked_out")
admin_signed_out = _signal("admin.sign_out")
admin_created = _signal("admin.created")
admin_stepped_up = _signal("admin.step_up")
admin_role_granted = _signal("admin.role_granted")
admin_role_revoked = _signal("admin.role_revoked")
role_rule_added = _signal("role_rule.added")
role_rule_removed = _signal("role_rule.removed")
authorization_failed = _signal("authorization.denied")
setting_changed = _signal("setting.changed")
mail_test_sent = _signal("mail.test_sent")
integration_installed = _signal("integration.installed")
integration_verified = _signal("integration.verified")
integration_failing = _signal("integration.failing")
integration_secret_replaced = _signal("integration.secret_replaced")
integration_secret_expiring = _signal("integration.secret_expiring")
integration_paused = _signal("integration.paused")
integration_resumed = _signal("integration.resumed")
integration_uninstalled = _signal("integration.uninstalled")
mapping_changed = _signal("mapping.changed")
sync_started = _signal("sync.started")
sync_finished = _signal("sync.finished")
sync_confirmed = _signal("sync.deactivation_confirmed")

requester_signed_in = _signal("requester.sign_in")
sign_in_failed = _signal("requester.sign_in_failed")
requester_locked_out = _signal("requester.locked_out")
requester_unlocked = _signal("requester.unlocked")
requester_signed_out = _signal("requester.sign_out")

audit_archived = _signal("audit.archived")
ticket_created = _signal("ticket.created")
ticket_status_changed = _signal("ticket.status_changed")
ticket_commented = _signal("ticket.commented")
workflow_saved = _signal("workflow.saved")
action_requested = _signal("action.requested")
action_finished = _signal("action.finished")
action_awaiting_approval = _signal("action.awaiting_approval")
action_approved = _signal("action.approved")
approval_requested = _signal("approval.requested")
approval_approved = _signal("approval.approved")
approval_rejected = _signal("approval.rejected")
approval_expired = _signal("approval.expired")
session_started = _signal("session.started")
session_revoked = _signal("session.revoked")
session_expired = _signal("session.expired")
live_updates_subscribed = _signal("live_updates.subscribed")
live_updates_renewed = _signal("live_updates.renewed")
live_updates_reauthorized = _signal("live_updates.reauthorized")
live_updates_resynced = _signal("live_updates.resynced")
live_updates_failed = _signal("live_updates.failed")

# Internal signals: not audit events themselves; other services react to them.
_internal = Namespace()
requesters_deactivated = _internal.signal("requesters-deactivated")
directory_synced = _internal.signal("directory-synced")


def all_signals() -> dict:
    """Every signal defined here, by audit action name."""
    return dict(_signals)
