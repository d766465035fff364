"""The three App Integration actions against Microsoft Graph. Each returns what to put on the ticket."""
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from portal import accounts, signals
from portal.database import db
from portal.devices import registry
from portal.entra.graph import GraphClient
from portal.models import Requester

SYMBOLS = "!#$%*+-=?@^_"


@dataclass
class Outcome:
    """What happened: Graph's request id, a friendly line, admin detail, and (reset only) the mail to send."""

    request_id: str | None
    public: str
    detail: dict
    temporary_password: str | None = None


def temporary_password(length: int = 16) -> str:
    """A strong one-time password with every character class (Entra needs 3 of 4)."""
    classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS]
    chars = [secrets.choice(c) for c in classes] + [secrets.choice("".join(classes)) for _ in range(length - 4)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def force_password_reset(graph: GraphClient, requester: Requester) -> Outcome:
    """Set a temporary password that must be changed at next sign-in; end portal sessions."""
    password = temporary_password()
    request_id = graph.patch_user(requester.entra_object_id, {"passwordProfile": {
        "forceChangePasswordNextSignIn": True, "password": password}})
    registry.end_for_requesters([requester.id], "password_reset", signals.SYSTEM)
    return Outcome(request_id, "Your password was reset. Check your email for a temporary password; Microsoft will "
                   "ask you to choose a new one when you sign in.", {"graph_request_id": request_id,
                                                                    "sessions_ended": True}, password)


def unlock(graph: GraphClient, requester: Requester) -> Outcome:
    """Clear the portal lock and re-enable the Entra account if it is disabled."""
    accounts.unlock_requester(requester, actor=signals.SYSTEM, reason="unlocked by a workflow")
    user = graph.get_user(requester.entra_object_id, ["id", "accountEnabled"])
    request_id = graph.last_request_id
    enabled_now = False
    if user.get("accountEnabled") is False:
        request_id = graph.patch_user(requester.entra_object_id, {"accountEnabled": True})
        enabled_now = True
    requester.account_enabled = True
    if requester.status == "disabled":
        requester.status = "active"
    db.session.commit()
    return Outcome(request_id, "Your account is unlocked. You can sign in again.",
                   {"graph_request_id": request_id, "entra_account_re_enabled": enabled_now})


def disable(graph: GraphClient, requester: Requester) -> Outcome:
    """Block sign-in in Entra, revoke Microsoft sessions, mark the requester disabled and end portal sessions."""
    patch_id = graph.patch_user(requester.entra_object_id, {"accountEnabled": False})
    revoke_id = graph.revoke_sign_in_sessions(requester.entra_object_id)
    requester.account_enabled, requester.status, requester.updated_at = False, "disabled", datetime.now(UTC)
    db.session.commit()
    registry.end_for_requesters([requester.id], "account_disabled", signals.SYSTEM)
    return Outcome(revoke_id, "The account is disabled and signed out everywhere.",
                   {"graph_request_id": patch_id, "revoke_request_id": revoke_id})


RUN = {"force_password_reset": force_password_reset, "unlock": unlock, "disable": disable}


def already_done(action: str, graph: GraphClient, requester: Requester, since: datetime) -> bool | None:
    """After a crash with an unknown outcome: does the account already show the action? None = cannot tell."""
    user = graph.get_user(requester.entra_object_id, ["id", "accountEnabled", "lastPasswordChangeDateTime"])
    if action == "disable":
        return user.get("accountEnabled") is False
    if action == "unlock":
        return user.get("accountEnabled") is True and requester.locked_until is None
    changed = user.get("lastPasswordChangeDateTime")
    if not isinstance(changed, str):
        return None
    try:
        return datetime.fromisoformat(changed.replace("Z", "+00:00")).timestamp() >= since.timestamp() - 1
    except ValueError:
        return None
