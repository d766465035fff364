"""One tenant's groups: properties, direct members (users or groups, so groups nest) and the log behind groups/delta."""
import bisect
import uuid
from dataclasses import dataclass, field

USER, GROUP = "user", "group"
USER_AND_GROUP = (USER, GROUP)
# Properties Graph returns on GET /groups without $select (the ones the emulator models).
GROUP_PROPERTIES = ("id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName",
                    "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname",
                    "membershipRule", "onPremisesSyncEnabled", "proxyAddresses", "renewedDateTime", "securityEnabled",
                    "visibility")
WRITABLE_GROUP_PROPERTIES = frozenset({"description", "displayName", "groupTypes", "mail", "mailEnabled",
                                       "mailNickname", "securityEnabled", "visibility", "isAssignableToRole"})


@dataclass
class Group:
    """A security or Microsoft 365 group and its direct members (member id -> USER or GROUP, in the order added)."""

    props: dict
    members: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.props["id"]

    @property
    def unified(self) -> bool:
        return "Unified" in (self.props.get("groupTypes") or [])


@dataclass
class GroupChange:
    """One log entry: a group created or changed (properties None = whole object), deleted, or a member change."""

    seq: int
    group_id: str
    kind: str  # "upsert", "delete", "member"
    properties: frozenset | None = None
    member: tuple | None = None  # (member id, USER or GROUP)
    unified: bool = False  # for "delete": a Microsoft 365 group goes to deleted items, a security group is gone


def group_props(props: dict, created: str = "2026-01-01T00:00:00Z") -> dict:
    """Graph's full property set for a new group: security by default, Microsoft 365 when groupTypes has Unified."""
    unified = "Unified" in (props.get("groupTypes") or [])
    out = dict.fromkeys(GROUP_PROPERTIES)
    out.update(groupTypes=[], securityEnabled=not unified, mailEnabled=unified, proxyAddresses=[],
               createdDateTime=created, renewedDateTime=created, isAssignableToRole=None,
               visibility="Private" if unified else None)
    out.update({k: v for k, v in props.items() if k in GROUP_PROPERTIES})
    out.setdefault("id", None)
    out["id"] = out["id"] or str(uuid.uuid4())
    if not out.get("displayName"):
        raise ValueError("displayName is required")
    if not out.get("mailNickname"):
        out["mailNickname"] = "".join(c for c in out["displayName"] if c.isalnum() or c in "-_.") or "group"
    return out


class GroupStore:
    """Groups of one tenant, guarded by the tenant's lock; every change is logged for groups/delta."""

    def __init__(self, lock):
        self.lock = lock
        self.groups: dict[str, Group] = {}
        self.sorted_ids: list[str] = []
        self.parents: dict[str, set] = {}  # member id -> ids of the groups it is a direct member of
        self.changes: list[GroupChange] = []
        self.seq = 0

    def _log(self, group_id: str, kind: str, properties=None, member=None, unified=False) -> None:
        self.seq += 1
        self.changes.append(GroupChange(self.seq, group_id, kind, frozenset(properties) if properties else None, member,
                                        unified))

    def changes_since(self, seq: int) -> list[GroupChange]:
        """Entries after `seq` (entry i has seq i + 1)."""
        return self.changes[seq:]

    def get(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def add(self, props: dict, *, log: bool = True) -> Group:
        """Create a group from Graph properties (see group_props)."""
        with self.lock:
            group = Group(group_props(props))
            if group.id in self.groups:
                raise ValueError(f"Another object with the same value for property id already exists: {group.id}")
            self.groups[group.id] = group
            bisect.insort(self.sorted_ids, group.id)
            if log:
                self._log(group.id, "upsert")
            return group

    def update(self, group: Group, changes: dict) -> None:
        with self.lock:
            changed = {k for k, v in changes.items() if group.props.get(k) != v}
            group.props.update(changes)
            if changed:
                self._log(group.id, "upsert", changed)

    def delete(self, group: Group) -> None:
        """Delete a group: it leaves the groups it was in, and its members lose it as a parent."""
        with self.lock:
            for parent_id in sorted(self.parents.pop(group.id, set())):
                self.remove_member(self.groups[parent_id], group.id)
            for member_id in group.members:
                self.parents.get(member_id, set()).discard(group.id)
            del self.groups[group.id]
            self.sorted_ids.pop(bisect.bisect_left(self.sorted_ids, group.id))
            self._log(group.id, "delete", unified=group.unified)

    def add_member(self, group: Group, member_id: str, kind: str, *, log: bool = True) -> None:
        """Add a user or a group; already a member, or a group inside itself, is Graph's 400."""
        with self.lock:
            if member_id in group.members:
                raise ValueError("One or more added object references already exist for the following modified "
                                 "properties: 'members'.")
            if kind == GROUP and (member_id == group.id or group.id in self.transitive_members(member_id, USER_AND_GROUP)):
                raise ValueError("A group cannot be a member of itself, directly or through nested groups.")
            group.members[member_id] = kind
            self.parents.setdefault(member_id, set()).add(group.id)
            if log:
                self._log(group.id, "member", member=(member_id, kind))

    def remove_member(self, group: Group, member_id: str) -> None:
        with self.lock:
            kind = group.members.pop(member_id, None)
            if kind is None:
                raise LookupError(f"{member_id} is not a member of group {group.id}")
            self.parents.get(member_id, set()).discard(group.id)
            self._log(group.id, "member", member=(member_id, kind))

    def forget(self, member_id: str) -> None:
        """A member deleted for good leaves every group it was in."""
        with self.lock:
            for parent_id in sorted(self.parents.get(member_id, set())):
                self.remove_member(self.groups[parent_id], member_id)
            self.parents.pop(member_id, None)

    # -- nesting -------------------------------------------------------------------------------------
    def member_of(self, member_id: str) -> list[str]:
        """Ids of the groups the object is a direct member of (in id order)."""
        with self.lock:
            return sorted(self.parents.get(member_id, ()))

    def transitive_member_of(self, member_id: str) -> list[str]:
        """Ids of every group the object is in, directly or through nested groups: nearest first, each once."""
        with self.lock:
            seen, queue, out = set(), self.member_of(member_id), []
            while queue:
                group_id = queue.pop(0)
                if group_id in seen:
                    continue
                seen.add(group_id)
                out.append(group_id)
                queue.extend(self.member_of(group_id))
            return out

    def transitive_members(self, group_id: str, kinds=(USER,)) -> list[tuple[str, str]]:
        """(id, kind) of every member reached through nested groups, breadth first, each once."""
        with self.lock:
            seen, out, queue = {group_id}, [], [group_id]
            while queue:
                group = self.groups.get(queue.pop(0))
                for member_id, kind in (group.members.items() if group else ()):
                    if member_id in seen:
                        continue
                    seen.add(member_id)
                    if kind in kinds:
                        out.append((member_id, kind))
                    if kind == GROUP:
                        queue.append(member_id)
            return out

