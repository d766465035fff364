"""Directory sync: full (/users) and delta (/users/delta), streamed page by page, each page one transaction.

Rules: requesters are keyed by (integration, Entra object id); on the first sync, local requesters are
adopted by email instead of duplicated; unchanged users (same content hash) are not written; disabled,
soft-deleted, hard-deleted and vanished users become inactive but are never deleted; a run that would
deactivate more than the threshold is held for an admin to confirm; the deltaLink moves only after the
last page has committed. One run per integration at a time, across processes, through a database lease.
"""
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import leases, signals
from portal.database import db
from portal.directory import field_mapping
from portal.entra.graph import GraphClient, GraphError, prefetched
from portal.exceptions import Conflict
from portal.models import Integration, Requester, SyncRun

log = logging.getLogger("portal.sync")
LEASE_TTL = timedelta(minutes=5)
RESYNC_CODES = {"syncStateNotFound", "resyncRequired"}
MAX_ERRORS_KEPT = 20
REQUESTER_FIELDS = [f.name for f in field_mapping.PORTAL_FIELDS if f.name != "manager"] + ["manager_object_id"]


class SyncHeld(Exception):
    """Raised inside a run when deactivations exceed the threshold; nothing is deactivated."""


@dataclass
class Pending:
    """Deactivations found during a run; applied only after the threshold check."""

    rows: list = field(default_factory=list)  # (requester id, values dict)


def lease_name(integration_id: int) -> str:
    return f"sync:{integration_id}"


def start_run(integration: Integration, mode: str, trigger: str) -> SyncRun:
    """Record a queued run (the runner picks it up); refuses when one is already queued or running."""
    _fail_orphaned_runs(integration)
    busy = db.session.scalar(sa.select(SyncRun.id).where(SyncRun.integration_id == integration.id,
                                                         SyncRun.status.in_(("queued", "running"))))
    if busy:
        raise Conflict(f"A sync is already queued or running for {integration.name} (run {busy}).")
    run = SyncRun(integration_id=integration.id, mode=mode, trigger=trigger, status="queued")
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError as exc:  # another process queued one between our check and our insert
        db.session.rollback()
        raise Conflict(f"A sync is already queued or running for {integration.name}.") from exc
    return run


def _fail_orphaned_runs(integration: Integration) -> None:
    """A 'running' run whose process no longer holds the lease (it crashed) is marked interrupted at once."""
    if leases.holder_of(lease_name(integration.id)) is not None:
        return
    orphans = db.session.scalars(sa.select(SyncRun).where(SyncRun.integration_id == integration.id,
                                                          SyncRun.status == "running")).all()
    for run in orphans:
        run.status, run.finished_at = "failed", _now()
        run.message = "Interrupted: the process running this sync stopped. The next run redoes it from the start."
    if orphans:
        db.session.commit()


class SyncEngine:
    """Runs one SyncRun for one integration with one GraphClient."""

    def __init__(self, integration: Integration, graph: GraphClient, *, threshold_percent: int,
                 confirm_deactivation: bool = False, holder: str | None = None, on_page=None, page_size: int = 999):
        self.integration, self.graph, self.on_page, self.page_size = integration, graph, on_page, page_size
        self.threshold_percent, self.confirm = threshold_percent, confirm_deactivation
        self.holder = holder or leases.holder_name("sync")
        self.mapping = {m.portal_field: m.graph_attribute for m in integration.mappings} or field_mapping.default_mapping()
        self.select = field_mapping.select_for(self.mapping)
        self.first_sync = integration.last_sync_at is None
        self.run: SyncRun | None = None
        self.known: dict = {}
        self.deactivated_ids: list[int] = []
        self.retries = 0

    # -- entry point -------------------------------------------------------------------------
    def execute(self, run: SyncRun) -> SyncRun:
        """Take the lease, run full or delta, record the outcome; always releases the lease."""
        if not leases.acquire(lease_name(self.integration.id), self.holder, LEASE_TTL):
            raise Conflict(f"A sync is already running for {self.integration.name}.")
        self.run = run
        try:
            self._begin()
            mode = "full" if run.mode == "full" or not self.integration.delta_link else "delta"
            self._delta() if mode == "delta" else self._full()
            self._finish("succeeded")
        except SyncHeld:
            self._finish("awaiting_confirmation")
        except GraphError as exc:
            db.session.rollback()
            self._fail(exc.message, exc.detail)
        except Exception as exc:
            db.session.rollback()
            log.exception("sync run %s crashed", run.id)
            self._fail(f"Unexpected error: {exc.__class__.__name__}", {})
            raise
        finally:
            db.session.rollback()
            leases.release(lease_name(self.integration.id), self.holder)
        return run

    def _begin(self) -> None:
        run = self.run
        run.status, run.started_at, run.heartbeat_at = "running", _now(), _now()
        run.retries = self.retries = 0
        self.graph.on_retry = self._count_retry
        signals.sync_started.send("sync", actor=_actor(run), target=_target(self.integration),
                                  detail={"run": run.id, "mode": run.mode, "trigger": run.trigger})
        db.session.commit()

    def _count_retry(self, failure, wait) -> None:
        # Called on the prefetch thread: count here, copy into the run on the main thread.
        self.retries += 1

    # -- full --------------------------------------------------------------------------------
    def _full(self) -> None:
        run = self.run
        run.mode = "full"
        delta_select = self.select + (["manager"] if self.mapping.get("manager") else [])
        next_delta = self.graph.latest_delta_link(delta_select)
        run.expected_total = self.graph.count_users()
        seen: set[str] = set()
        pending = Pending()
        active_before = self._active_count()
        # One query for what we already have (about 30 MB at 100,000 users), instead of one per page whose
        # plan degrades while PostgreSQL's statistics still describe the table as it was before the run.
        self.known = {r.entra_object_id: r for r in db.session.execute(
            sa.select(Requester.entra_object_id, Requester.id, Requester.content_hash, Requester.status)
            .where(Requester.integration_id == self.integration.id))}
        users = self.graph.users(self.select, expand_manager=bool(self.mapping.get("manager")), top=self.page_size)
        for page in prefetched(users):
            items = page.get("value") if isinstance(page.get("value"), list) else []
            seen.update(self._apply_page(items, partial=False, pending=pending, seen_before=seen))
            self._progress(page_items=len(items))
        self._collect_vanished(seen, pending)
        self._apply_deactivations(pending, active_before)
        self._resolve_managers()
        self.known = {}
        if run.created > 1000 and db.session.get_bind().dialect.name == "postgresql":
            # Fresh statistics after a bulk load, so the next delta's lookups use the (integration, oid) index.
            db.session.execute(sa.text("ANALYZE requesters"))
        self.integration.delta_link = next_delta

    def _collect_vanished(self, seen: set, pending: Pending) -> None:
        rows = db.session.execute(sa.select(Requester.id, Requester.entra_object_id, Requester.status).where(
            Requester.integration_id == self.integration.id, Requester.status != "deleted")).all()
        for rid, oid, status in rows:
            if oid not in seen:
                pending.rows.append((rid, {"status": "deleted", "account_enabled": False}, status))

    # -- delta -------------------------------------------------------------------------------
    def _delta(self) -> None:
        run = self.run
        run.mode = "delta"
        items, next_link = [], None
        try:
            for page in prefetched(self.graph.delta(self.integration.delta_link, page_size=self.page_size)):
                values = page.get("value") if isinstance(page.get("value"), list) else []
                items.extend(values)
                next_link = page.get("@odata.deltaLink") or next_link
                self._progress(page_items=len(values))
        except GraphError as exc:
            if exc.code in RESYNC_CODES or exc.http_status == 410:
                db.session.rollback()
                run.message = f"Microsoft asked for a full resync ({exc.code}); ran a full sync instead."
                return self._full()
            raise
        pending = Pending()
        active_before = self._active_count()
        for start in range(0, len(items), 500):
            self._apply_page(items[start:start + 500], partial=True, pending=pending)
            db.session.commit()
        self._apply_deactivations(pending, active_before)
        self._resolve_managers()
        if next_link:
            self.integration.delta_link = next_link

    # -- applying users ----------------------------------------------------------------------
    def _apply_page(self, items: list, *, partial: bool, pending: Pending, seen_before: set | None = None) -> set[str]:
        """Upsert one page; returns the object ids it saw. Deactivations go to `pending`."""
        valid, seen = {}, set()
        for item in items:
            oid = item.get("id") if isinstance(item, dict) else None
            if field_mapping.object_id(oid) is None:
                self._error(None, "A user without a valid id was skipped.")
                continue
            if not partial and (oid in seen or (seen_before and oid in seen_before)):
                self._error(oid, "The same user came twice in one listing; the first copy was kept.")
                continue  # (a delta may list a user twice: there the later copy wins)
            valid[oid] = item
            seen.add(oid)
        valid = list(valid.values())
        existing = ({i["id"]: self.known[i["id"]] for i in valid if i["id"] in self.known} if not partial
                    else self._existing({i["id"] for i in valid}))
        if self.first_sync:
            self._adopt_by_email([i for i in valid if i["id"] not in existing], existing, partial)
        inserts, updates = [], []
        for item in valid:
            self._plan(item, existing.get(item["id"]), partial, inserts, updates, pending)
        # Core executemany: the ORM's bulk path costs several times more per row and adds nothing here.
        table = Requester.__table__
        if inserts:
            db.session.execute(table.insert(), inserts)
        if updates:
            db.session.execute(table.update().where(table.c.id == sa.bindparam("row_id")), updates)
        return seen

    def _existing(self, ids: set) -> dict:
        found = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            rows = db.session.execute(sa.select(Requester).where(
                Requester.integration_id == self.integration.id, Requester.entra_object_id.in_(ids[start:start + 500])))
            found.update({r.entra_object_id: r for r in rows.scalars()})
        return found

    def _adopt_by_email(self, items: list, existing: dict, partial: bool) -> None:
        """First sync: link local requesters (no integration yet) with the same email instead of duplicating."""
        emails, attribute = {}, self.mapping.get("email")
        for item in items:
            email = field_mapping.as_text(field_mapping.read_attribute(item, attribute), 255) if attribute else None
            if email:
                emails[email.lower()] = item["id"]
        if not emails:
            return
        rows = db.session.scalars(sa.select(Requester).where(Requester.integration_id.is_(None),
                                                             sa.func.lower(Requester.email).in_(list(emails))))
        for requester in rows:
            oid = emails[requester.email.lower()]
            requester.integration_id, requester.entra_object_id = self.integration.id, oid
            existing[oid] = requester
        db.session.flush()

    def _plan(self, item, row, partial, inserts, updates, pending) -> None:
        """Decide insert, update, unchanged or deactivate for one Graph user."""
        run, now = self.run, _now()
        if "@removed" in item:
            if row is not None and row.status != "deleted":
                pending.rows.append((row.id, {"status": "deleted", "account_enabled": False}, row.status))
            return
        values = field_mapping.apply(item, self.mapping, partial)
        if row is not None and partial:  # delta sends only what changed: merge over the stored row
            merged = {name: getattr(row, name) for name in REQUESTER_FIELDS}
            merged.update(values)
            enabled, user_type = item.get("accountEnabled", row.account_enabled), item.get("userType", row.user_type)
        else:
            merged = {name: values.get(name) for name in REQUESTER_FIELDS}
            enabled, user_type = item.get("accountEnabled"), item.get("userType")
        enabled = enabled is not False  # missing means enabled, as Graph omits nothing it was asked for
        user_type = field_mapping.as_text(user_type, 20)  # junk types and unstorable text become None
        merged["display_name"] = merged.get("display_name") or merged.get("user_principal_name") or merged.get("email") or ""
        digest = field_mapping.content_hash({k: merged[k] for k in REQUESTER_FIELDS}, enabled, user_type)
        status = "active" if enabled else "disabled"
        record = dict(merged, account_enabled=enabled, user_type=user_type,
                      status=status, content_hash=digest, last_synced_at=now, updated_at=now)
        if row is None:
            record.update(integration_id=self.integration.id, entra_object_id=item["id"], created_at=now,
                          failed_attempts=0, lockout_count=0)
            inserts.append(record)
            run.created += 1
        elif row.content_hash == digest and row.status == status:
            run.unchanged += 1
        elif row.status == "active" and status != "active":
            pending.rows.append((row.id, record, row.status))
        else:
            if row.status != "active" and status == "active":
                run.reactivated += 1
            else:
                run.updated += 1
            updates.append(dict(record, row_id=row.id))

    def _apply_deactivations(self, pending: Pending, active_before: int) -> None:
        """Hold the run if too many would go; otherwise apply them in batches."""
        going = [p for p in pending.rows if p[2] == "active"]
        limit = active_before * self.threshold_percent / 100
        if going and len(going) > limit and not self.confirm:
            self.run.held_deactivations = len(going)
            self.run.message = (f"This run would deactivate {len(going)} of {active_before} active requesters, more "
                                f"than the {self.threshold_percent}% threshold. Nothing was deactivated; confirm to "
                                "apply it.")
            db.session.commit()
            raise SyncHeld()
        now = _now()
        for rid, values, old_status in pending.rows:
            db.session.execute(sa.update(Requester).where(Requester.id == rid).values(
                dict(values, updated_at=now, last_synced_at=now)))
            if old_status == "active":
                self.run.deactivated += 1
                self.deactivated_ids.append(rid)
            else:
                self.run.updated += 1
        db.session.commit()

    def _resolve_managers(self) -> None:
        """Point manager_id at the manager's requester, by object id, in one statement (only after writes)."""
        run = self.run
        if not (run.created or run.updated or run.reactivated or run.deactivated):
            return
        manager = sa.orm.aliased(Requester)
        lookup = (sa.select(manager.id).where(manager.integration_id == Requester.integration_id,
                                              manager.entra_object_id == Requester.manager_object_id)
                  .scalar_subquery())
        # Only rows this run wrote, and reports still waiting for a manager who may have arrived now.
        touched = sa.or_(Requester.last_synced_at >= run.started_at,
                         sa.and_(Requester.manager_id.is_(None), Requester.manager_object_id.is_not(None)))
        db.session.execute(sa.update(Requester).where(Requester.integration_id == self.integration.id, touched)
                           .values(manager_id=lookup).execution_options(synchronize_session=False))
        db.session.commit()

    # -- bookkeeping -------------------------------------------------------------------------
    def _active_count(self) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(
            Requester.integration_id == self.integration.id, Requester.status == "active")) or 0

    def _progress(self, page_items: int) -> None:
        """Commit the page together with the run's counters and a lease renewal."""
        run = self.run
        run.pages += 1
        run.fetched += page_items
        run.retries = self.retries
        run.heartbeat_at = _now()
        if not leases.renew(lease_name(self.integration.id), self.holder, LEASE_TTL):
            raise GraphError("The sync lease was lost to another process; this run stopped.", code="lease_lost")
        db.session.commit()
        if self.on_page:
            self.on_page(run)

    def _error(self, user, message: str) -> None:
        run = self.run
        run.failed += 1
        if len(run.errors or []) < MAX_ERRORS_KEPT:
            run.errors = list(run.errors or []) + [{"user": user, "error": message}]

    def _finish(self, status: str) -> None:
        run, integration = self.run, self.integration
        run.status, run.finished_at, run.retries = status, _now(), self.retries
        if status == "succeeded":
            integration.last_sync_at = run.finished_at
        signals.sync_finished.send("sync", actor=_actor(run), target=_target(integration),
                                   outcome="success" if status == "succeeded" else "failure",
                                   reason=None if status == "succeeded" else run.message, detail=_counts(run))
        db.session.commit()
        if self.deactivated_ids:
            signals.requesters_deactivated.send("sync", requester_ids=list(self.deactivated_ids), reason="account_disabled")
            db.session.commit()

    def _fail(self, message: str, detail: dict) -> None:
        run = db.session.get(SyncRun, self.run.id)
        run.status, run.finished_at, run.message, run.retries = "failed", _now(), message, self.retries
        run.errors = list(run.errors or [])[:MAX_ERRORS_KEPT - 1] + [{"user": None, "error": message, **(detail or {})}]
        signals.sync_finished.send("sync", actor=_actor(run), target=_target(self.integration), outcome="failure",
                                   reason=message, detail=_counts(run))
        db.session.commit()


def _now() -> datetime:
    return datetime.now(UTC)



def _actor(run: SyncRun) -> signals.Principal:
    return signals.SCHEDULER if run.trigger == "scheduler" else signals.SYSTEM


def _target(integration: Integration) -> signals.Target:
    return signals.Target("integration", str(integration.id), integration.name)


def _counts(run: SyncRun) -> dict:
    return {"run": run.id, "mode": run.mode, "pages": run.pages, "fetched": run.fetched, "created": run.created,
            "updated": run.updated, "unchanged": run.unchanged, "deactivated": run.deactivated,
            "reactivated": run.reactivated, "failed": run.failed, "retries": run.retries,
            "held_deactivations": run.held_deactivations}
