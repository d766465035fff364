"""The workflow editor: running for every ticket is an explicit choice, services are checkboxes, and a lone verified
integration is preselected for the first step."""
import re

import sqlalchemy as sa

from portal.models import Workflow
from tests.conftest import csrf_from


def editor_post(client, data: dict):
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    base = {"csrf_token": csrf_from(page), "name": "Unlock on request", "step_0_action": "unlock",
            "step_0_target": "requester"}
    return client.post("/admin/workflows/new", data=dict(base, **data))


def test_every_ticket_must_be_chosen_not_implied(client, login_as, integration, catalogue, db):
    """No choice and no service: refused; 'only these' with none ticked: refused; 'every ticket': saved with no
    services."""
    login_as("admin")
    step = {"step_0_integration": integration.id}
    first = editor_post(client, step)
    assert first.status_code == 422 and "Choose when the workflow runs" in first.get_data(as_text=True)
    second = editor_post(client, dict(step, scope="some"))
    assert second.status_code == 422 and "Tick at least one service, or choose Every ticket." in second.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Workflow)) == 0
    ticked = editor_post(client, dict(step, scope="all", categories=str(catalogue["Account locked out"].id)))
    assert ticked.status_code == 302
    saved = db.session.scalars(sa.select(Workflow)).one()
    assert saved.category_ids == []  # 'every ticket' wins over stray ticks


def test_services_are_checkboxes_and_one_integration_is_preselected(client, login_as, integration, catalogue):
    """Checkboxes instead of a Ctrl-click list; the warning sits with 'Every ticket'; step 1 starts on the only
    verified integration, the optional steps start empty."""
    login_as("admin")
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    assert len(re.findall(r'type="checkbox" name="categories"', page)) == len(catalogue) and " multiple" not in page
    assert 'id="scope-all-warning"' in page and not re.search(r'name="scope"[^>]*checked', page)
    first = page.split('id="step_0_integration"')[1].split("</select>")[0]
    assert f'<option value="{integration.id}" selected>' in first
    assert 'name="step_count" value="1"' in page and 'id="step_1_integration"' not in page  # one step to start


def test_steps_are_added_moved_and_removed_one_at_a_time(client, login_as, integration, catalogue, db):
    """Add step shows a second empty step; Up swaps it with the first; Remove drops one; nothing is saved until
    Save, which keeps the order shown."""
    login_as("admin")
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "name": "Leaver", "scope": "all", "step_count": "1",
            "step_0_integration": integration.id, "step_0_action": "disable", "step_0_target": "ticket_subject"}
    added = client.post("/admin/workflows/new", data=dict(form, add_step="1")).get_data(as_text=True)
    assert 'name="step_count" value="2"' in added and 'id="step_1_integration"' in added
    two = dict(form, step_count="2", step_1_integration=integration.id, step_1_action="revoke_sessions",
               step_1_target="ticket_subject")
    moved = client.post("/admin/workflows/new", data=dict(two, step_1_up="1")).get_data(as_text=True)
    assert re.search(r'id="step_0_revoke_sessions" value="revoke_sessions" checked', moved)
    assert re.search(r'id="step_1_disable" value="disable" checked', moved)
    removed = client.post("/admin/workflows/new", data=dict(two, step_0_remove="1")).get_data(as_text=True)
    assert 'name="step_count" value="1"' in removed and re.search(r'id="step_0_revoke_sessions"[^>]*checked', removed)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Workflow)) == 0  # only Save saves
    saved = client.post("/admin/workflows/new", data=dict(two, step_0_action="revoke_sessions",
                                                          step_1_action="disable"))
    assert saved.status_code == 302
    steps = db.session.scalars(sa.select(Workflow)).one().steps
    assert [s.action for s in steps if s.kind != "approval"] == ["revoke_sessions", "disable"]
