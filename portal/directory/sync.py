"""Directory sync: full (/users) and delta (/users/delta), streamed page by page, each page one transaction.

Rules: requesters are keyed by (integration, Entra object id); on the first sync, local requesters are
adopted by email instead of duplicated; unchanged users (same content hash) are not written; disabled,
soft-deleted, hard-deleted and vanished users become inactive but are never deleted; a run that would
deactivate more than the threshold is held for an admin to confirm; the deltaLink moves only after the
last page has committed. One run per integration at a time, across processes, through a database lease.
What each page changes is decided by `sync_plan.plan_page`; this module applies it and keeps the run's books.
"""
import logging
from collections import ChainMap
from datetime import UTC, datetime, timedelta

from portal import leases, signals
from portal.database import db
from portal.directory import conflicts, field_mapping, requester_store, run_changes
from portal.directory.runs import (
    SyncSettings,
    integration_target,
    lease_name,
    mark_failing_if_credentials,
    run_actor,
    run_counts,
)
from portal.directory.sync_plan import (
    Deactivation,
    PageChanges,
    distinct_users,
    exceeds_threshold,
    page_items,
    plan_page,
    usable_ids,
    vanished_users,
)
from portal.entra import clients
from portal.entra.graph import GraphClient, GraphError, prefetched
from portal.exceptions import Conflict, EntraError
from portal.models import Integration, SyncRun

log = logging.getLogger("portal.sync")
LEASE_TTL = timedelta(minutes=5)
RESYNC_CODES = {"syncStateNotFound", "resyncRequired"}
MAX_ERRORS_KEPT = 20
PREVIEW = "preview"  # the trigger of a dry run


class SyncHeld(Exception):
    """Raised inside a run when deactivations exceed the threshold; nothing is deactivated."""


def build_sync_engine(integration: Integration, run: SyncRun, settings: SyncSettings, *, on_page=None) -> "SyncEngine":
    """The one way to build an engine: a Graph client for the integration; `on_page(run)` after each page commits;
    a preview run (a dry run) gets the engine that plans without writing."""
    from portal.directory.group_scope import engine_class  # its engines extend this module's

    engine = engine_class(integration, run)
    return engine(integration, run, clients.graph_for(integration, settings.microsoft), settings, on_page=on_page)


class SyncEngine:
    """Runs one SyncRun for one integration with one GraphClient."""

    def __init__(self, integration: Integration, run: SyncRun, graph: GraphClient, settings: SyncSettings, *,
                 on_page=None):
        self.integration, self.run, self.graph, self.settings, self.on_page = integration, run, graph, settings, on_page
        self.confirmed = run.trigger == "confirmed"  # a confirmed run applies deactivations above the threshold
        self.holder = leases.holder_name("sync")
        self.mapping = ({m.portal_field: m.graph_attribute for m in integration.mappings}
                        or field_mapping.default_mapping())
        self.guest_policy = integration.guest_policy
        self.adopted_emails: dict[str, str] = {}  # first sync: address -> the user that adopted its local requester
        self.changed_fields: set[str] = set()  # what changed for updated people
        self.select = field_mapping.select_for(self.mapping)
        self.adopting = integration.last_sync_at is None and requester_store.any_unlinked()  # first sync, locals
        self.pending: list[Deactivation] = []  # held back until the whole listing is known
        self.deactivated_ids: list[int] = []
        self.retries = 0

    # -- entry point -------------------------------------------------------------------------
    def execute(self) -> SyncRun:
        """Take the lease, run full or delta, record the outcome; always releases the lease."""
        if not leases.acquire(lease_name(self.integration.id), self.holder, LEASE_TTL):
            raise Conflict(f"A sync is already running for {self.integration.name}.")
        try:
            self._record_start()
            self._full_sync() if self.run.mode != "delta" or not self.integration.delta_link else self._delta_sync()
            self._record_finish("succeeded")
        except SyncHeld:
            self._record_finish("awaiting_confirmation")
        except (GraphError, EntraError) as exc:
            db.session.rollback()
            self._record_failure(exc.message, exc.support_info())
            if self.run.trigger != PREVIEW:  # a preview's proposed mapping must not stop the working sync
                mark_failing_if_credentials(self.integration.id, self.run, exc)
        except Exception as exc:
            db.session.rollback()
            log.exception("sync run %s crashed", self.run.id)
            self._record_failure(f"Unexpected error: {exc.__class__.__name__}", {})
            raise
        finally:
            db.session.rollback()
            leases.release(lease_name(self.integration.id), self.holder)
        return self.run

    def _record_start(self) -> None:
        run = self.run
        run.status, run.started_at, run.heartbeat_at = "running", _now(), _now()
        run.retries = self.retries = 0
        self.graph.on_retry = self._count_retry
        self._announce_start()
        db.session.commit()

    def _announce_start(self) -> None:
        signals.sync_started.send("sync", actor=run_actor(self.run), target=integration_target(self.integration),
                                  detail={"run": self.run.id, "mode": self.run.mode, "trigger": self.run.trigger})

    def _count_retry(self, failure, wait) -> None:
        # Called on the prefetch thread: count here, copy into the run on the main thread.
        self.retries += 1

    # -- full --------------------------------------------------------------------------------
    def _full_sync(self) -> None:
        run, manager = self.run, bool(self.mapping.get("manager"))
        run.mode = "full"
        next_delta = self._next_delta_link(manager)
        active_before = requester_store.active_count(self.integration.id)
        known, seen = requester_store.known_requesters(self.integration.id), set()
        for page in prefetched(self._listing(manager)):
            items = page_items(page)
            seen |= self._apply_page(items, known, partial=False, seen_before=seen)
            self._progress(page_items=len(items))
        known.clear()
        requester_store.refresh_statistics(run.created)  # before the final pass's manager UPDATE plans its lookups
        self.pending.extend(vanished_users(requester_store.undeleted_rows(self.integration.id), seen))
        self._final_pass(active_before)
        if next_delta:
            self.integration.delta_link = next_delta

    def _listing(self, manager: bool):
        """The pages a full sync reads, and their expected total: the whole tenant (group_scope lists its groups)."""
        self.run.expected_total = self.graph.count_users()
        return self.graph.users(self.select, expand_manager=manager, top=self.settings.page_size)

    def _next_delta_link(self, manager: bool) -> str | None:
        """Where the next delta starts: asked for before the listing, so nothing changed during it is missed."""
        return self.graph.latest_delta_link(self.select + (["manager"] if manager else []))

    # -- delta -------------------------------------------------------------------------------
    def _delta_sync(self) -> None:
        run, next_link = self.run, None
        run.mode = "delta"
        active_before = requester_store.active_count(self.integration.id)
        try:
            for page in prefetched(self._delta_pages()):
                items = page_items(page)
                known = requester_store.known_with_values(self.integration.id, usable_ids(items))
                self._apply_page(items, known, partial=True)
                next_link = page.get("@odata.deltaLink") or next_link
                self._progress(page_items=len(items))
        except GraphError as exc:
            if exc.code in RESYNC_CODES or exc.http_status == 410:
                db.session.rollback()
                self.pending.clear()  # the full sync finds every deactivation again
                run.message = f"Microsoft asked for a full resync ({exc.code}); ran a full sync instead."
                return self._full_sync()
            raise
        self._final_pass(active_before)
        if next_link:
            self.integration.delta_link = next_link

    def _delta_pages(self):
        """The users/delta pages since the stored link (group_scope first follows membership, then filters)."""
        return self.graph.delta(self.integration.delta_link, page_size=self.settings.page_size)

    # -- applying users ----------------------------------------------------------------------
    def _apply_page(self, items: list, known, *, partial: bool, seen_before: set = frozenset()) -> set[str]:
        """Plan and write one page (committed by `_progress`); returns the object ids it saw."""
        if self.adopting:
            known = self._with_adopted(items, known, partial, seen_before)
        changes = plan_page(items, known, self.mapping, partial=partial, integration_id=self.integration.id,
                            now=_now(), seen_before=seen_before, guest_policy=self.guest_policy)
        self._write_page(changes)
        self._count(changes)
        self.pending.extend(changes.deactivations)
        return changes.seen

    def _write_page(self, changes: PageChanges) -> None:
        """Record renames and who changed, then write the page's rows (committed with its progress)."""
        if changes.updates:
            self.run.conflicts += conflicts.record_renames(self.integration.id, self.run.id, changes.updates, _now())
        self.changed_fields |= run_changes.record_page(self.run.id, changes)
        requester_store.write_changes(changes)

    def _with_adopted(self, items: list, known, partial: bool, seen_before: set):
        """First sync: local requesters with a new user's email join what is known, linked to that user."""
        users, _ = distinct_users(items, partial=partial, seen_before=seen_before)
        adoption = requester_store.match_by_email([u for oid, u in users.items() if oid not in known],
                                                  self.mapping.get("email"), self.adopted_emails)
        self.adopted_emails.update(adoption.emails)
        self._link(adoption)
        return ChainMap(adoption.known, known) if adoption.known else known

    def _link(self, adoption: requester_store.Adoption) -> None:
        requester_store.link_adopted(self.integration.id, adoption)
        self.run.conflicts += conflicts.record_clashes(self.integration.id, self.run.id, adoption, _now())

    def _count(self, changes: PageChanges) -> None:
        for name in ("created", "updated", "unchanged", "reactivated", "excluded", "already_removed"):
            setattr(self.run, name, getattr(self.run, name) + getattr(changes, name))
        for error in changes.errors:
            self._record_user_error(error.user, error.message, skipped=error.skipped)

    def _final_pass(self, active_before: int) -> None:
        """With the whole listing known: hold the run if too many would go, else deactivate; then link managers."""
        run, going = self.run, sum(1 for item in self.pending if item.was_active)
        if exceeds_threshold(going, active_before, self.settings.threshold_percent) and not self.confirmed:
            run.held_deactivations = going
            self._hold(going, active_before)
        self._write_deactivations()
        for item in self.pending:
            if item.was_active:
                run.deactivated += 1
                self.deactivated_ids.append(item.requester_id)
            else:
                run.updated += 1
        db.session.commit()
        self._after_writes()

    def _hold(self, going: int, active_before: int) -> None:
        self.run.message = (f"This run would deactivate {going} of {active_before} active requesters, more than the "
                            f"{self.settings.threshold_percent}% threshold. Nothing was deactivated; confirm to apply it.")
        db.session.commit()
        raise SyncHeld()

    def _write_deactivations(self) -> None:
        run_changes.record_deactivations(self.run.id, self.pending)
        requester_store.write_deactivations(self.pending, _now())

    def _after_writes(self) -> None:
        """Link managers (only after writes) and look for shared mail addresses."""
        run = self.run
        if run.created or run.updated or run.reactivated or run.deactivated:
            requester_store.resolve_managers(self.integration.id, run.started_at)
        recheck = run.mode == "full" or run.created or run.reactivated or run.deactivated or \
            self.changed_fields & {"email", "status"}  # else no address or status moved: sharing is as it was
        run.conflicts += (conflicts.record_shared_mail(self.integration.id, run.id, _now()) if recheck
                          else conflicts.open_shared_mail(self.integration.id))
        db.session.commit()

    # -- bookkeeping -------------------------------------------------------------------------
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

    def _record_user_error(self, user, message: str, skipped: bool = True) -> None:
        run = self.run
        run.failed += 1 if skipped else 0  # a user synced with one value left out is not a failed user
        if len(run.errors or []) < MAX_ERRORS_KEPT:
            run.errors = list(run.errors or []) + [{"user": user, "error": message}]

    def _record_finish(self, status: str) -> None:
        run, integration = self.run, self.integration
        run.status, run.finished_at, run.retries = status, _now(), self.retries
        if status == "succeeded":
            integration.last_sync_at = run.finished_at
        signals.sync_finished.send("sync", actor=run_actor(run), target=integration_target(integration),
                                   outcome="success" if status == "succeeded" else "failure",
                                   reason=None if status == "succeeded" else run.message, detail=run_counts(run))
        db.session.commit()
        if self.deactivated_ids:
            signals.requesters_deactivated.send("sync", requester_ids=list(self.deactivated_ids), reason="account_disabled")
            db.session.commit()
        if status == "succeeded":  # anyone the directory now shows inactive loses a session that is still open
            signals.directory_synced.send("sync", integration_id=integration.id)

    def _record_failure(self, message: str, detail: dict) -> None:
        run = db.session.get(SyncRun, self.run.id)
        run.status, run.finished_at, run.message, run.retries = "failed", _now(), message, self.retries
        kept = {k: v for k, v in (detail or {}).items() if k != "description"}
        run.errors = list(run.errors or [])[:MAX_ERRORS_KEPT - 1] + [{"user": None, "error": message, **kept}]
        signals.sync_finished.send("sync", actor=run_actor(run), target=integration_target(self.integration), outcome="failure",
                                   reason=message, detail=run_counts(run))
        db.session.commit()


def _now() -> datetime:
    return datetime.now(UTC)


