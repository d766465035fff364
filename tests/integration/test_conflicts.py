"""The Conflicts page: a mail address several people share (counted, open until unique) and a renamed sign-in
name (the link stays on the object id, the old name is kept)."""
import sqlalchemy as sa

from portal import jobs
from portal.directory import requester_store
from portal.directory.runs import start_run
from portal.models import Requester, SyncConflict, SyncRun


def sync(app, integration, mode="delta"):
    start_run(integration, mode, "manual")
    jobs.run_queued_syncs(app)
    return db_last_run()


def db_last_run():
    from portal.extensions import db

    db.session.expire_all()
    return db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()


def test_shared_mail_is_counted_shown_and_closed_when_unique(app, db, synced, new_user, emulator, login_as, client):
    """Two people with one mailbox address: both stay active, the run counts a conflict, the page names both and
    says what to do; once one address changes, the next sync closes it."""
    first = new_user(mail="helpdesk.shared@contoso.onmicrosoft.com")
    second = new_user(mail="helpdesk.shared@contoso.onmicrosoft.com")
    run = sync(app, synced)
    shared = requester_store.shared_mail(synced.id)  # the shared emulator may hold other tests' shared addresses
    assert "helpdesk.shared@contoso.onmicrosoft.com" in shared and run.conflicts == len(shared)
    people = db.session.scalars(sa.select(Requester).where(Requester.email == "helpdesk.shared@contoso.onmicrosoft.com")).all()
    assert len(people) == 2 and {p.status for p in people} == {"active"}
    login_as("admin")
    page = client.get(f"/admin/integrations/{synced.id}/conflicts").get_data(as_text=True)
    assert "helpdesk.shared@contoso.onmicrosoft.com" in page and page.count(first["userPrincipalName"]) == 1
    assert second["userPrincipalName"] in page and "To resolve:" in page
    emulator.update_user(second["id"], mail="second.person@contoso.onmicrosoft.com")
    assert sync(app, synced).conflicts == len(shared) - 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(SyncConflict.resolved_at).where(
        SyncConflict.kind == "shared_mail", SyncConflict.key == "helpdesk.shared@contoso.onmicrosoft.com")) is not None


def test_a_renamed_sign_in_name_keeps_the_link_and_is_recorded(app, db, synced, new_user, emulator, login_as, client):
    """A UPN change for a known object id updates the same requester (no second row) and is listed with old and new,
    after a delta and after a full sync alike."""
    user = new_user()
    sync(app, synced)
    domain = user["userPrincipalName"].split("@")[1]
    for mode, name in (("delta", "renamed.once"), ("full", "renamed.twice")):
        emulator.update_user(user["id"], userPrincipalName=f"{name}.{user['id'][:6]}@{domain}")
        run = sync(app, synced, mode)
        assert run.conflicts == len(requester_store.shared_mail(synced.id)) + 1  # this rename, plus shared mail
    rows = db.session.scalars(sa.select(Requester).where(Requester.entra_object_id == user["id"])).all()
    assert len(rows) == 1 and rows[0].user_principal_name.startswith("renamed.twice")
    login_as("admin")
    page = client.get(f"/admin/integrations/{synced.id}/conflicts").get_data(as_text=True)
    assert user["userPrincipalName"] in page and "renamed.once" in page and "renamed.twice" in page


def test_the_run_page_lists_who_changed_with_fields_and_exports_them(app, db, synced, new_user, emulator, login_as,
                                                                     client):
    """A created person, an updated one (old and new department) and a deactivated one are listed on the run page
    and in its CSV."""
    stays, leaves = new_user(department="Sales"), new_user()
    sync(app, synced)
    emulator.update_user(stays["id"], department="Legal")
    emulator.update_user(leaves["id"], accountEnabled=False)
    arrives = new_user(displayName="Newly Arrived")
    run = sync(app, synced)
    login_as("admin")
    page = client.get(f"/admin/sync/runs/{run.id}").get_data(as_text=True)
    assert 'id="run-changes"' in page and "Newly Arrived" in page
    assert "Sales → Legal" in page and "deactivated" in page
    csv = client.get(f"/admin/sync/runs/{run.id}/changes.csv").get_data(as_text=True)
    lines = csv.strip().splitlines()
    assert lines[0].strip() == "object_id,name,change,fields"
    assert any(arrives["id"] in line and "created" in line for line in lines)
    assert any(stays["id"] in line and "department: 'Sales' -> 'Legal'" in line for line in lines)
    assert any(leaves["id"] in line and "deactivated" in line for line in lines)


def test_guest_policy(app, db, synced, new_user, login_as, client):
    """Include: guests are requesters. With mail: a guest without mail is removed. Exclude: every guest is removed
    and counted; members never are."""
    from portal import integrations, signals

    member = new_user()
    with_mail = new_user(userType="Guest", mail="partner.guest@fabrikam.example")
    without = new_user(userType="Guest", mail=None)
    sync(app, synced, "full")

    def status(user):
        db.session.expire_all()
        return db.session.scalar(sa.select(Requester.status).where(Requester.entra_object_id == user["id"]))

    assert (status(member), status(with_mail), status(without)) == ("active", "active", "active")
    login_as("admin")
    page = client.get(f"/admin/integrations/{synced.id}/mapping").get_data(as_text=True)
    assert 'id="guest-policy"' in page
    for policy, expected in (("with_mail", ("active", "active", "deleted")), ("exclude", ("active", "deleted", "deleted"))):
        integrations.save_mapping(synced, integrations.mapping_of(synced), actor=signals.SYSTEM, guest_policy=policy)
        run = sync(app, synced, "full")
        assert run.status == "succeeded" and run.excluded >= (1 if policy == "with_mail" else 2), (policy, run.message)
        assert (status(member), status(with_mail), status(without)) == expected, policy
    shown = client.get(f"/admin/integrations/{synced.id}/conflicts").get_data(as_text=True)
    assert "Leave guests out" in shown and 'id="guests"' in shown
