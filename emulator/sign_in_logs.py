"""graph.microsoft.com v1.0 auditLogs/signIns: the recorded sign-ins with Graph's filters, paging, permission and licence."""
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import g, request

from emulator.common import state
from emulator.graph_common import GraphFailure, graph_blueprint, json_response

bp = graph_blueprint("sign_in_logs", __name__)
READ_ROLES = {"AuditLog.Read.All"}
MAX_TOP = 1000  # Microsoft: "The maximum and default page size is 1,000 objects"
DATE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z"
CLAUSE = re.compile(rf"^\s*(?:(createdDateTime)\s+(ge|le)\s+({DATE})|(appId|userId|userPrincipalName)\s+eq\s+"
                    r"'((?:[^']|'')*)')\s*$", re.IGNORECASE)
# Graph's own words: the error bodies seen from graph.microsoft.com for these cases.
PERMISSION_MISSING = "Calling principal does not have required MSGraph permissions AuditLog.Read.All"
NOT_PREMIUM = "Neither tenant is B2C or tenant doesn't have premium license"


def _authorize() -> None:
    """AuditLog.Read.All first (Directory.Read.All is not enough), then the tenant's Entra ID P1/P2 licence."""
    granted = set(g.claims.get("roles", [])) | set(g.claims.get("scp", "").split())
    if not granted & READ_ROLES:
        raise GraphFailure(403, "Authentication_MSGraphPermissionMissing", PERMISSION_MISSING)
    if not g.tenant.premium:
        raise GraphFailure(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", NOT_PREMIUM)


def parse_time(text: str) -> float:
    whole, _, fraction = text.rstrip("Zz").partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def parse_filter(raw: str | None):
    """createdDateTime ge|le, and appId, userId, userPrincipalName eq, joined by `and`; a predicate on events."""
    if not raw:
        return None
    tests = []
    for part in re.split(r"\s+and\s+", raw.strip(), flags=re.IGNORECASE):
        match = CLAUSE.match(part)
        if not match:
            raise GraphFailure(400, "BadRequest", "Invalid filter clause")
        date_prop, operator, moment, prop, value = match.groups()
        if date_prop:
            bound, at_least = parse_time(moment), operator.lower() == "ge"
            tests.append(lambda e, b=bound, ge=at_least: e["created"] >= b if ge else e["created"] <= b)
        else:
            key = {"appid": "appId", "userid": "userId", "userprincipalname": "userPrincipalName"}[prop.lower()]
            wanted = value.replace("''", "'").lower()
            tests.append(lambda e, k=key, w=wanted: (e["signIn"][k] or "").lower() == w)
    return lambda event: all(test(event) for test in tests)


def _top() -> int:
    raw = request.args.get("$top")
    if raw is None:
        return MAX_TOP
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOP:
        raise GraphFailure(400, "BadRequest", f"Invalid page size specified: '{raw}'. Must be between 1 and "
                           f"{MAX_TOP} inclusive.")
    return int(raw)


def _after() -> tuple | None:
    raw = request.args.get("$skiptoken")
    if not raw:
        return None
    token = state().unseal(raw)
    if not token or token.get("t") != g.tenant.id or not isinstance(token.get("k"), list):
        raise GraphFailure(400, "BadRequest", "The specified page token value has expired or is invalid.")
    return tuple(token["k"])


@bp.get("/auditLogs/signIns")
def list_sign_ins():
    """Newest first; $filter, $top (default and maximum 1,000) and an opaque sealed $skiptoken in @odata.nextLink."""
    _authorize()
    accept, top, after = parse_filter(request.args.get("$filter")), _top(), _after()
    events = state().sign_ins.newest_first(g.tenant.id)
    if after is not None:
        events = [e for e in events if (e["created"], e["seq"]) < after]
    page = []
    for event in events:
        if accept is None or accept(event):
            page.append(event)
            if len(page) > top:
                break
    body = {"@odata.context": f"{state().https_base}/v1.0/$metadata#auditLogs/signIns"}
    if len(page) > top:
        page = page[:top]
        last = page[-1]
        query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
        query["$skiptoken"] = state().seal({"t": g.tenant.id, "k": [last["created"], last["seq"]]})
        body["@odata.nextLink"] = f"{state().https_base}/v1.0/auditLogs/signIns?{urlencode(query)}"
    body["value"] = [e["signIn"] for e in page]
    return json_response(body)


@bp.get("/auditLogs/signIns/<sign_in_id>")
def get_sign_in(sign_in_id):
    """One event by id."""
    _authorize()
    for event in state().sign_ins.newest_first(g.tenant.id):
        if event["signIn"]["id"] == sign_in_id:
            return json_response(dict({"@odata.context": f"{state().https_base}/v1.0/$metadata#auditLogs/signIns/"
                                                         "$entity"}, **event["signIn"]))
    raise GraphFailure(404, "Request_ResourceNotFound", f"Resource '{sign_in_id}' does not exist.")
