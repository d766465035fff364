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


def test_a_move_keeps_the_keyboard_on_the_moved_step_and_keeps_what_was_chosen(client, login_as, integration,
                                                                               catalogue):
    """After Down the moved step's button has the focus and a status line says what moved; Enabled, the approver and
    the ticked services survive the reload."""
    login_as("admin")
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    leaver = catalogue["Leaver: disable account"].id
    form = {"csrf_token": csrf_from(page), "name": "Leaver", "scope": "some", "categories": str(leaver),
            "approval_approver": "any_admin", "step_count": "3",
            **{f"step_{i}_integration": integration.id for i in range(3)},
            "step_0_action": "revoke_sessions", "step_1_action": "disable", "step_2_action": "unlock"}
    moved = client.post("/admin/workflows/new", data=dict(form, step_0_down="1")).get_data(as_text=True)
    assert re.search(r'id="step-1-down" autofocus name="step_1_down"', moved) and moved.count("autofocus") == 1
    assert 'role="status" id="step-moved">Step 1 moved down: it is now step 2.' in moved
    assert not re.search(r'id="enabled"[^>]*checked', moved)  # Enabled was left unticked
    assert re.search(r'id="scope-some" value="some" checked', moved)
    assert re.search(rf'id="category-{leaver}" value="{leaver}" checked', moved)
    assert '<option value="any_admin" selected>' in moved
    added = client.post("/admin/workflows/new", data=dict(form, add_step="1")).get_data(as_text=True)
    assert re.search(r'id="step_3_integration" name="step_3_integration" autofocus', added)


def test_errors_are_listed_linked_and_shown_on_their_step(client, login_as, integration, catalogue):
    """A refused save lists each problem, linked to its field, and repeats it inside the step or section it is about."""
    login_as("admin")
    page = editor_post(client, {"scope": "all", "step_count": "2", "step_0_integration": integration.id,
                                "step_1_integration": integration.id, "step_1_action": "wipe",
                                "approval_approver": "named_admin"}).get_data(as_text=True)
    summary = page.split('id="workflow-errors"')[1].split("</div>")[0]
    assert 'href="#step_1_integration"' in summary and "Step 2: Choose one of the actions." in summary
    assert 'href="#approval_approver"' in summary and "Choose the admin who approves." in summary
    assert 'id="step-1" aria-describedby="step-1-error"' in page and 'id="step-1-error">Choose one of the actions.' in page
    assert 'id="approval-error">Choose the admin who approves.' in page


def test_saved_workflows_keep_their_meaning_when_edited(client, login_as, integration, catalogue, db):
    """A workflow with no services opens on 'Every ticket' (the warning saying so); one with services opens on 'Only
    these services' with them ticked; saving 'every ticket' says so in the confirmation."""
    login_as("admin")
    every = editor_post(client, {"scope": "all", "step_0_integration": integration.id})
    assert every.status_code == 302
    page = client.get(every.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "It runs for every ticket, whatever its service." in page
    saved = db.session.scalars(sa.select(Workflow)).one()
    editor = client.get(f"/admin/workflows/{saved.id}").get_data(as_text=True)
    assert re.search(r'id="scope-all" value="all" checked', editor) and 'class="scope-warning' in editor
    locked = catalogue["Account locked out"].id
    saved.category_ids = [locked]
    db.session.commit()
    editor = client.get(f"/admin/workflows/{saved.id}").get_data(as_text=True)
    assert re.search(r'id="scope-some" value="some" checked', editor)
    assert re.search(rf'id="category-{locked}" value="{locked}" checked', editor)


def test_an_approval_among_the_actions_is_refused_clearly(client, login_as, integration, catalogue, db):
    """The Approval step always comes first: one posted between the actions is refused on that step, saying where it
    belongs; chosen in its own section it is saved as step 1."""
    login_as("admin")
    wedged = editor_post(client, {"scope": "all", "step_count": "2", "step_0_integration": integration.id,
                                  "step_1_integration": integration.id, "step_1_action": "approval"})
    page = wedged.get_data(as_text=True)
    assert wedged.status_code == 422
    assert "Step 2: An approval cannot come between actions: choose the approver under" in page
    first = editor_post(client, {"scope": "all", "step_0_integration": integration.id,
                                 "approval_approver": "any_admin"})
    assert first.status_code == 302
    assert [s.kind for s in db.session.scalars(sa.select(Workflow)).one().steps] == ["approval", "app_integration"]
