"""The dry run ("Preview changes"): a full listing with a proposed mapping and guest policy that writes nothing, whose
counts equal those of the real run that follows; local requesters two accounts match; removals already applied."""
import re

import sqlalchemy as sa

from portal import integrations, jobs, policy, signals
from portal.directory import conflicts, dry_run, field_mapping
from portal.directory.runs import start_run
from portal.directory.sync import PREVIEW
from portal.exceptions import Conflict
from portal.models import AuditEvent, Integration, Requester, SyncChange, SyncConflict, SyncRun
from tests.conftest import csrf_from
from tests.integration.test_mapping_pages import mapping_post

COUNTS = ("created", "updated", "unchanged", "deactivated", "reactivated", "excluded", "already_removed", "failed")


def counts(run: SyncRun) -> dict:
    return {name: getattr(run, name) for name in COUNTS}


def requester_table(db) -> list[tuple]:
    """Every requester row as sync would write it, to prove a preview wrote nothing."""
    rows = db.session.execute(sa.select(Requester.id, Requester.integration_id, Requester.entra_object_id,
                                        Requester.content_hash, Requester.status, Requester.department,
                                        Requester.updated_at).order_by(Requester.id))
    return [tuple(r) for r in rows]


def latest_run(db) -> SyncRun:
    db.session.expire_all()
    return db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()


def preview(app, db, integration, mapping, guest_policy="include") -> SyncRun:
    dry_run.start_preview(integration, mapping, guest_policy)
    jobs.run_queued_syncs(app)
    return latest_run(db)


def real_run(app, db, integration, mapping, guest_policy="include") -> SyncRun:
    integrations.save_mapping(integration, mapping, actor=signals.SYSTEM, guest_policy=guest_policy)
    start_run(integration, "full", "mapping")
    jobs.run_queued_syncs(app)
    return latest_run(db)


def test_preview_from_the_mapping_page_writes_nothing_and_the_saved_run_matches(app, db, integration, login_as,
                                                                                client):
    """Before the first sync: Preview changes reads every user and writes no requester, sync time, delta link,
    mapping or audit event; its page offers Save, and the run that Save starts counts exactly what it predicted."""
    login_as("admin")
    audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = mapping_post(client, integration, {"job_title": "employeeType", "employee_type": ""}, button="dry_run")
    assert response.status_code == 302 and "/admin/sync/runs/" in response.location
    run = latest_run(db)
    assert run.trigger == PREVIEW and run.status == "succeeded" and run.created == run.fetched > 20
    assert run.proposed["mapping"]["job_title"] == "employeeType" and run.proposed["guest_policy"] == "include"
    db.session.refresh(integration)
    assert requester_table(db) == [] and integration.last_sync_at is None and integration.delta_link is None
    assert integration.mapping_version == 0 and integrations.mapping_of(integration)["job_title"] == "jobTitle"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == audit_before
    examples = db.session.scalars(sa.select(SyncChange).where(SyncChange.run_id == run.id)).all()
    assert len(examples) == dry_run.EXAMPLES and {e.kind for e in examples} == {"created"}
    assert all(e.fields["display_name"][0] is None and e.fields["display_name"][1] for e in examples)

    page = client.get(f"/admin/sync/runs/{run.id}").get_data(as_text=True)
    assert "Preview of changes" in page and "wrote nothing" in page and "Save this mapping and sync" in page
    assert re.search(r'data-count="created">\s*%d<' % run.created, page)
    saved = client.post(f"/admin/sync/runs/{run.id}/save-mapping", data={"csrf_token": csrf_from(page)})
    assert saved.status_code == 302
    real = latest_run(db)
    assert real.id != run.id and real.trigger == "mapping" and real.status == "succeeded"
    assert counts(real) == counts(run)
    assert 'id="preview-overtaken"' not in page
    assert 'id="preview-overtaken"' in client.get(f"/admin/sync/runs/{run.id}").get_data(as_text=True)
    db.session.refresh(integration)
    assert integration.mapping_version == 1 and integrations.mapping_of(integration)["job_title"] == "employeeType"


def test_preview_of_a_changed_mapping_and_guest_policy_predicts_every_counter(app, db, synced, new_user, emulator):
    """After a sync: new, changed, disabled, re-enabled, deleted and guest users under a new mapping and the
    'exclude guests' policy; the preview counts each kind as the real run does, shows field-level diffs, and leaves
    the requester table as it was."""
    disabled_before = new_user(accountEnabled=False)
    guest = new_user(userType="Guest")
    changed, leaver, deleted = new_user(department="Sales"), new_user(), new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    emulator.update_user(changed["id"], department="Legal")
    emulator.update_user(leaver["id"], accountEnabled=False)
    emulator.update_user(disabled_before["id"], accountEnabled=True)
    emulator.soft_delete(deleted["id"])
    arrived = new_user()
    mapping = dict(integrations.mapping_of(synced), office_location="")
    before = requester_table(db)
    predicted = preview(app, db, synced, mapping, "exclude")
    assert requester_table(db) == before
    assert predicted.status == "succeeded" and predicted.created >= 1 and predicted.reactivated >= 1
    assert predicted.deactivated >= 3 and predicted.excluded >= 1 and predicted.updated >= 1
    kinds = {c.object_id: c for c in db.session.scalars(sa.select(SyncChange).where(SyncChange.run_id == predicted.id))}
    assert len(kinds) <= 4 * dry_run.EXAMPLES
    if changed["id"] in kinds:  # examples are the first 20 of each kind Microsoft lists
        assert kinds[changed["id"]].fields["department"] == ["Sales", "Legal"]
    assert arrived["id"] in kinds or predicted.created > dry_run.EXAMPLES
    real = real_run(app, db, synced, mapping, "exclude")
    assert real.trigger == "mapping" and counts(real) == counts(predicted)
    assert db.session.scalar(sa.select(Requester.status).where(Requester.entra_object_id == guest["id"])) == "deleted"


def test_a_preview_says_when_the_real_run_would_be_held(app, db, synced, new_user, emulator):
    """With a 0% threshold one deactivation is too many: the preview still counts it, says the real run would wait
    for confirmation, and deactivates nobody."""
    leaver = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    policy.set_values({"sync_deactivation_threshold_percent": 0}, actor=signals.SYSTEM)
    emulator.update_user(leaver["id"], accountEnabled=False)
    run = preview(app, db, synced, integrations.mapping_of(synced))
    assert run.status == "succeeded" and run.deactivated >= 1 and run.held_deactivations == run.deactivated
    assert "would wait for an admin to confirm" in run.message
    assert db.session.scalar(sa.select(Requester.status).where(Requester.entra_object_id == leaver["id"])) == "active"


def test_a_preview_is_refused_while_a_sync_runs_and_cannot_be_saved_unfinished(app, db, integration, login_as,
                                                                                client):
    """A preview waits its turn like any run; only a finished preview can be saved."""
    queued = start_run(integration, "full", "manual")
    try:
        dry_run.start_preview(integration, field_mapping.default_mapping(), "include")
        raise AssertionError("a second run was queued")
    except Conflict as exc:
        assert "already queued or running" in exc.message
    login_as("admin")
    page = client.get(f"/admin/sync/runs/{queued.id}").get_data(as_text=True)
    response = client.post(f"/admin/sync/runs/{queued.id}/save-mapping", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "Only a preview that finished can be saved" in response.get_data(as_text=True)
    db.session.refresh(integration)
    assert integration.mapping_version == 0


def test_a_local_requester_two_accounts_match(app, db, integration, new_user, login_as, client):
    """Two Microsoft accounts with a local requester's address: the first listed adopts the local record, the other
    becomes its own requester, the run counts a conflict that the Conflicts page explains; the preview agrees."""
    address = f"shared.{integration.id}.{new_user()['id'][:8]}@contoso.example"
    first, second = new_user(mail=address), new_user(mail=address)
    local = Requester(display_name="Raised tickets before sync", email=address.upper())
    db.session.add(local)
    db.session.commit()
    mapping = field_mapping.default_mapping()
    predicted = preview(app, db, integration, mapping)
    db.session.refresh(local)
    assert local.integration_id is None and local.entra_object_id is None
    real = real_run(app, db, integration, mapping)
    assert counts(real) == counts(predicted) and real.conflicts >= 2  # this clash, and the shared address
    db.session.refresh(local)
    assert local.integration_id == integration.id and local.entra_object_id in (first["id"], second["id"])
    other = second["id"] if local.entra_object_id == first["id"] else first["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(
        Requester.entra_object_id == other)) == 1
    clash = db.session.scalars(sa.select(SyncConflict).where(SyncConflict.kind == "two_accounts")).one()
    assert clash.requester_ids == [local.id] and clash.detail == {"linked": local.entra_object_id, "other": other}
    login_as("admin")
    page = client.get(f"/admin/integrations/{integration.id}/conflicts").get_data(as_text=True)
    assert 'id="two-accounts"' in page and address in page and other in page and "To resolve:" in page


def test_removal_of_someone_already_removed_has_its_own_counter(app, db, synced, new_user, emulator):
    """Soft delete, then hard delete: the first removal deactivates, the second finds the person already removed and
    counts it, so every item the delta listed lands in a counter."""
    gone = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    emulator.soft_delete(gone["id"])
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    first = latest_run(db)
    assert first.deactivated == 1 and first.already_removed == 0
    emulator.hard_delete(gone["id"])
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    second = latest_run(db)
    assert second.status == "succeeded" and second.fetched == 1 and second.already_removed == 1
    assert second.deactivated == 0 and second.updated == 0
    assert db.session.get(Integration, synced.id).status == "verified"


def test_an_old_preview_cannot_undo_a_later_mapping(app, db, integration, login_as, client):
    """Saved once, a preview's Save is refused after the mapping changed, so it never reverts a newer mapping."""
    login_as("admin")
    mapping_post(client, integration, {"job_title": "employeeType", "employee_type": ""}, button="dry_run")
    run = latest_run(db)
    page = client.get(f"/admin/sync/runs/{run.id}").get_data(as_text=True)
    assert client.post(f"/admin/sync/runs/{run.id}/save-mapping", data={"csrf_token": csrf_from(page)}).status_code == 302
    integrations.save_mapping(integration, field_mapping.default_mapping(), actor=signals.SYSTEM)
    replay = client.post(f"/admin/sync/runs/{run.id}/save-mapping", data={"csrf_token": csrf_from(page)},
                         follow_redirects=True).get_data(as_text=True)
    assert "The mapping was saved since this preview" in replay
    db.session.refresh(integration)
    assert integrations.mapping_of(integration)["job_title"] == "jobTitle"


def test_disabled_accounts_and_guests_never_adopt_a_local_requester(app, db, integration, new_user):
    """A local requester's address on a disabled account or on a guest links nothing: the record stays local."""
    address = f"keep.{new_user()['id'][:8]}@contoso.example"
    new_user(mail=address, accountEnabled=False)
    new_user(mail=address.upper(), userType="Guest")
    local = Requester(display_name="Raised tickets before sync", email=address)
    db.session.add(local)
    db.session.commit()
    real_run(app, db, integration, field_mapping.default_mapping())
    db.session.refresh(local)
    assert local.integration_id is None and local.entra_object_id is None and local.status == "active"


def test_a_confirmation_waits_while_a_preview_runs_and_previews_are_not_syncs(app, db, synced, login_as, client):
    """Confirming a held run while another run is queued keeps it waiting (nothing lost); a preview never counts as
    the last sync on the Conflicts page."""
    held = start_run(synced, "full", "manual")
    held.status = "awaiting_confirmation"
    db.session.commit()
    dry_run.start_preview(synced, integrations.mapping_of(synced), "exclude")
    login_as("admin")
    page = client.get(f"/admin/sync/runs/{held.id}").get_data(as_text=True)
    answer = client.post(f"/admin/sync/runs/{held.id}/confirm", data={"csrf_token": csrf_from(page)},
                         follow_redirects=True).get_data(as_text=True)
    assert "still waits for confirmation" in answer
    db.session.refresh(held)
    assert held.status == "awaiting_confirmation"
    jobs.run_queued_syncs(app)
    assert latest_run(db).trigger == PREVIEW and latest_run(db).status == "succeeded"
    shown = conflicts.for_page(synced.id)["last_run"]
    assert shown is not None and shown.trigger != PREVIEW
