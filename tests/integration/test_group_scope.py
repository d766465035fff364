"""Group-scoped sync against a dedicated emulated tenant over HTTPS: the full listing of chosen groups (nested members,
nobody else, each person once), delta (joined through a nested group, removed, group deleted), the threshold on a
scope change, its dry run, and the mapping form's refusals."""
import dataclasses
import uuid

import pytest
import sqlalchemy as sa

from portal import integrations, jobs, signals, sync_scope
from portal.directory import dry_run, field_mapping
from portal.directory.runs import confirm_held_run, start_run
from portal.directory.sync import PREVIEW, build_sync_engine
from portal.entra.clients import MicrosoftSettings
from portal.models import Requester, ScopeGroup, SyncRun
from tests.conftest import csrf_from, dedicated_tenant, install_integration

USERS = 120
PAGE = 10  # small pages: a listing of the whole tenant would take USERS / PAGE requests


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    """A dedicated emulator, so counts and memberships are this module's own."""
    yield from dedicated_tenant(tmp_path_factory, USERS, 21, "scope-emulator")


@pytest.fixture
def scoped(app, tenant):
    """An installed integration (default mapping) against the dedicated tenant."""
    tenant.clear_faults()
    return install_integration(app, tenant)


def directory(tenant):
    return tenant.running.state.directory.tenants[tenant.tenant_id]


def users_in(tenant, *group_ids) -> set[str]:
    """The live users in the groups, nested members included, as Entra sees them now."""
    tenant_state = directory(tenant)
    found = set()
    for group_id in group_ids:
        found |= {m for m, _ in tenant_state.groups.transitive_members(group_id)
                  if not tenant_state.users[m].soft_deleted}
    return found


def settings(app, threshold=None):
    base = jobs.sync_settings(app.config)
    return dataclasses.replace(base, page_size=PAGE, threshold_percent=threshold or base.threshold_percent)


def sync(app, integration, mode="delta", trigger="manual", threshold=100, run=None) -> SyncRun:
    """Queue and run one sync in this thread (threshold 100% unless a test is about the threshold)."""
    run = run or start_run(integration, mode, trigger)
    return build_sync_engine(integration, run, settings(app, threshold)).execute()


def choose(app, integration, *group_ids, kind="groups"):
    """Save a scope as the mapping page does (checked with Microsoft first)."""
    scope = sync_scope.clean_scope(integration, kind, list(group_ids), MicrosoftSettings.from_config(app.config))
    integrations.save_mapping(integration, integrations.mapping_of(integration), actor=signals.SYSTEM, scope=scope)


def people(db, integration, status=None) -> set[str]:
    query = sa.select(Requester.entra_object_id).where(Requester.integration_id == integration.id)
    if status:
        query = query.where(Requester.status == status)
    return set(db.session.scalars(query))


def new_user(tenant) -> dict:
    name = f"g{uuid.uuid4().hex[:10]}"
    return tenant.create_user(userPrincipalName=f"{name}@{tenant.info['tenant_domain']}", displayName=f"User {name}",
                              mail=f"{name}@{tenant.info['tenant_domain']}", password="Start-Password-1")["props"]


def test_full_sync_lists_only_the_groups_nested_members_once(app, db, scoped, tenant):
    """IT-Admins (with nested Helpdesk-Leads) and a group sharing a member: exactly their users, each created once,
    with their managers, and far fewer Graph requests than listing the tenant would take."""
    admins, leads = tenant.group_id("IT-Admins"), tenant.group_id("Helpdesk-Leads")
    lead = sorted(users_in(tenant, leads))[0]
    overlap = tenant.create_group(f"Overlap {uuid.uuid4().hex[:6]}", members=[lead])["props"]["id"]
    choose(app, scoped, admins, overlap)
    tenant.reset_stats()
    run = sync(app, scoped, mode="full")
    expected = users_in(tenant, admins, overlap)
    assert run.status == "succeeded", run.message
    assert people(db, scoped) == expected and len(expected) == 3
    assert run.created == 3 and run.errors in (None, []) and run.deactivated == 0
    assert tenant.stats()["graph_requests"] < USERS // PAGE
    users = directory(tenant).users
    managers = dict(db.session.execute(sa.select(Requester.entra_object_id, Requester.manager_object_id)
                                       .where(Requester.integration_id == scoped.id)).all())
    assert managers == {oid: users[oid].manager_id for oid in expected}
    assert any(managers.values())
    db.session.refresh(scoped)
    assert scoped.delta_link and scoped.groups_delta_link


def test_delta_follows_membership_and_user_changes_in_scope_only(app, db, scoped, tenant):
    """Added to a nested group: created; removed from a chosen group: deactivated, never deleted; a change to
    someone outside the scope is ignored, one to someone inside is applied."""
    parent = tenant.create_group(f"Parent {uuid.uuid4().hex[:6]}")["props"]["id"]
    child = tenant.create_group(f"Child {uuid.uuid4().hex[:6]}")["props"]["id"]
    stays, leaves, joins = new_user(tenant), new_user(tenant), new_user(tenant)
    outsider = new_user(tenant)
    tenant.add_member(parent, stays["id"])
    tenant.add_member(parent, leaves["id"])
    tenant.add_member(parent, child)
    choose(app, scoped, parent)
    assert sync(app, scoped, mode="full").created == 2

    tenant.add_member(child, joins["id"])
    tenant.remove_member(parent, leaves["id"])
    tenant.update_user(outsider["id"], department="Elsewhere")
    tenant.update_user(stays["id"], department="Still here")
    run = sync(app, scoped)
    assert run.status == "succeeded" and run.mode == "delta", run.message
    assert (run.created, run.deactivated, run.updated) == (1, 1, 1)
    assert people(db, scoped) == {stays["id"], leaves["id"], joins["id"]}
    assert people(db, scoped, "active") == {stays["id"], joins["id"]}
    assert db.session.scalar(sa.select(Requester.department).where(Requester.entra_object_id == stays["id"])) == \
        "Still here"
    quiet = sync(app, scoped)
    assert quiet.mode == "delta" and quiet.created == quiet.updated == quiet.deactivated == 0


def test_deleted_group_deactivates_its_members_and_is_flagged(app, db, scoped, tenant, login_as, client):
    """A chosen group deleted in Entra: its members leave the scope (deactivated, kept) unless another chosen group
    holds them, and the mapping page says the group was deleted."""
    kept, gone = new_user(tenant), new_user(tenant)
    first = tenant.create_group(f"First {uuid.uuid4().hex[:6]}", members=[kept["id"], gone["id"]])["props"]["id"]
    second = tenant.create_group(f"Second {uuid.uuid4().hex[:6]}", members=[kept["id"]])["props"]["id"]
    choose(app, scoped, first, second)
    sync(app, scoped, mode="full")
    tenant.delete_group(first)
    run = sync(app, scoped)
    assert run.status == "succeeded" and run.deactivated == 1, run.message
    assert people(db, scoped, "active") == {kept["id"]} and people(db, scoped) == {kept["id"], gone["id"]}
    missing = db.session.scalar(sa.select(ScopeGroup.missing_since).where(ScopeGroup.group_id == first))
    assert missing is not None
    login_as("admin")
    page = client.get(f"/admin/integrations/{scoped.id}/mapping").get_data(as_text=True)
    assert "Deleted in Entra: brings nobody in" in page


def test_threshold_holds_a_scope_change_until_confirmed(app, db, scoped, tenant):
    """Narrowing a synced tenant to one group would deactivate nearly everyone: the run is held with nothing
    deactivated, and the confirmed run applies it."""
    sync(app, scoped, mode="full")
    active = len(people(db, scoped, "active"))
    helpdesk = tenant.group_id("Helpdesk")
    choose(app, scoped, helpdesk)
    held = sync(app, scoped, mode="full", trigger="mapping", threshold=10)
    staying = users_in(tenant, helpdesk)
    assert held.status == "awaiting_confirmation" and held.deactivated == 0
    assert held.held_deactivations == active - len(staying) and "threshold" in held.message
    assert len(people(db, scoped, "active")) == active
    done = sync(app, scoped, threshold=10, run=confirm_held_run(held, signals.SYSTEM))
    db.session.refresh(held)
    assert held.status == "confirmed" and done.status == "succeeded" and done.trigger == "confirmed", done.message
    assert people(db, scoped, "active") == staying


def test_dry_run_of_a_scope_change_predicts_who_leaves_and_the_hold(app, db, scoped, tenant):
    """Previewing group scope on a synced tenant writes nothing, counts who would leave and says the run would be
    held; saving that preview stores the scope and the real run is held with the same count."""
    sync(app, scoped, mode="full")
    before = people(db, scoped, "active")
    helpdesk = tenant.group_id("Helpdesk")
    scope = sync_scope.clean_scope(scoped, "groups", [helpdesk], MicrosoftSettings.from_config(app.config))
    dry_run.start_preview(scoped, integrations.mapping_of(scoped), "include", scope)
    preview = db.session.scalars(sa.select(SyncRun).where(SyncRun.trigger == PREVIEW)).one()
    sync(app, scoped, run=preview, threshold=10)
    db.session.refresh(preview)
    leaving = len(before - users_in(tenant, helpdesk))
    assert preview.status == "succeeded" and preview.deactivated == leaving > 0, preview.message
    assert "would wait for an admin to confirm" in preview.message
    assert people(db, scoped, "active") == before and scoped.sync_scope == "tenant"
    mapping, guest_policy, proposed = dry_run.proposal_of(preview)
    integrations.save_mapping(scoped, mapping, actor=signals.SYSTEM, guest_policy=guest_policy, scope=proposed)
    assert scoped.sync_scope == "groups"
    real = sync(app, scoped, mode="full", trigger="mapping", threshold=10)
    assert real.status == "awaiting_confirmation" and real.held_deactivations == preview.deactivated


def scope_post(client, integration, kind, groups, button="submit"):
    page = client.get(f"/admin/integrations/{integration.id}/mapping").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), button: "1", "scope": kind, "scope_groups": groups}
    data.update({k: v or "" for k, v in field_mapping.default_mapping().items()})
    return client.post(f"/admin/integrations/{integration.id}/mapping", data=data)


@pytest.mark.parametrize("groups, message", [
    ([], "Choose at least one group"),
    (["'); DROP TABLE requesters; --", "<script>alert(1)</script>"], "2 of the chosen values are not group ids"),
    ([str(uuid.uuid4())], "This tenant has no group with the id"),
    ([str(uuid.uuid4()) for _ in range(sync_scope.MAX_GROUPS + 1)], f"Choose at most {sync_scope.MAX_GROUPS} groups"),
])
def test_mapping_form_refuses_bad_scopes(app, db, scoped, login_as, client, groups, message):
    """Empty, hostile, unknown and too many groups: the page again (422) with the reason; nothing saved or queued."""
    login_as("admin")
    for button in ("submit", "dry_run"):
        response = scope_post(client, scoped, "groups", groups, button)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and message in body
        assert "<script>alert(1)</script>" not in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0
    db.session.refresh(scoped)
    assert scoped.sync_scope == "tenant" and scoped.mapping_version == 0


def test_mapping_form_refuses_an_unknown_scope_kind(app, db, scoped, login_as, client):
    """A scope that is neither of the two choices is refused with the choices named, not a 500."""
    login_as("admin")
    response = scope_post(client, scoped, "<b>everyone-and-more</b>", [])
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose who is synced" in body and "<b>everyone-and-more</b>" not in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_group_scope_is_refused_without_a_group_permission(app, db, tenant, login_as, client):
    """An app with only User.Read.All: saving a group scope and searching groups both say which permission to grant."""
    read_only = install_integration(app, tenant, app_name="Frontdesk (read only)")
    login_as("admin")
    response = scope_post(client, read_only, "groups", [tenant.group_id("Helpdesk")])
    assert response.status_code == 422 and "needs the Microsoft Graph application permission GroupMember.Read.All" \
        in response.get_data(as_text=True)
    picker = client.get(f"/admin/integrations/{read_only.id}/mapping/groups?q=Help").get_data(as_text=True)
    assert "GroupMember.Read.All" in picker
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_picker_searches_with_member_counts_and_survives_hostile_text(app, scoped, tenant, login_as, client):
    """The picker finds groups by a word's start and shows nested member counts; quotes, backslashes and overlong
    text never reach Graph as a broken query."""
    login_as("admin")
    url = f"/admin/integrations/{scoped.id}/mapping/groups"
    found = client.get(url, query_string={"q": "IT"}).get_data(as_text=True)
    count = len(users_in(tenant, tenant.group_id("IT-Admins")))
    assert "IT-Admins" in found and f"{count} people, nested included" in found
    for text in ('"', '\\"} OR "displayName:', "x" * 65):
        response = client.get(url, query_string={"q": text})
        assert response.status_code == 200
    assert "at most 64 characters" in client.get(url, query_string={"q": "x" * 65}).get_data(as_text=True)


def test_saving_a_group_scope_from_the_page_syncs_its_people(app, db, scoped, tenant, login_as, client):
    """Save with a chosen group: the scope is stored, audited with the mapping change, and the full sync brings in
    exactly the group's people."""
    login_as("admin")
    helpdesk = tenant.group_id("Helpdesk")
    app.config["SYNC_KICK"] = "inline"
    response = scope_post(client, scoped, "groups", [helpdesk])
    assert response.status_code == 302
    db.session.refresh(scoped)
    assert scoped.sync_scope == "groups"
    assert people(db, scoped) == users_in(tenant, helpdesk)
