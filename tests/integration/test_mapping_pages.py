"""Mapping validation and preview, saving starts a full sync, sync pages and the directory CLI."""
import html
import re

import pytest
import sqlalchemy as sa

from portal.directory import field_mapping
from portal.models import AuditEvent, Integration, Requester, SyncRun
from tests.conftest import csrf_from


@pytest.fixture
def admin_client(client, login_as, integration):
    login_as("admin")
    return client


def mapping_post(client, integration, changes, button="submit"):
    page = client.get(f"/admin/integrations/{integration.id}/mapping").get_data(as_text=True)
    data = {k: v or "" for k, v in field_mapping.default_mapping().items()}
    data.update(changes)
    data.update({"csrf_token": csrf_from(page), button: "1"})
    return client.post(f"/admin/integrations/{integration.id}/mapping", data=data)


def test_mapping_page_has_three_tabs_with_defaults(admin_client, integration):
    """Requester, Work and Address tabs, each row preselected with its default attribute."""
    page = admin_client.get(f"/admin/integrations/{integration.id}/mapping").get_data(as_text=True)
    for tab in ("Requester", "Work", "Address"):
        assert f">{tab}" in page
    assert re.search(r'<option (selected value="department"|value="department" selected)>', page)
    assert "extensionAttribute15" in page


@pytest.mark.parametrize("changes, message", [
    ({"display_name": ""}, "Name must be mapped"),
    ({"email": "", "user_principal_name": ""}, "Map Email or User principal name"),
    ({"city": "department"}, "already mapped to Department"),
    ({"department": "notAnAttribute"}, "Not a valid choice"),
])
def test_mapping_rules(admin_client, integration, db, changes, message):
    """Identity fields must be mapped and attributes are not mapped twice; nothing changes on error."""
    response = mapping_post(admin_client, integration, changes)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def preview_rows(page):
    """The preview table as one dict per row, keyed by column label, with HTML entities decoded."""
    table = page[page.index('id="preview-table"'):page.index("</table>")]
    labels = [html.unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', table)]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    return [dict(zip(labels, (html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", r, re.S)), strict=True))
            for r in rows]


def test_preview_shows_five_real_users(admin_client, integration, emulator):
    """Preview maps 5 users fetched from Graph, without saving: each row's Department is that user's companyName."""
    response = mapping_post(admin_client, integration, {"department": "companyName", "company_name": ""}, button="preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview: 5 users from your tenant" in page
    rows = preview_rows(page)
    assert len(rows) == 5
    users = {u.props["userPrincipalName"]: u.props
             for u in emulator.running.state.directory.tenants[emulator.tenant_id].users.values()}
    for row in rows:
        user = users[row["User principal name (UPN)"]]
        expected = user.get("companyName") or "—"
        assert row["Department"] == expected
        assert row["Name"] == user["displayName"]


def test_preview_partial_for_htmx(admin_client, integration):
    """With HX-Request the preview returns only the preview section."""
    page = admin_client.get(f"/admin/integrations/{integration.id}/mapping").get_data(as_text=True)
    data = dict(field_mapping.default_mapping(), csrf_token=csrf_from(page), preview="Preview")
    response = admin_client.post(f"/admin/integrations/{integration.id}/mapping", data={k: v or "" for k, v in data.items()},
                                 headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="mapping-preview"') and "<html" not in body


def test_save_mapping_runs_full_sync_and_shows_progress(admin_client, integration, emulator, db):
    """Saving audits the change and starts a full sync; the run page shows the finished counts."""
    response = mapping_post(admin_client, integration, {"department": "companyName", "company_name": ""})
    assert response.status_code == 302 and "/admin/sync/runs/" in response.headers["Location"]
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    run = db.session.scalar(sa.select(SyncRun))
    assert run.status == "succeeded" and run.mode == "full" and run.trigger == "mapping"
    live = [u for u in emulator.running.state.directory.tenants[emulator.tenant_id].users.values() if not u.soft_deleted]
    assert run.created == len(live) and f'data-count="created">{run.created}<' in page
    change = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mapping.changed"))
    assert change.detail == {"department": ["department", "companyName"], "company_name": ["companyName", None]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(Requester.department == "Contoso Ltd")) > 0
    progress = admin_client.get(f"/admin/sync/runs/{run.id}/progress")
    assert progress.status_code == 286 and "Done" in progress.get_data(as_text=True)


def test_sync_now_and_already_running(admin_client, integration, db, app):
    """Sync now runs a delta after the first full run; a second trigger while queued says so."""
    history = admin_client.get(f"/admin/integrations/{integration.id}/sync").get_data(as_text=True)
    token = csrf_from(history)
    first = admin_client.post(f"/admin/integrations/{integration.id}/sync", data={"csrf_token": token, "mode": "delta"})
    assert first.status_code == 302
    second = admin_client.post(f"/admin/integrations/{integration.id}/sync", data={"csrf_token": token, "mode": "delta"})
    runs = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.mode for r in runs] == ["full", "delta"] and all(r.status == "succeeded" for r in runs)
    app.config["SYNC_KICK"] = "none"
    admin_client.post(f"/admin/integrations/{integration.id}/sync", data={"csrf_token": token, "mode": "full"})
    refused = admin_client.post(f"/admin/integrations/{integration.id}/sync", data={"csrf_token": token, "mode": "full"},
                                follow_redirects=True)
    assert "already queued or running" in refused.get_data(as_text=True) and second.status_code == 302


def test_requesters_list_and_detail(admin_client, integration, db, app):
    """After a sync the requesters page lists and searches people; the detail shows synced fields."""
    from portal import jobs
    from portal.directory.runs import start_run

    start_run(integration, "full", "manual")
    jobs.run_queued_syncs(app)
    page = admin_client.get("/admin/requesters?q=adele").get_data(as_text=True)
    assert "Adele Vance" in page
    person = db.session.scalar(sa.select(Requester).where(Requester.display_name == "Adele Vance"))
    detail = admin_client.get(f"/admin/requesters/{person.id}").get_data(as_text=True)
    assert "Retail Manager" in detail and person.entra_object_id in detail
    assert admin_client.get("/admin/requesters/999999").status_code == 404


def test_cli_add_verify_mapping_and_sync(runner, app, emulator, db):
    """The scripted set-up: add (secret on stdin), verify, mapping show/set, sync run; bad input exits non-zero."""
    from tests.conftest import point_at

    point_at(app, emulator)
    creds = emulator.app()
    args = ["integration", "add", "--name", "Scripted", "--tenant", emulator.tenant_id, "--client-id",
            creds["client_id"], "--secret-expires", "2099-01-01"]
    added = runner.invoke(args=args, input=creds["client_secret"] + "\n")
    assert added.exit_code == 0 and "verified" in added.output, added.output
    assert creds["client_secret"] not in added.output
    wrong = runner.invoke(args=args, input="not-the-secret\n")
    assert wrong.exit_code != 0 and "AADSTS7000215" in wrong.output
    item = db.session.scalar(sa.select(Integration))
    assert runner.invoke(args=["integration", "verify", str(item.id)]).exit_code == 0
    shown = runner.invoke(args=["mapping", "show", str(item.id)])
    assert "work\tdepartment\tdepartment" in shown.output
    bad = runner.invoke(args=["mapping", "set", str(item.id), "display_name=-"])
    assert bad.exit_code != 0 and "Name must be mapped" in bad.output
    assert runner.invoke(args=["mapping", "set", str(item.id), "employee_id=-"]).exit_code == 0
    synced = runner.invoke(args=["sync", "run", "--integration", str(item.id)])
    assert synced.exit_code == 0 and "succeeded (full)" in synced.output, synced.output
    again = runner.invoke(args=["sync", "run"])
    assert again.exit_code == 0 and "succeeded (delta)" in again.output and "created 0" in again.output


def test_preview_names_the_manager(admin_client, integration, emulator):
    """'Reports to' shows the manager's name from the expanded manager; the object id stays in the title."""
    import re

    page = mapping_post(admin_client, integration, {}, button="preview").get_data(as_text=True)
    users = emulator.running.state.directory.tenants[emulator.tenant_id].users
    shown = re.findall(r'<span class="manager-name" title="Object id ([0-9a-f-]{36})">([^<]+)</span>', page)
    assert shown, "no previewed user has a manager"
    assert all(name == users[manager_id].props["displayName"] for manager_id, name in shown)
