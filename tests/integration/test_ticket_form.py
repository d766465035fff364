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


def test_each_card_has_its_icon_name_and_description_for_screen_readers(client, login_as, requester, catalogue, db):
    """Seeded services have their own icon, a new one gets one from its name or the default; each radio is named by
    the service and described by its description."""
    from portal import tickets

    printers = tickets.add_service("Printer jammed", "A printer will not print.", "self")
    other = tickets.add_service("Desk move", "Moving to another desk.", "self")
    login_as(requester)
    page = client.get("/tickets/new").get_data(as_text=True)
    locked = catalogue["Account locked out"].id
    for service_id, icon in ((locked, "person-lock"), (catalogue["Reset my password"].id, "key"),
                             (printers.id, "printer"), (other.id, "life-preserver")):
        card = page.split(f'for="category-{service_id}"')[1].split("</label>")[0]
        assert f'class="bi bi-{icon} ' in card
    assert (f'aria-labelledby="category-{locked}-name" aria-describedby="category-{locked}-about"' in page
            and f'id="category-{locked}-name">Account locked out<' in page)


def test_a_hidden_or_unknown_service_is_refused_on_the_cards(client, login_as, requester, catalogue, db):
    """A service that is not offered (hidden since the page loaded, or made up) gets the error on the cards."""
    from portal import tickets

    hidden = catalogue["General request"]
    tickets.toggle_service(hidden)
    login_as(requester)
    token = csrf_from(client.get("/tickets/new").get_data(as_text=True))
    for value in (hidden.id, 999999):
        response = client.post("/tickets/new", data={"csrf_token": token, "category": value, "subject": "Help"})
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and "Choose one of the services shown." in page
        assert f'aria-describedby="category-{catalogue["Account locked out"].id}-about category-error"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
