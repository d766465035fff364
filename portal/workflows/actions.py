"""The App Integration actions against Microsoft Graph: one class each, read by engine, runner, editor and pages.

Like CTFd's challenge types: `WorkflowAction` says what every action must carry, each subclass is one action,
and `ACTION_TYPES` is the registry keyed by the action key stored on workflow steps and action runs.
"""
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal import lockout, mail, signals
from portal.database import db
from portal.devices import registry
from portal.entra import permissions
from portal.entra.graph import GraphClient
from portal.exceptions import ApprovalRequired, UnknownAction
from portal.models import Requester
from portal.workflows.privileged import refuse_privileged

# The temporary password's alphabet leaves out characters people mistake for one another in a mail: 0 O o 1 l I.
CONFUSABLE = "0Oo1lI"
UPPER = "".join(c for c in string.ascii_uppercase if c not in CONFUSABLE)
LOWER = "".join(c for c in string.ascii_lowercase if c not in CONFUSABLE)
DIGITS = "".join(c for c in string.digits if c not in CONFUSABLE)
SYMBOLS = "!#$%*+-=?@^_"
# One GET answers every "already done?" question, so a settled run costs Graph exactly one request.
STATE_FIELDS = ["id", "accountEnabled", "lastPasswordChangeDateTime"]


@dataclass
class Outcome:
    """What happened: Graph's request id, a friendly line, admin detail, and (reset only) the mail to send."""

    request_id: str | None
    public: str
    detail: dict
    temporary_password: str | None = None


@dataclass(frozen=True)
class Settlement:
    """How a run ends when an earlier attempt's outcome was unknown and Graph shows the action done."""

    status: str
    public: str
    error: str | None = None
    error_code: str | None = None
    detail: dict = field(default_factory=dict)


def temporary_password(length: int = 16) -> str:
    """A strong one-time password with every character class (Entra needs 3 of 4), read off an email and typed
    without guessing: no 0/O/o, 1/l/I."""
    classes = [UPPER, LOWER, DIGITS, SYMBOLS]
    chars = [secrets.choice(c) for c in classes] + [secrets.choice("".join(classes)) for _ in range(length - 4)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


class WorkflowAction:
    """One kind of workflow action: its texts, the Graph permissions it needs, its check and its execute step."""

    key: str = ""
    label: str = ""
    description: str = ""  # what it does, shown in the workflow editor
    when: str = ""  # when to use it, shown in the workflow editor
    public: str = ""  # "Working on {public}…" on the requester's timeline
    features: tuple[str, ...] = ()  # keys of portal.entra.permissions.FEATURES
    sends_email: bool = False
    mail_template: str | None = None  # policy mail template key, for actions that send email
    mail_failed_public: str | None = None  # the requester's line when that email could not be sent

    def missing_permissions(self, roles) -> list[str]:
        """Labels of the features this action needs that the granted roles do not cover."""
        return permissions.missing_features(self.features, roles)

    def needs(self, exclude=()) -> list[str]:
        """What each feature needs, for the workflow editor and the ticket page ("label: permission or ...")."""
        return [f"{permissions.BY_KEY[k].label}: {permissions.BY_KEY[k].describe_need()}" for k in self.features
                if k not in exclude]

    def already_done(self, graph: GraphClient, requester: Requester, since: datetime) -> bool | None:
        """After a crash with an unknown outcome: does the account already show the action? None = cannot tell."""
        raise NotImplementedError

    def execute(self, graph: GraphClient, requester: Requester, *, approved: bool = False) -> Outcome:
        """Act on the account through Graph and return what to put on the ticket; `approved` says an admin approved
        this run (ApprovalRequired asks for that)."""
        raise NotImplementedError

    def mail_values(self, outcome: Outcome) -> dict:
        """Action-specific values for the mail template (besides name, ticket, portal and organisation)."""
        return {}

    def on_uncertain_done(self) -> Settlement:
        """A run whose earlier attempt Graph shows done simply succeeded."""
        return Settlement("succeeded", f"Done: {self.label}.", detail={"verified_after_restart": True})


def account_state(graph: GraphClient, requester: Requester) -> dict:
    """The Entra account fields the "already done?" checks read."""
    return graph.get_user(requester.entra_object_id, STATE_FIELDS)


class ForcePasswordReset(WorkflowAction):
    """Set a temporary password that must be changed at next sign-in, mail it, and end portal sessions."""

    key = "force_password_reset"
    label = "Force Password Reset on Next Login"
    description = ("Sets a temporary password, forces a new one at the next Microsoft sign-in, and emails the "
                   "temporary password.")
    when = "Credentials may be compromised, or after a security change."
    public = "resetting your password"
    features = ("reset_password", "read_roles")
    sends_email = True
    mail_template = "password_reset"
    mail_failed_public = "Your password was reset, but the email could not be sent. IT has been told and will help you."

    def already_done(self, graph, requester, since):
        """Done when Entra shows a password change since the uncertain attempt started."""
        changed = account_state(graph, requester).get("lastPasswordChangeDateTime")
        if not isinstance(changed, str):
            return None
        try:
            return datetime.fromisoformat(changed.replace("Z", "+00:00")).timestamp() >= since.timestamp() - 1
        except ValueError:
            return None

    def execute(self, graph, requester, *, approved=False):
        """Refuse an Entra admin, then set the temporary password in Entra and end the requester's portal sessions."""
        refuse_privileged(graph, requester, self.label)
        password = temporary_password()
        request_id = graph.patch_user(requester.entra_object_id, {"passwordProfile": {
            "forceChangePasswordNextSignIn": True, "password": password}})
        registry.end_for_requesters([requester.id], "password_reset", signals.SYSTEM)
        return Outcome(request_id, "Your password was reset. Check your email for a temporary password; Microsoft "
                       "will ask you to choose a new one when you sign in.",
                       {"graph_request_id": request_id, "sessions_ended": True}, password)

    def mail_values(self, outcome):
        """The temporary password goes into the mail, and nowhere else."""
        return {mail.SLOT: outcome.temporary_password}

    def on_uncertain_done(self):
        """The password changed but its mail was never sent: the temporary password is lost, so the run fails."""
        return Settlement("failed", "Your password was reset, but the email could not be sent. IT will send a new "
                          "temporary password.", error="The password was reset, but the process stopped before the "
                          "email was sent, so the temporary password is lost. Run the action again to send a new one.",
                          error_code="mail_not_sent", detail={"error": "unknown_outcome"})


class UnlockAccount(WorkflowAction):
    """Clear the portal lock (self-service); re-enable an Entra account disabled in the directory only with an
    admin's approval, so a disabled person's own ticket can never undo IT's decision."""

    key = "unlock"
    label = "Unlock User Account"
    description = ("Lifts the portal lock from failed sign-ins at once. Turning on an account that is disabled in the "
                   "directory waits for an admin's approval on the ticket. No email.")
    when = "The requester cannot get in because of a lockout."
    public = "unlocking your account"
    features = ("enable_disable",)

    def already_done(self, graph, requester, since):
        """Done when Entra shows the account enabled and the portal lock is gone."""
        return account_state(graph, requester).get("accountEnabled") is True and requester.locked_until is None

    def execute(self, graph, requester, *, approved=False):
        """Lift the portal lock (audited, committed first), read the account, then enable it only if approved; an
        account that was neither locked nor disabled is said to be so."""
        portal_locked = lockout.lift_requester_lock(requester, actor=signals.SYSTEM, reason="unlocked by a workflow")
        user = graph.get_user(requester.entra_object_id, ["id", "accountEnabled"])
        request_id = graph.last_request_id
        enabled_now = False
        if user.get("accountEnabled") is False and not approved:
            raise ApprovalRequired(
                "The account is disabled in Microsoft Entra ID. The portal lock is lifted; turning the account back "
                "on needs an admin's approval on this ticket.",
                public="Your Frontdesk lock is lifted. Your Microsoft account is turned off in the directory, so an "
                       "IT admin must approve turning it back on. You will see the result here.")
        if user.get("accountEnabled") is False:
            request_id = graph.patch_user(requester.entra_object_id, {"accountEnabled": True})
            enabled_now = True
        was_locked = portal_locked or enabled_now or requester.status == "disabled"
        requester.account_enabled = True
        if requester.status == "disabled":
            requester.status = "active"
        db.session.commit()
        public = ("Your account is unlocked. You can sign in again." if was_locked
                  else "Your account was not locked: you can sign in already.")
        return Outcome(request_id, public, {"graph_request_id": request_id, "entra_account_re_enabled": enabled_now,
                                            "was_locked": was_locked})


class DisableAccount(WorkflowAction):
    """Block sign-in in Entra, revoke Microsoft sessions, mark the requester disabled and end portal sessions."""

    key = "disable"
    label = "Disable (Lock) User Account"
    description = "Blocks sign-in until re-enabled, and signs the account out everywhere. No email."
    when = "A leaver, suspicious activity, or a compliance suspension."
    public = "disabling the account"
    features = ("enable_disable", "revoke_sessions", "read_roles")

    def already_done(self, graph, requester, since):
        """Done when Entra shows the account disabled."""
        return account_state(graph, requester).get("accountEnabled") is False

    def execute(self, graph, requester, *, approved=False):
        """Refuse an Entra admin; disable and revoke in Entra, then mark the requester disabled and end their portal
        sessions."""
        refuse_privileged(graph, requester, self.label)
        patch_id = graph.patch_user(requester.entra_object_id, {"accountEnabled": False})
        revoke_id = graph.revoke_sign_in_sessions(requester.entra_object_id)
        requester.account_enabled, requester.status, requester.updated_at = False, "disabled", datetime.now(UTC)
        db.session.commit()
        registry.end_for_requesters([requester.id], "account_disabled", signals.SYSTEM)
        return Outcome(revoke_id, "The account is disabled and signed out everywhere.",
                       {"graph_request_id": patch_id, "revoke_request_id": revoke_id})


class RevokeSessions(WorkflowAction):
    """Sign the account out of Microsoft everywhere and end every portal session; the account stays as it is."""

    key = "revoke_sessions"
    label = "Revoke Sign-in Sessions"
    description = ("Signs the account out of Microsoft everywhere (apps and browsers must sign in again) and ends "
                   "every Frontdesk session. The account stays enabled and the password unchanged. No email.")
    when = "A lost or stolen device, or a suspected stolen session, when the person keeps working."
    public = "signing the account out everywhere"
    features = ("revoke_sessions", "read_roles")

    def already_done(self, graph, requester, since):
        """Cannot tell (Graph shows no revocation time here); revoking again is harmless, so the run simply repeats."""
        return None

    def execute(self, graph, requester, *, approved=False):
        """Refuse an Entra admin, revoke in Entra, then end the requester's portal sessions."""
        refuse_privileged(graph, requester, self.label)
        request_id = graph.revoke_sign_in_sessions(requester.entra_object_id)
        ended = registry.end_for_requesters([requester.id], "sessions_revoked", signals.SYSTEM)
        return Outcome(request_id, "You are signed out everywhere. Sign in again on each device you use.",
                       {"graph_request_id": request_id, "portal_sessions_ended": ended})


# The order is the order the workflow editor offers them in.
ACTION_TYPES: dict[str, WorkflowAction] = {cls.key: cls() for cls in (ForcePasswordReset, UnlockAccount, DisableAccount,
                                                                      RevokeSessions)}


def action_type(key: str) -> WorkflowAction:
    """The registered action for a key, or UnknownAction naming the keys that exist."""
    try:
        return ACTION_TYPES[key]
    except KeyError:
        raise UnknownAction(f"There is no workflow action called {key!r}; the actions are "
                            f"{', '.join(ACTION_TYPES)}.") from None
