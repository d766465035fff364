"""Turns one sign-in attempt into a signIn event shaped as Entra's log shows it, so identity.py only says what happened."""
import re
import time
import uuid
from datetime import UTC, datetime

from flask import g, request

from emulator.common import state
from emulator.directory import Tenant, User
from emulator.tokens import GRAPH_APP_ID

# failureReason as the sign-in log words it (it differs from the text the sign-in page shows); other codes reuse
# the description the emulator returned.
REASONS = {
    50126: "Error validating credentials due to invalid username or password.",
    50053: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
    50057: "User account is disabled. The account has been disabled by an administrator.",
    50034: "The user account does not exist in the directory. To sign into this application, the account must be "
           "added to the directory.",
    50076: "Due to a configuration change made by your administrator, or because you moved to a new location, you "
           "must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
    65004: "User declined to consent to access the app.",
    50058: "Session information is not sufficient for single-sign-on.",
}
DETAILS = {
    50126: "The user didn't enter the right credentials. It's expected to see some number of these errors in your "
           "logs due to users making mistakes.",
    50053: "The account is locked because of too many failed sign-in attempts (smart lockout).",
}
LOOPBACK_LOCATION = {"city": "Redmond", "state": "Washington", "countryOrRegion": "US",
                     "geoCoordinates": {"altitude": None, "latitude": 47.6805, "longitude": -122.1209}}
BROWSERS = (("Edge", r"Edg(?:e|A|iOS)?/([\d.]+)"), ("Firefox", r"Firefox/([\d.]+)"), ("Chrome", r"Chrome/([\d.]+)"),
            ("Safari", r"Version/([\d.]+).*Safari/"))
SYSTEMS = (("Windows 10", "Windows NT 10.0"), ("Ios", "iPhone"), ("Ios", "iPad"), ("Android", "Android"),
           ("MacOs", "Mac OS X"), ("Linux", "Linux"), ("Windows", "Windows"))


def device_detail(user_agent: str) -> dict:
    """Browser and operating system from a User-Agent, simply (first match wins, as the lists are ordered)."""
    browser = ""
    for name, pattern in BROWSERS:
        match = re.search(pattern, user_agent)
        if match:
            browser = f"{name} {match.group(1)}"
            break
    if not browser and user_agent:
        product = user_agent.split()[0]
        browser = product.replace("/", " ", 1)
    system = next((name for name, marker in SYSTEMS if marker in user_agent), "")
    return {"deviceId": "", "displayName": "", "operatingSystem": system, "browser": browser,
            "isCompliant": False, "isManaged": False, "trustType": ""}


def iso(timestamp: float) -> str:
    """createdDateTime as Graph writes it: UTC, seven fractional digits, Z."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def build(tenant: Tenant, *, app_id: str, error_code: int, user: User | None = None, typed: str = "",
          description: str | None = None, interactive: bool = True, created: float | None = None,
          ip_address: str = "127.0.0.1", user_agent: str = "", correlation_id: str | None = None,
          client_app: str | None = None) -> tuple[float, dict]:
    """The event's time and its Graph JSON; `user` None means Entra could not tell who it was (userId empty)."""
    app = tenant.apps.get(app_id)
    created = time.time() if created is None else created
    reason = None if error_code == 0 else REASONS.get(error_code, description or "Other.")
    sign_in = {
        "id": str(uuid.uuid4()), "createdDateTime": iso(created),
        "userDisplayName": user.props.get("displayName") if user else "",
        "userPrincipalName": user.props["userPrincipalName"] if user else typed, "userId": user.id if user else "",
        "appId": app_id, "appDisplayName": app.display_name if app else "", "ipAddress": ip_address,
        "clientAppUsed": client_app or ("Browser" if interactive else "Mobile Apps and Desktop clients"),
        "correlationId": correlation_id or str(uuid.uuid4()), "conditionalAccessStatus": "notApplied",
        "isInteractive": interactive, "riskDetail": "none", "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none", "riskState": "none", "riskEventTypes": [], "riskEventTypes_v2": [],
        "resourceDisplayName": "Microsoft Graph", "resourceId": GRAPH_APP_ID,
        "status": {"errorCode": error_code, "failureReason": reason, "additionalDetails": DETAILS.get(error_code)},
        "deviceDetail": device_detail(user_agent), "location": dict(LOOPBACK_LOCATION),
        "appliedConditionalAccessPolicies": [],
    }
    return created, sign_in


def record(tenant: Tenant, app_id: str, error_code: int, *, user: User | None = None, typed: str = "",
           description: str | None = None, interactive: bool = True) -> None:
    """Record the attempt the current request made (address, User-Agent and request id from the request)."""
    created, sign_in = build(tenant, app_id=app_id or "", error_code=error_code, user=user, typed=typed or "",
                             description=description, interactive=interactive, ip_address=request.remote_addr or "",
                             user_agent=request.headers.get("User-Agent", ""), correlation_id=g.get("request_id"))
    state().sign_ins.add(tenant.id, created, sign_in)


def record_token_attempt(tenant: Tenant, response) -> None:
    """A refused user-flow token request, as a non-interactive failure.

    Not client_credentials (service principal sign-ins, which v1.0's list leaves out), not throttling or injected
    faults, and not a successful code redemption: the interactive sign-in that issued the code is already logged.
    """
    form = request.form
    if form.get("grant_type") == "client_credentials" or not 400 <= response.status_code < 429:
        return
    body = response.get_json(silent=True) or {}
    error_code = (body.get("error_codes") or [0])[0]
    code = state().codes.get(form.get("code", ""))
    user = tenant.find_user(code.user_id, include_deleted=True) if code and code.tenant_id == tenant.id else None
    if user is None and form.get("username"):
        user = tenant.find_user(form["username"])
    app_id = form.get("client_id") or (request.authorization.username if request.authorization else "")
    description = body.get("error_description", "").split(": ", 1)[-1].split(" Trace ID:")[0] or None
    record(tenant, app_id, error_code, user=user, typed=form.get("username", ""), description=description,
           interactive=False)
