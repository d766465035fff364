"""graph.microsoft.com v1.0 groups: list ($select, $filter, $search, $count, $top), one group, members (direct and
transitive, with type casts) and their $count. Every route needs GroupMember.Read.All, Group.Read.All or
Directory.Read.All (groups/delta lives in groups_delta.py)."""
import bisect
import re
from urllib.parse import quote, urlencode

from flask import Response, g, request

from emulator.common import state
from emulator.directory import USER_PROPERTIES
from emulator.directory_objects import (
    GROUP_READ_ROLES,
    find_group_or_404,
    paged,
    render_group,
    render_member,
    select_for,
    wants_count,
)
from emulator.graph_common import GraphFailure, graph_blueprint, json_response, page_size, require, require_eventual
from emulator.group_store import GROUP, GROUP_PROPERTIES, USER, USER_AND_GROUP, Group

bp = graph_blueprint("groups", __name__)
_STRING = r"'((?:[^']|'')*)'"
STARTSWITH = re.compile(rf"^startswith\(\s*(displayName|mail|mailNickname|description)\s*,\s*{_STRING}\s*\)$", re.I)
EQ = re.compile(rf"^(id|displayName|mail|mailNickname|securityEnabled|mailEnabled)\s+eq\s+({_STRING}|true|false)$", re.I)
IN = re.compile(rf"^id\s+in\s+\(\s*({_STRING}(?:\s*,\s*{_STRING})*)\s*\)$", re.I)
ANY = re.compile(rf"^groupTypes/any\(\s*(\w+)\s*:\s*\1\s+eq\s+{_STRING}\s*\)$", re.I)
SEARCH = re.compile(r'^"(displayName|description|mail|mailNickname):([^"]*)"$', re.I)
PROPERTY_NAMES = {name.lower(): name for name in GROUP_PROPERTIES}
MEMBER_PROPERTIES = USER_PROPERTIES | set(GROUP_PROPERTIES)


def _unquote(value: str) -> str:
    return value[1:-1].replace("''", "'")


def _clause(part: str):
    """One $filter clause as a predicate on a group's properties, or Graph's 400."""
    text = part.strip()
    if match := STARTSWITH.match(text):
        name, prefix = PROPERTY_NAMES[match.group(1).lower()], match.group(2).replace("''", "'").lower()
        return lambda p: (p.get(name) or "").lower().startswith(prefix)
    if match := EQ.match(text):
        name, raw = PROPERTY_NAMES[match.group(1).lower()], match.group(2)
        if raw.lower() in ("true", "false"):
            return lambda p: p.get(name) is (raw.lower() == "true")
        value = _unquote(raw)
        return lambda p: (p.get(name) or "").lower() == value.lower() if name != "id" else p.get("id") == value
    if match := IN.match(text):
        ids = {v.replace("''", "'") for v in re.findall(_STRING, match.group(1))}
        return lambda p: p.get("id") in ids
    if match := ANY.match(text):
        wanted = match.group(2).lower()
        return lambda p: any(t.lower() == wanted for t in p.get("groupTypes") or [])
    raise GraphFailure(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for "
                       f"property of resource 'Group': {text}")


def _filter():
    raw = request.args.get("$filter")
    if not raw:
        return None
    predicates = [_clause(part) for part in re.split(r"\s+and\s+", raw.strip(), flags=re.I)]
    return lambda p: all(pred(p) for pred in predicates)


def _search():
    """$search="prop:term" clauses joined by OR/AND: a term matches at the start of any word, as Graph tokenizes."""
    raw = request.args.get("$search")
    if raw is None:
        return None
    require_eventual("$search")
    parts = re.split(r"\s+(OR|AND)\s+", raw.strip())
    tests, joins = [], parts[1::2]
    for clause in parts[0::2]:
        match = SEARCH.match(clause)
        if not match:
            raise GraphFailure(400, "Request_UnsupportedQuery", f"Syntax error: invalid $search clause '{clause}'. "
                               'Use "property:value", such as "displayName:sales".')
        name, term = PROPERTY_NAMES[match.group(1).lower()], match.group(2).lower()
        tests.append(lambda p, n=name, t=term: _word_prefix(p.get(n) or "", t))

    def accept(props):
        result = tests[0](props)
        for join, test in zip(joins, tests[1:], strict=True):
            result = (result or test(props)) if join == "OR" else (result and test(props))
        return result
    return accept


def _word_prefix(value: str, term: str) -> bool:
    value = value.lower()
    return not term or any(i == 0 or not value[i - 1].isalnum() for i in _find_all(value, term))


def _find_all(value: str, term: str):
    start = value.find(term)
    while start != -1:
        yield start
        start = value.find(term, start + 1)


def _context(fields, entity="groups") -> str:
    return f"{state().https_base}/v1.0/$metadata#{entity}" + (f"({','.join(fields)})" if fields else "")


def _accept():
    """$filter and $search together, as one predicate on a group."""
    predicates = [p for p in (_filter(), _search()) if p]
    return lambda group: all(pred(group.props) for pred in predicates)


@bp.get("/groups/$count")
def count_groups():
    """Plain-text count of the groups $filter/$search select; needs ConsistencyLevel: eventual."""
    require(GROUP_READ_ROLES)
    require_eventual()
    accept = _accept()
    with g.tenant.lock:
        return Response(str(sum(1 for gr in g.tenant.groups.groups.values() if accept(gr))), mimetype="text/plain")


@bp.get("/groups")
def list_groups():
    """Groups in id order, keyset paged; $filter and $search combine; $count=true adds @odata.count."""
    require(GROUP_READ_ROLES)
    store, fields, top, accept = g.tenant.groups, select_for(GROUP_PROPERTIES, "group"), page_size(), _accept()
    after = None
    if request.args.get("$skiptoken"):
        token = state().unseal(request.args["$skiptoken"])
        if not token or "after" not in token:
            raise GraphFailure(400, "Request_BadRequest", "The specified page token value has expired or is invalid.")
        after = token["after"]
    body = {"@odata.context": _context(fields)}
    with store.lock:
        if wants_count():
            body["@odata.count"] = sum(1 for gr in store.groups.values() if accept(gr))
        index = bisect.bisect_right(store.sorted_ids, after) if after else 0
        found = []
        while index < len(store.sorted_ids) and len(found) <= top:
            group = store.groups[store.sorted_ids[index]]
            index += 1
            if accept(group):
                found.append(group)
    if len(found) > top:
        found = found[:top]
        query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
        query["$skiptoken"] = state().seal({"after": found[-1].id})
        body["@odata.nextLink"] = f"{state().https_base}/v1.0/groups?{urlencode(query)}"
    body["value"] = [render_group(gr, fields) for gr in found]
    return json_response(body)


@bp.get("/groups/<key>")
def get_group(key):
    require(GROUP_READ_ROLES)
    fields = select_for(GROUP_PROPERTIES, "group")
    body = {"@odata.context": _context(fields) + "/$entity"}
    body.update(render_group(find_group_or_404(key), fields))
    return json_response(body)


# -- members -------------------------------------------------------------------------------------
RELATIONS = {"members", "transitiveMembers"}
CASTS = {None: USER_AND_GROUP, "microsoft.graph.user": (USER,), "microsoft.graph.group": (GROUP,)}


def _members(group: Group, relation: str, kinds) -> list[tuple[str, str]]:
    """Direct or transitive (each once) members of the given kinds; soft-deleted users are not members."""
    tenant = g.tenant
    with tenant.lock:
        if relation == "members":
            items = [(m, k) for m, k in group.members.items() if k in kinds]
        else:
            items = tenant.groups.transitive_members(group.id, kinds)
        return [(m, k) for m, k in items if k == GROUP or not tenant.users[m].soft_deleted]


def _resolve(key: str, relation: str, cast: str | None):
    require(GROUP_READ_ROLES)
    if relation not in RELATIONS or cast not in CASTS:
        raise GraphFailure(400, "Request_BadRequest", f"Invalid request: unsupported path {request.path}")
    return _members(find_group_or_404(key), relation, CASTS[cast])


@bp.get("/groups/<key>/<relation>")
@bp.get("/groups/<key>/<relation>/<cast>")
def list_members(key, relation, cast=None):
    """Members as directoryObjects with @odata.type, or cast to users or groups (then typed by the context)."""
    items = _resolve(key, relation, cast)
    if cast is None:
        fields = select_for(MEMBER_PROPERTIES, "directoryObject")
        context = "directoryObjects" + (f"({','.join(fields)})" if fields else "")
    elif cast == "microsoft.graph.user":
        fields = select_for(USER_PROPERTIES, "user")
        context = "users" + (f"({','.join(fields)})" if fields else "")
    else:
        fields = select_for(GROUP_PROPERTIES, "group")
        context = "groups" + (f"({','.join(fields)})" if fields else "")
    path = f"groups/{quote(key)}/{relation}" + (f"/{cast}" if cast else "")
    return json_response(paged(items, page_size(), path, context,
                               lambda item: render_member(item[0], item[1], fields, typed=cast is None)))


@bp.get("/groups/<key>/<relation>/$count")
@bp.get("/groups/<key>/<relation>/<cast>/$count")
def count_members(key, relation, cast=None):
    """Plain-text count; needs ConsistencyLevel: eventual."""
    require_eventual()
    return Response(str(len(_resolve(key, relation, cast))), mimetype="text/plain")
