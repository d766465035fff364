"""GET /v1.0/groups/delta: groups with `members@delta`, then only what changed since the deltaLink's token.

Tokens are sealed the way users/delta seals them (emulator/delta.py), marked as groups tokens. The initial round pages
through every group in id order, each with all its direct members; a changes round folds the log per group: a created
group whole, a changed one with only its changed $select-ed properties, membership changes as members@delta entries
(a removed member with "@removed": {"reason": "deleted"}), a deleted group as @removed ("changed" for a Microsoft 365
group, which goes to deleted items; "deleted" for a security group).
"""
import bisect
import re
import time

from flask import g, request

from emulator.common import state
from emulator.delta import preferred_page_size, token_payload
from emulator.directory import Tenant
from emulator.directory_objects import GROUP_READ_ROLES, GROUP_TYPE, USER_TYPE
from emulator.graph_common import GraphFailure, graph_blueprint, json_response, require
from emulator.group_store import GROUP, GROUP_PROPERTIES, Group

bp = graph_blueprint("groups_delta", __name__)
SELECTABLE = set(GROUP_PROPERTIES) | {"members"}
ID_EQ = re.compile(r"^\s*id\s+eq\s+'([^']+)'\s*$", re.I)
MAX_FILTER_IDS = 50  # Graph tracks at most 50 groups by id in one delta query


def _ids_filter() -> list | None:
    """`$filter=id eq 'a' or id eq 'b'` (up to 50) tracks only those groups; anything else is Graph's 400."""
    raw = request.args.get("$filter")
    if not raw:
        return None
    ids = []
    for part in re.split(r"\s+or\s+", raw.strip(), flags=re.I):
        match = ID_EQ.match(part)
        if not match:
            raise GraphFailure(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified "
                               f"for property of resource 'Group': {part.strip()}")
        ids.append(match.group(1))
    if len(ids) > MAX_FILTER_IDS:
        raise GraphFailure(400, "Request_UnsupportedQuery", f"The number of ids in the filter exceeds {MAX_FILTER_IDS}.")
    return sorted(set(ids))


def _fields() -> list | None:
    raw = request.args.get("$select")
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in SELECTABLE:
            raise GraphFailure(400, "Request_BadRequest",
                               f"Could not find a property named '{name}' on type 'microsoft.graph.group'.")
    return fields if "id" in fields else ["id", *fields]


def _link(kind: str, payload: dict) -> str:
    param = "$deltatoken" if kind == "delta" else "$skiptoken"
    return f"{state().https_base}/v1.0/groups/delta?{param}={state().seal(payload)}"


def _base(tenant: Tenant, fields) -> dict:
    return {"t": tenant.id, "r": "groups", "e": tenant.delta_epoch, "sel": fields, "ids": g.delta_ids,
            "iat": time.time()}


@bp.get("/groups/delta")
def groups_delta():
    """Initial round, `$deltatoken=latest`, or the changes since a deltaLink."""
    require(GROUP_READ_ROLES)
    tenant = g.tenant
    if request.args.get("$deltatoken") == "latest":
        g.delta_ids = _ids_filter()
        return _page(tenant, [], _fields(), None, done_seq=tenant.groups.seq)
    payload = token_payload(tenant, "groups")
    if payload is None:
        g.delta_ids = _ids_filter()
        return _initial(tenant, _fields(), after=None, start_seq=tenant.groups.seq)
    g.delta_ids = payload.get("ids")
    if payload["k"] == "initial":
        return _initial(tenant, payload["sel"], after=payload["after"], start_seq=payload["s"])
    return _changes(tenant, payload["sel"], since=payload["s"], upto=payload.get("u"), offset=payload.get("o", 0))


def _page(tenant: Tenant, values: list, fields, next_payload: dict | None, done_seq: int | None = None):
    body = {"@odata.context": f"{state().https_base}/v1.0/$metadata#groups"}
    if next_payload is not None:
        body["@odata.nextLink"] = _link("skip", dict(_base(tenant, fields), **next_payload))
    else:
        body["@odata.deltaLink"] = _link("delta", dict(_base(tenant, fields), k="changes", s=done_seq))
    body["value"] = values
    return json_response(body)


def _tracks_members(fields) -> bool:
    return not fields or "members" in fields


def _member_ref(tenant: Tenant, member_id: str, kind: str, removed: bool = False) -> dict:
    out = {"@odata.type": GROUP_TYPE if kind == GROUP else USER_TYPE, "id": member_id}
    if removed:
        out["@removed"] = {"reason": "deleted"}
    return out


def _full(tenant: Tenant, group: Group, fields) -> dict:
    out = {name: group.props.get(name) for name in (fields or GROUP_PROPERTIES) if name != "members"}
    if _tracks_members(fields):
        out["members@delta"] = [_member_ref(tenant, m, k) for m, k in group.members.items()
                                if k == GROUP or not tenant.users[m].soft_deleted]
    return out


def _initial(tenant: Tenant, fields, after, start_seq):
    size = preferred_page_size()
    store = tenant.groups
    with store.lock:
        ids = store.sorted_ids if g.delta_ids is None else [i for i in g.delta_ids if i in store.groups]
        index = bisect.bisect_right(ids, after) if after else 0
        page = [store.groups[i] for i in ids[index:index + size + 1]]
        values = [_full(tenant, gr, fields) for gr in page[:size]]
    if len(page) > size:
        return _page(tenant, values, fields, {"k": "initial", "after": page[size - 1].id, "s": start_seq})
    return _page(tenant, values, fields, None, done_seq=start_seq)


def _changes(tenant: Tenant, fields, since: int, upto: int | None, offset: int):
    """Fold the log (since, upto] per group, in first-change order, and page through the result."""
    size = preferred_page_size()
    store = tenant.groups
    with store.lock:
        upto = store.seq if upto is None else upto
        folded: dict[str, dict] = {}
        for change in store.changes_since(since)[: upto - since]:
            if g.delta_ids is not None and change.group_id not in g.delta_ids:
                continue
            entry = folded.setdefault(change.group_id, {"whole": False, "props": set(), "members": {},
                                                        "unified": False})
            if change.kind == "member":
                entry["members"][change.member[0]] = change.member[1]
            elif change.kind == "delete" or change.properties is None:
                entry["whole"], entry["unified"] = True, change.unified
            else:
                entry["props"] |= change.properties
        items = [v for v in (_item(tenant, gid, e, fields) for gid, e in folded.items()) if v is not None]
    if offset + size < len(items):
        return _page(tenant, items[offset:offset + size], fields, {"k": "changes", "s": since, "u": upto,
                                                                    "o": offset + size})
    return _page(tenant, items[offset:offset + size], fields, None, done_seq=upto)


def _item(tenant: Tenant, group_id: str, entry: dict, fields):
    group = tenant.groups.get(group_id)
    if group is None:
        return {"id": group_id, "@removed": {"reason": "changed" if entry["unified"] else "deleted"}}
    if entry["whole"]:
        return _full(tenant, group, fields)
    tracked = {f for f in fields if f != "members"} if fields else set(GROUP_PROPERTIES)
    changed = sorted(entry["props"] & tracked)
    out = {"id": group_id}
    out.update({name: group.props.get(name) for name in changed})
    if _tracks_members(fields) and entry["members"]:
        out["members@delta"] = [_member_ref(tenant, m, k, removed=m not in group.members)
                                for m, k in entry["members"].items()]
    return out if len(out) > 1 else None
