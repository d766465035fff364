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
    first, second = (page.split(f'id="step_{i}_integration"')[1].split("</select>")[0] for i in (0, 1))
    assert f'<option value="{integration.id}" selected>' in first
    assert " selected" not in second
