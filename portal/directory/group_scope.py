"""Group-scoped sync: only the (nested) members of chosen groups become requesters, and nobody else is read.

A full run pages each chosen group's transitive user members with the mapped $select (deduplicated across groups), so
the tenant is never listed. A delta run first reads groups/delta (members@delta): when a chosen group, or a group nested
in one, changed membership or was deleted, the scope's ids are read again (ids only); newcomers are read by id, and
leavers are deactivated (kept, never deleted) through the same final pass and threshold as any run. users/delta then
applies only to people in the scope. The preview engine gets the same listing, so a scope change is previewed too.
"""
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.database import db
from portal.directory import field_mapping, requester_store
from portal.directory.dry_run import PreviewEngine
from portal.directory.sync import PREVIEW, SyncEngine
from portal.directory.sync_plan import DELETED, Deactivation, page_items, usable_ids
from portal.entra import group_reads
from portal.entra.graph import GraphError
from portal.models import ScopeGroup, ScopeMember

WRITE_CHUNK = 1000  # scope member rows per INSERT


def scope_groups(integration_id: int) -> list[ScopeGroup]:
    """The integration's chosen groups, in the order they were added."""
    return list(db.session.scalars(sa.select(ScopeGroup).where(ScopeGroup.integration_id == integration_id)
                                   .order_by(ScopeGroup.id)))


def scope_of(integration, run) -> list[str] | None:
    """The group ids a run syncs: a preview's proposed scope, else the integration's; None means everyone."""
    proposed = (run.proposed or {}).get("scope") if run.trigger == PREVIEW else None
    if proposed is not None:
        return [g["id"] for g in proposed.get("groups") or []] if proposed.get("kind") == "groups" else None
    if integration.sync_scope != "groups":
        return None
    return [g.group_id for g in scope_groups(integration.id)]


def engine_class(integration, run) -> type:
    """Which engine runs this run: the plain or the group-scoped one, writing or previewing."""
    scoped = scope_of(integration, run) is not None
    if run.trigger == PREVIEW:
        return GroupScopedPreview if scoped else PreviewEngine
    return GroupScopedSync if scoped else SyncEngine


class GroupScope:
    """Mixed into the sync engine and its preview: what a run lists and follows when only chosen groups are synced."""

    def __init__(self, integration, run, graph, settings, *, on_page=None):
        super().__init__(integration, run, graph, settings, on_page=on_page)
        self.group_ids = scope_of(integration, run) or []
        self.members: set[str] = set()  # who is in the scope (listed now, or stored by the last run)
        self.joined: set[str] = set()  # came into the scope in this delta run (already read whole)
        self.nested: dict[str, list[str]] = {}  # chosen group -> the groups nested in it
        self.missing: set[str] = set()  # chosen groups Microsoft no longer knows
        self.relisted = False  # whether this run read the scope's membership again
        self.next_groups_link: str | None = None

    # -- full ------------------------------------------------------------------------------------
    def _listing(self, manager: bool):
        """Each chosen group's transitive users, never the tenant; the expected total counts a person once per group."""
        counts = [group_reads.user_member_count(self.graph, gid) for gid in self.group_ids]
        self.run.expected_total = sum(c for c in counts if c) if any(c is not None for c in counts) else None
        self.members, self.missing, self.relisted = set(), set(), True
        return self._member_pages(manager)

    def _member_pages(self, manager: bool):
        """Runs on the prefetch thread: Graph only, no database."""
        for group_id in self.group_ids:
            try:
                self.nested[group_id] = group_reads.nested_group_ids(self.graph, group_id)
                for page in group_reads.transitive_users(self.graph, group_id, self.select, self.settings.page_size):
                    yield {"value": self._first_sight(page_items(page), manager)}
            except GraphError as exc:
                if exc.http_status != 404:
                    raise
                self.missing.add(group_id)  # deleted: it brings nobody in, so its members leave (threshold applies)

    def _first_sight(self, users: list, manager: bool) -> list:
        """The page's users not listed by an earlier group (a person in two groups is synced once)."""
        fresh = []
        for user in users:
            oid = field_mapping.object_id(user.get("id")) if isinstance(user, dict) else None
            if oid is not None and oid in self.members:
                continue
            if oid is not None:
                self.members.add(oid)
            fresh.append(user)
        if manager:
            self._attach_managers(fresh)
        return fresh

    def _attach_managers(self, users: list) -> None:
        """Group member listings cannot expand the manager: read it for these users by id, 15 at a time."""
        ids = [u["id"] for u in users if isinstance(u, dict) and field_mapping.object_id(u.get("id"))]
        managers = {u.get("id"): u["manager"] for page in group_reads.users_by_id(self.graph, ids, ["id"], True)
                    for u in page_items(page) if isinstance(u, dict) and isinstance(u.get("manager"), dict)}
        for user in users:
            if isinstance(user, dict) and user.get("id") in managers:
                user["manager"] = managers[user["id"]]

    def _next_delta_link(self, manager: bool) -> str | None:
        self.next_groups_link = group_reads.latest_groups_delta_link(self.graph)  # before the listing, like users'
        return super()._next_delta_link(manager)

    def _full_sync(self) -> None:
        super()._full_sync()
        self._save_scope()

    # -- delta -----------------------------------------------------------------------------------
    def _delta_pages(self):
        """Follow membership first (newcomers read, leavers held for the final pass), then users/delta in scope only."""
        self.members = set(db.session.scalars(sa.select(ScopeMember.object_id).where(
            ScopeMember.integration_id == self.integration.id)))
        if self._membership_moved():
            self._relist_members()
        return self._in_scope(super()._delta_pages())

    def _membership_moved(self) -> bool:
        """Whether groups/delta shows a membership change or deletion of a chosen or nested group."""
        rows = scope_groups(self.integration.id)
        tracked = {r.group_id for r in rows} | {n for r in rows for n in r.nested_ids or []}
        link, moved = self.integration.groups_delta_link, False
        if not link:
            self.next_groups_link = group_reads.latest_groups_delta_link(self.graph)
            return True
        for page in self.graph.delta(link, page_size=self.settings.page_size):
            for item in page_items(page):
                if isinstance(item, dict) and item.get("id") in tracked and (
                        "@removed" in item or item.get("members@delta")):
                    moved = True
            self.next_groups_link = page.get("@odata.deltaLink") or self.next_groups_link
        return moved

    def _relist_members(self) -> None:
        """Read the scope's ids again; read newcomers whole and plan them; hold the leavers for the final pass."""
        now_in, self.missing, self.relisted = set(), set(), True
        for group_id in self.group_ids:
            try:
                self.nested[group_id] = group_reads.nested_group_ids(self.graph, group_id)
                for page in group_reads.transitive_users(self.graph, group_id, ["id"], 999):
                    now_in |= usable_ids(page_items(page))
            except GraphError as exc:
                if exc.http_status != 404:
                    raise
                self.missing.add(group_id)
        self.joined, left = now_in - self.members, self.members - now_in
        manager = bool(self.mapping.get("manager"))
        for page in group_reads.users_by_id(self.graph, sorted(self.joined), self.select, manager):
            items = page_items(page)
            self._apply_page(items, requester_store.known_with_values(self.integration.id, usable_ids(items)),
                             partial=False)
            self._progress(page_items=len(items))
        going = requester_store.known_with_values(self.integration.id, left).values()
        self.pending.extend(Deactivation(k.id, dict(DELETED), k.status) for k in going if k.status != "deleted")
        self.members = now_in

    def _in_scope(self, pages):
        """users/delta pages with only the people in the scope (newcomers were just read whole)."""
        for page in pages:
            yield dict(page, value=[u for u in page_items(page) if isinstance(u, dict)
                                    and u.get("id") in self.members and u.get("id") not in self.joined])

    def _delta_sync(self) -> None:
        super()._delta_sync()
        if self.run.mode == "delta":  # (a resync ran the full sync, which saved the scope itself)
            self._save_scope()

    # -- the scope's own rows ----------------------------------------------------------------------
    def _save_scope(self) -> None:
        """Store who is in the scope, each group's nesting and absence, and groups/delta's link (committed with the
        run's finish)."""
        integration_id = self.integration.id
        if self.relisted:
            db.session.execute(sa.delete(ScopeMember).where(ScopeMember.integration_id == integration_id))
            rows = [{"integration_id": integration_id, "object_id": oid} for oid in sorted(self.members)]
            for start in range(0, len(rows), WRITE_CHUNK):
                db.session.execute(sa.insert(ScopeMember), rows[start:start + WRITE_CHUNK])
            for group in scope_groups(integration_id):
                group.nested_ids = self.nested.get(group.group_id, group.nested_ids)
                group.missing_since = (group.missing_since or datetime.now(UTC)) if group.group_id in self.missing else None
        if self.next_groups_link:
            self.integration.groups_delta_link = self.next_groups_link


class GroupScopedSync(GroupScope, SyncEngine):
    """The sync engine for an integration in group scope."""


class GroupScopedPreview(GroupScope, PreviewEngine):
    """A dry run of a group scope (proposed or saved): the same listing, nothing written."""

    def _next_delta_link(self, manager: bool) -> None:
        return None  # links stay where the last real run left them

    def _save_scope(self) -> None:
        """A preview stores no scope."""
