"""Every domain error in one Flask-free module: `code` is the machine code (ours, Microsoft's or Graph's),
`message` the plain-language text; the web layer (portal/errors.py) turns them into pages in one place."""
from dataclasses import dataclass


class PortalError(Exception):
    """A failure the person can act on; `message` is safe to show, `status` picks the page."""

    status = 400
    code = "bad_request"
    title = "Something is not right"

    def __init__(self, message: str, *, code: str | None = None, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.detail = detail or {}


class ValidationError(PortalError):
    """Input that cannot be used as given; `detail["errors"]` maps a field to its message."""

    code = "invalid_input"
    title = "Please check what you entered"


class MappingInvalid(ValidationError):
    """A field mapping breaks a rule; `errors` maps portal field to message."""

    code = "mapping_invalid"

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), detail={"errors": errors})
        self.errors = errors


class TargetNotAllowed(ValidationError):
    """The ticket names a person its service's target rule does not allow the raiser to act on."""

    code = "target_not_allowed"

    def __init__(self, message: str):
        super().__init__(message, detail={"errors": {"about": message}})


class NotFound(PortalError):
    """A thing that does not exist, or that this person may not know exists."""

    status = 404
    code = "not_found"
    title = "Not found"


class UnknownAction(NotFound):
    """A workflow action key that no action class is registered for (an old row, or a typo in code)."""

    code = "unknown_action"
    title = "Unknown workflow action"


class Conflict(PortalError):
    """The action clashes with the current state (already running, already exists)."""

    status = 409
    code = "conflict"
    title = "That cannot be done right now"


class InvalidCredentials(PortalError):
    """Wrong email or password; never says which."""

    status = 401
    code = "invalid_credentials"
    title = "Sign-in failed"


class DeviceLimitReached(PortalError):
    """The policy refuses a new sign-in at the device limit."""

    status = 403
    code = "device_limit"
    title = "Too many signed-in devices"


class MailError(PortalError):
    """Sending failed after the retries."""

    status = 502
    code = "mail_failed"
    title = "The email could not be sent"


class ApprovalRequired(PortalError):
    """The action would undo an admin's decision (re-enable an account disabled in the directory), so an admin must
    approve it first; `public` is the requester's line on the ticket."""

    status = 409
    code = "approval_required"
    title = "An admin must approve this"

    def __init__(self, message: str, *, public: str):
        super().__init__(message)
        self.public = public


class PrivilegedTarget(PortalError):
    """The target holds an Entra directory role: app-only access must not change an admin, so an Entra admin acts
    instead; `public` is the requester's line on the ticket, `roles` the role names."""

    status = 409
    code = "privileged_target"
    title = "An Entra admin must do this"

    def __init__(self, message: str, *, public: str, roles: list[str]):
        super().__init__(message, detail={"roles": roles})
        self.public, self.roles = public, roles


class UpstreamUnavailable(PortalError):
    """Microsoft, the database or another service could not be reached; trying again later may work."""

    status = 503
    code = "upstream_unavailable"
    title = "A service we depend on is not answering"


class SessionStoreUnavailable(UpstreamUnavailable):
    """The session store (Redis) is not answering: nobody can be signed in until it is back."""

    code = "session_store_unavailable"
    title = "Sign-in is unavailable for a moment"

    def __init__(self):
        super().__init__("Frontdesk cannot reach its session store, so it cannot keep you signed in right now. "
                         "Nothing was changed. Try again in a minute; if this goes on, tell your IT team.")


class EntraError(PortalError):
    """Getting a token from Microsoft failed; `code` says why in one word, `aadsts` is Microsoft's number."""

    status = 502
    title = "Microsoft sign-in for the app failed"

    def __init__(self, message, *, code, aadsts=None, correlation_id=None, description=None):
        super().__init__(message, code=code, detail={"aadsts": aadsts, "correlation_id": correlation_id})
        self.aadsts, self.correlation_id, self.description = aadsts, correlation_id, description

    @property
    def retryable(self) -> bool:
        """Network trouble and throttling pass; a wrong secret does not."""
        return self.code in ("network", "throttled")

    def support_info(self) -> dict:
        """What to keep for a support case: Microsoft's code and ids, never secrets."""
        return {"error_code": self.code, "aadsts": self.aadsts, "correlation_id": self.correlation_id,
                "description": (self.description or "")[:500]}


class GraphError(PortalError):
    """A Graph call failed for good; `code` is Graph's error code, `request_id` is kept for support."""

    status = 502
    title = "Microsoft Graph returned an error"

    def __init__(self, message, *, http_status=None, code=None, request_id=None, retryable=False):
        super().__init__(message, code=code or "graph_error",
                         detail={"http_status": http_status, "code": code, "request_id": request_id})
        self.http_status, self.request_id, self.retryable = http_status, request_id, retryable

    def support_info(self) -> dict:
        """Graph's code, status and request id for the admin and a support case."""
        return {"error_code": self.code, "http_status": self.http_status, "request_id": self.request_id}


class PermissionMissing(GraphError):
    """Microsoft refused a call for want of an application permission Frontdesk can name: `message` says which one
    and how to grant it, so nobody has to guess from a bare 403."""


@dataclass(frozen=True)
class Failure:
    """What a failed sign-in shows: a title, what happened, what to do next, and an HTTP status."""

    title: str
    message: str
    next_step: str
    status: int = 401
    retry: bool = True


FAILURES = {
    "cancelled": Failure("Sign-in cancelled", "You cancelled the Microsoft sign-in, or declined the permissions Frontdesk asked for.",
                         "Sign in again when you are ready.", 401),
    "not_assigned": Failure("Your account is not allowed to use Frontdesk",
                            "Microsoft says your account has not been given access to the Frontdesk app (AADSTS50105).",
                            "Ask your IT team to assign you to the Frontdesk app in Microsoft Entra ID.", 403, False),
    "disabled_at_microsoft": Failure("Your Microsoft account is disabled",
                                     "Microsoft refused the sign-in because your account is disabled (AADSTS50057).",
                                     "Contact your IT team: they can re-enable it.", 403, False),
    "locked_at_microsoft": Failure("Your Microsoft account is temporarily locked",
                                   "Microsoft locked your account after too many wrong passwords (AADSTS50053).",
                                   "Wait a few minutes and try again, or reset your password.", 403),
    "consent_required": Failure("Your organisation has not approved Frontdesk yet",
                                "Microsoft needs an administrator to consent to Frontdesk signing you in.",
                                "Ask your IT team to grant admin consent for the Frontdesk app.", 403, False),
    "interaction_required": Failure("Microsoft needs more from you",
                                    "Microsoft requires an extra step, such as multi-factor authentication.",
                                    "Sign in again and complete the step Microsoft asks for.", 401),
    "microsoft_error": Failure("Microsoft could not sign you in", "Microsoft returned an error.",
                               "Try again. If it keeps happening, give your IT team the reference below.", 401),
    "state_mismatch": Failure("This sign-in has expired", "The sign-in was started in another browser or tab, or took too long.",
                              "Press Try again to start a new sign-in.", 400),
    "expired_callback": Failure("This sign-in link has expired", "The answer from Microsoft was too old or was already used.",
                                "Start the sign-in again.", 400),
    "missing_code": Failure("The sign-in did not complete", "Microsoft's answer did not include a sign-in code.",
                            "Start the sign-in again.", 400),
    "invalid_response": Failure("The sign-in could not be verified",
                                "Microsoft's answer failed a security check (nonce or token), so it was not trusted.",
                                "Start the sign-in again. If it keeps happening, contact your IT team.", 400),
    "token_signature": Failure("The sign-in could not be verified",
                               "The sign-in token was not signed with your organisation's published Microsoft key, "
                               "so Frontdesk did not trust it.",
                               "Start the sign-in again. If it keeps happening, tell your IT team: someone may be "
                               "tampering with sign-ins.", 401),
    "token_expired": Failure("This sign-in token has expired",
                             "Microsoft's sign-in token had already expired when it reached Frontdesk. This also "
                             "happens when the clock of Frontdesk's server is wrong.",
                             "Start the sign-in again. If it keeps happening, ask your IT team to check the server's clock.", 401),
    "token_not_yet_valid": Failure("This sign-in token is not valid yet",
                                   "Microsoft's sign-in token is dated in the future, so the clocks of Frontdesk's "
                                   "server and Microsoft disagree.",
                                   "Try again in a few minutes. If it keeps happening, ask your IT team to check the server's clock.", 401),
    "token_issuer": Failure("The sign-in did not come from your organisation",
                            "The sign-in token names an issuer other than your organisation's Microsoft Entra ID.",
                            "Press Try again to start a new sign-in. If it keeps happening, contact your IT team.", 401),
    "token_audience": Failure("The sign-in was meant for another app",
                              "Microsoft issued this sign-in token to a different application, so Frontdesk cannot use it.",
                              "Press Try again to start a new sign-in. If it keeps happening, contact your IT team.", 401),
    "token_nonce": Failure("This sign-in belongs to another attempt",
                           "The sign-in token was issued for a different sign-in than the one this browser started, "
                           "so it may have been copied or replayed.",
                           "Start the sign-in again from this page.", 401),
    "token_claims": Failure("The sign-in token is incomplete",
                            "Microsoft's sign-in token lacks details Frontdesk needs to know who you are "
                            "(such as your account or organisation id).",
                            "Start the sign-in again. If it keeps happening, contact your IT team.", 401),
    "wrong_tenant": Failure("That account belongs to another organisation",
                            "You signed in with a Microsoft account from a different organisation than this portal uses.",
                            "Sign in again with your work account.", 403),
    "not_synced": Failure("Your account is not set up in Frontdesk",
                          "You signed in with Microsoft, but you are not a requester in Frontdesk yet.",
                          "Your organisation's admin must sync you from Microsoft Entra ID. Contact your IT team.", 403, False),
    "portal_disabled": Failure("Your Frontdesk access is turned off",
                               "Your account is disabled in Microsoft Entra ID, so Frontdesk does not let you in.",
                               "Contact your IT team if you think this is a mistake.", 403, False),
    "portal_deleted": Failure("Your Frontdesk access has been removed",
                              "Your account was removed from Microsoft Entra ID, so Frontdesk does not let you in.",
                              "Contact your IT team if you think this is a mistake.", 403, False),
    "locked": Failure("Your Frontdesk account is temporarily locked", "There were too many failed sign-ins.",
                      "Try again after the time shown, or ask your IT team to unlock you.", 403, False),
    "device_limit": Failure("Too many signed-in devices",
                            "You are already signed in on the most devices your organisation allows.",
                            "Sign out on another device (My devices), then sign in here again.", 403),
    "unavailable": Failure("Microsoft cannot be reached right now",
                           "Frontdesk could not talk to Microsoft to finish your sign-in. Nothing is wrong with your account.",
                           "Wait a minute and try again.", 503),
    "not_an_admin": Failure("You are not a Frontdesk admin",
                            "Microsoft signed you in, but Entra gives your account no admin role for Frontdesk: "
                            "neither the Frontdesk.Admin app role nor membership of a group mapped on the Roles page.",
                            "Ask your IT team to assign you the role in Entra. Requesters sign in on the main "
                            "sign-in page.", 403, False),
    "admin_email_taken": Failure("A local admin account already uses this address",
                                 "Frontdesk will not link a Microsoft account to a local admin account by email.",
                                 "Sign in with the local account, or ask another admin to rename it first.", 409, False),
    "not_same_admin": Failure("That was a different account",
                              "To confirm a security change you must sign in again as the admin who is signed in here.",
                              "Go back and confirm with your own Microsoft account.", 403, False),
    "not_reauthenticated": Failure("Microsoft did not ask for your password again",
                                   "To confirm a security change Frontdesk needs a fresh Microsoft sign-in, and this "
                                   "one came from an earlier session.",
                                   "Go back and press Confirm with Microsoft again, then enter your password.", 401),
    "integration_unavailable": Failure("Microsoft sign-in is not available",
                                       "This sign-in option is not set up or not verified.",
                                       "Use another sign-in option, or contact your IT team.", 404, False),
}


class SignInFailed(PortalError):
    """A requester sign-in failure of a known kind (`code`); `until` is set for portal lockouts."""

    def __init__(self, code: str, *, reason: str | None = None, requester=None, until=None, counted: bool = True):
        self.failure = FAILURES[code]
        super().__init__(self.failure.message, code=code)
        self.status, self.title = self.failure.status, self.failure.title
        self.reason, self.requester, self.until, self.counted = reason, requester, until, counted
