"""Entra's sign-in logs (GET /auditLogs/signIns): reading them page by page, and making each entry safe to store.

Microsoft documents the `signIn` resource; anything that does not fit it (a missing id, a non-string time, a wrong
type) is skipped and counted, never stored half-read.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.entra.graph import GraphClient

PAGE_SIZE = 1000  # Microsoft's maximum $top for sign-ins
WRONG_PASSWORD, LOCKED, DISABLED, UNKNOWN_USER = 50126, 50053, 50057, 50034
# What each code means for the person, in plain words (Microsoft's failureReason is kept too).
PLAIN_REASONS = {
    0: "Signed in",
    50126: "Wrong password",
    50053: "Locked at Microsoft after too many wrong passwords",
    50057: "Account disabled in the directory",
    50055: "Password expired",
    50074: "Multi-factor authentication required",
    50076: "Multi-factor authentication required",
    50034: "No such account in the directory",
    50140: "Interrupted: asked to stay signed in",
    65004: "Cancelled at Microsoft",
    70044: "Session expired: signed out by an admin or a password change",
    50173: "Signed out after a password change",
    53003: "Blocked by a Conditional Access policy",
    7000222: "The app's client secret has expired",
}


def plain_reason(code: int, microsoft_text: str | None = None) -> str:
    """The person-readable reason for an AADSTS code, falling back to Microsoft's own text."""
    return PLAIN_REASONS.get(code) or microsoft_text or f"Refused by Microsoft (AADSTS{code})"


def read_sign_ins(graph: GraphClient, since: datetime, app_id: str) -> Iterator[dict]:
    """Every sign-in of our app since `since`, newest first, following @odata.nextLink."""
    moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"$filter": f"createdDateTime ge {moment} and appId eq '{app_id}'", "$top": str(PAGE_SIZE)}
    for page in graph.pages("/auditLogs/signIns", params):
        value = page.get("value")
        yield from value if isinstance(value, list) else []


@dataclass(frozen=True)
class ParsedSignIn:
    """One sign-in log entry, with the fields Frontdesk keeps."""

    microsoft_id: str
    created_at: datetime
    error_code: int
    failure_reason: str | None
    user_object_id: str | None
    user_principal_name: str | None
    user_display_name: str | None
    ip_address: str | None
    browser: str | None
    operating_system: str | None
    city: str | None
    country: str | None
    client_app: str | None
    interactive: bool | None
    correlation_id: str | None


def parse(raw) -> ParsedSignIn | None:
    """A `signIn` entry as Frontdesk stores it, or None when it lacks an id or a readable time."""
    if not isinstance(raw, dict) or not _text(raw.get("id"), 64):
        return None
    created = _moment(raw.get("createdDateTime"))
    if created is None:
        return None
    status, device, place = (_dict(raw.get(k)) for k in ("status", "deviceDetail", "location"))
    code = status.get("errorCode")
    return ParsedSignIn(
        raw["id"], created, code if isinstance(code, int) and not isinstance(code, bool) else -1,
        _text(status.get("failureReason")), _text(raw.get("userId"), 36), _text(raw.get("userPrincipalName")),
        _text(raw.get("userDisplayName")), _text(raw.get("ipAddress"), 64), _text(device.get("browser")),
        _text(device.get("operatingSystem")), _text(place.get("city")), _text(place.get("countryOrRegion"), 8),
        _text(raw.get("clientAppUsed")), raw.get("isInteractive") if isinstance(raw.get("isInteractive"), bool) else None,
        _text(raw.get("correlationId"), 64))


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


FREE_TEXT_MAX = 4096  # far beyond anything Microsoft sends in these fields; a bigger value is malformed


def _text(value, limit: int = FREE_TEXT_MAX) -> str | None:
    """A clean string or None: empty, non-string, NUL-bearing or over-long values are dropped whole, never cut."""
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > limit:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
