"""Raising a ticket: the catalogue as cards with nothing chosen, and a clear error when no service is picked."""
import re

import sqlalchemy as sa

from portal.models import Ticket
from tests.conftest import csrf_from


def test_no_service_is_preselected_and_each_is_a_card(client, login_as, requester, catalogue):
    """Every active service is a radio card with its description; none is checked for the person."""
    login_as(requester)
    page = client.get("/tickets/new").get_data(as_text=True)
    radios = re.findall(r'<input class="btn-check" type="radio" name="category"[^>]*>', page)
    assert len(radios) == len(catalogue) and not any("checked" in r for r in radios)
    for service in catalogue.values():
        assert f'for="category-{service.id}"' in page and service.description in page


def test_raising_without_a_service_says_so_and_keeps_what_was_typed(client, login_as, requester, catalogue, db):
    """No choice: 422, the error tied to the cards, the subject still there, and no ticket."""
    login_as(requester)
    token = csrf_from(client.get("/tickets/new").get_data(as_text=True))
    response = client.post("/tickets/new", data={"csrf_token": token, "subject": "Printer on floor 3 is jammed"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose the service you need." in page
    assert 'aria-describedby="category-error"' in page and "Printer on floor 3 is jammed" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
