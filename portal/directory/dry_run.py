"""A dry run ("Preview changes"): a full listing planned with a proposed mapping and guest policy, counted exactly as
the real run would count it, with up to 20 examples of each kind of change. It writes no requester, link, conflict,
delta link or sync time: only its own run row and examples, so the run that follows finds everything as it was."""
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.database import db
from portal.directory import field_mapping, requester_store, run_changes, runs
from portal.directory.sync import PREVIEW, SyncEngine
from portal.directory.sync_plan import GUEST_POLICIES, PageChanges
from portal.exceptions import Conflict, ValidationError
from portal.models import Integration, SyncRun

EXAMPLES = 20  # per kind of change


def start_preview(integration: Integration, requested: dict, guest_policy: str, scope: dict | None = None) -> SyncRun:
    """Queue a dry run of `requested` (validated like a save) and of a scope already checked with Microsoft
    (`sync_scope.clean_scope`); refused while another run is queued or running."""
    clean = field_mapping.validate(requested)
    if guest_policy not in GUEST_POLICIES:
        raise ValidationError("Choose how guests are synced.", detail={"errors": {"guest_policy": "Choose one."}})
    return runs.start_run(integration, "full", PREVIEW, proposed={"mapping": clean, "guest_policy": guest_policy,
                                                                  "mapping_version": integration.mapping_version,
                                                                  "scope": scope})


def proposal_of(run: SyncRun) -> tuple[dict, str, dict | None]:
    """The mapping, guest policy and scope (None: as it is) a finished preview planned with, to save them as they
    were previewed."""
    if run.trigger != PREVIEW or run.status != "succeeded" or not run.proposed:
        raise Conflict("Only a preview that finished can be saved. Preview the mapping again.")
    integration = db.session.get(Integration, run.integration_id)
    if run.proposed.get("mapping_version", integration.mapping_version) != integration.mapping_version:
        raise Conflict("The mapping was saved since this preview (this one, or another): preview it again, so what "
                       "you save is what you saw.")
    return dict(run.proposed["mapping"]), run.proposed["guest_policy"], run.proposed.get("scope")


def overtaken(run: SyncRun) -> bool:
    """Whether a real run finished after this preview: the directory may have moved, so its counts may have too."""
    return db.session.scalar(sa.select(SyncRun.id).where(
        SyncRun.integration_id == run.integration_id, SyncRun.id > run.id, SyncRun.trigger != PREVIEW,
        SyncRun.status == "succeeded").limit(1)) is not None


class PreviewEngine(SyncEngine):
    """The sync engine with every write replaced: examples are recorded instead, and nothing is linked or audited."""

    def __init__(self, integration, run, graph, settings, *, on_page=None):
        super().__init__(integration, run, graph, settings, on_page=on_page)
        proposed = run.proposed or {}
        self.mapping = dict(proposed.get("mapping") or self.mapping)
        self.select = field_mapping.select_for(self.mapping)
        self.guest_policy = proposed.get("guest_policy") or self.guest_policy
        self.shown: Counter = Counter()  # examples recorded so far, per kind

    def _announce_start(self) -> None:
        """A preview changes nothing, so it is not a sync in the audit log."""

    def _next_delta_link(self, manager: bool) -> None:
        return None  # the delta link stays where the last real run left it

    def _write_page(self, changes: PageChanges) -> None:
        run_changes.record_examples(self.run.id, changes, self.shown, EXAMPLES)

    def _link(self, adoption: requester_store.Adoption) -> None:
        """Nothing is linked; the addresses already adopted are remembered (by the caller) as the real run would."""

    def _hold(self, going: int, active_before: int) -> None:
        self.run.message = (f"The real run would deactivate {going} of {active_before} active requesters, more than "
                            f"the {self.settings.threshold_percent}% threshold, so it would wait for an admin to confirm.")

    def _write_deactivations(self) -> None:
        run_changes.record_deactivation_examples(self.run.id, self.pending, self.shown, EXAMPLES)

    def _after_writes(self) -> None:
        db.session.commit()

    def _record_finish(self, status: str) -> None:
        run = self.run
        run.status, run.finished_at, run.retries = status, datetime.now(UTC), self.retries
        db.session.commit()
