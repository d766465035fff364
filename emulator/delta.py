"""GET /v1.0/users/delta: the initial round, then only changes since the deltaLink's token.

Tokens are sealed JSON. An initial round pages through every live user in id order and ends with a
deltaLink at the change-log position taken when the round began, so changes made during the round
are delivered again in the next one (delivery is at least once, as Graph's is). A changes round
folds every log entry since the token per user; properties outside the round's $select are not
tracked, so a change to them alone yields nothing.
"""
import time

from flask import g, request

from emulator.common import state
from emulator.directory import READ_ROLES, Tenant
from emulator.graph_common import (
    GraphFailure,
    graph_blueprint,
    json_response,
    page_users,
    render_user,
    require,
    select_fields,
)

bp = graph_blueprint("delta", __name__)

DEFAULT_PAGE = 200
MAX_PAGE = 999


def preferred_page_size() -> int:
    """Graph picks the page size; `Prefer: odata.maxpagesize=N` lowers or raises it up to 999."""
    prefer = request.headers.get("Prefer", "")
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isdigit():
            return max(1, min(MAX_PAGE, int(value)))
    return DEFAULT_PAGE


def _link(kind: str, payload: dict) -> str:
    param = "$deltatoken" if kind == "delta" else "$skiptoken"
    return f"{state().https_base}/v1.0/users/delta?{param}={state().seal(payload)}"


def token_payload(tenant: Tenant, resource: str = "users"):
    """Decode $skiptoken / $deltatoken of `resource`'s delta; unknown tokens are syncStateNotFound, stale ones
    resyncRequired (groups tokens carry "r": "groups", users tokens nothing, so neither is taken for the other)."""
    raw = request.args.get("$deltatoken") or request.args.get("$skiptoken")
    if raw is None:
        return None
    payload = state().unseal(raw)
    if payload is None or payload.get("t") != tenant.id or payload.get("r", "users") != resource:
        raise GraphFailure(400, "syncStateNotFound", "The sync state cannot be found or is invalid. Please restart "
                           "the delta query without a token.")
    if payload.get("e") != tenant.delta_epoch or time.time() - payload.get("iat", 0) > state().delta_token_ttl:
        raise GraphFailure(410, "resyncRequired", "Resync required. Replace any local cached data with the data "
                           "returned by a new delta query without a token.")
    return payload


@bp.get("/users/delta")
def users_delta():
    """Initial round, `$deltatoken=latest`, or the changes since a deltaLink."""
    require(READ_ROLES)
    tenant = g.tenant
    if request.args.get("$deltatoken") == "latest":
        fields = select_fields()
        return _finish(tenant, [], fields, tenant.seq)
    payload = token_payload(tenant)
    if payload is None:
        fields = select_fields()
        return _initial(tenant, fields, after=None, start_seq=tenant.seq)
    fields = payload["sel"]
    if payload["k"] == "initial":
        return _initial(tenant, fields, after=payload["after"], start_seq=payload["s"])
    return _changes(tenant, fields, since=payload["s"], upto=payload.get("u"), offset=payload.get("o", 0))


def _base(tenant: Tenant, fields: list | None) -> dict:
    return {"t": tenant.id, "e": tenant.delta_epoch, "sel": fields, "iat": time.time()}


def _finish(tenant: Tenant, values: list, fields, seq: int):
    body = {"@odata.context": f"{state().https_base}/v1.0/$metadata#users", "value": values + state().raw_users,
            "@odata.deltaLink": _link("delta", dict(_base(tenant, fields), k="changes", s=seq))}
    return json_response(body)


def _initial(tenant: Tenant, fields, after, start_seq):
    size = preferred_page_size()
    page, last = page_users(tenant, after, size, None)
    values = [_full(tenant, u, fields) for u in page]
    if last is not None:
        link = _link("skip", dict(_base(tenant, fields), k="initial", after=last, s=start_seq))
        return json_response({"@odata.context": f"{state().https_base}/v1.0/$metadata#users", "@odata.nextLink": link,
                              "value": values})
    return _finish(tenant, values, fields, start_seq)


def _full(tenant: Tenant, user, fields) -> dict:
    out = render_user(tenant, user, fields)
    if fields and "manager" in fields:
        out["manager@delta"] = [{"@odata.type": "#microsoft.graph.user", "id": user.manager_id}] if user.manager_id else []
    return out


def _changes(tenant: Tenant, fields, since: int, upto: int | None, offset: int):
    """Fold the log (since, upto] per user, in first-change order, and page through the result."""
    size = preferred_page_size()
    with tenant.lock:
        upto = tenant.seq if upto is None else upto
        folded: dict[str, dict] = {}
        for change in tenant.changes_since(since)[: upto - since]:
            entry = folded.setdefault(change.user_id, {"whole": False, "props": set()})
            if change.kind != "upsert" or change.properties is None:
                entry["whole"] = True
            else:
                entry["props"] |= change.properties
        items = [v for v in (_delta_item(tenant, uid, e, fields) for uid, e in folded.items()) if v is not None]
    page = items[offset:offset + size]
    if offset + size < len(items):
        link = _link("skip", dict(_base(tenant, fields), k="changes", s=since, u=upto, o=offset + size))
        return json_response({"@odata.context": f"{state().https_base}/v1.0/$metadata#users", "@odata.nextLink": link,
                              "value": page})
    return _finish(tenant, page, fields, upto)


def _delta_item(tenant: Tenant, user_id: str, entry: dict, fields):
    user = tenant.users.get(user_id)
    if user is None:
        return {"id": user_id, "@removed": {"reason": "deleted"}}
    if user.soft_deleted:
        return {"id": user_id, "@removed": {"reason": "changed"}}
    if entry["whole"]:
        return _full(tenant, user, fields)
    tracked = set(fields) if fields else set(DEFAULT_TRACKED)
    changed = entry["props"] & tracked
    if not changed:
        return None
    out = {"id": user_id}
    out.update({k: user.props.get(k) for k in sorted(changed) if k != "manager"})
    if "manager" in changed:
        out["manager@delta"] = [{"@odata.type": "#microsoft.graph.user", "id": user.manager_id}] if user.manager_id else []
    return out


DEFAULT_TRACKED = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                   "preferredLanguage", "surname", "userPrincipalName")
