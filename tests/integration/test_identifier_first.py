"""Identifier-first sign-in: the typed work email goes to Microsoft as login and domain hints, the device remembers
it, a locked account is told so plainly, and an unknown email is treated exactly like a known unlocked one."""
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from portal.models import Requester
from tests.conftest import csrf_from


def start(client, integration, hint):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/auth/start/{integration.id}", data={"csrf_token": token, "login_hint": hint})


def someone(db):
    return db.session.scalars(sa.select(Requester).where(Requester.status == "active").order_by(Requester.id)).first()


def test_the_email_goes_to_microsoft_and_is_remembered(client, db, synced):
    """login_hint and domain_hint reach Microsoft's authorize URL; the next visit to /login is prefilled."""
    person = someone(db)
    response = start(client, synced, person.user_principal_name)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["login_hint"] == [person.user_principal_name]
    assert query["domain_hint"] == [person.user_principal_name.split("@")[1]]
    assert f'value="{person.user_principal_name}"' in client.get("/login").get_data(as_text=True)


def test_a_locked_account_is_told_plainly(client, db, synced):
    """A Microsoft lock and a Frontdesk lock each get their own plain sentence (423), and Microsoft is not called."""
    person = someone(db)
    person.microsoft_locked_until = datetime.now(UTC) + timedelta(minutes=5)
    db.session.commit()
    at_microsoft = start(client, synced, person.user_principal_name.upper())
    assert at_microsoft.status_code == 423
    assert "Your account is locked at Microsoft after too many wrong passwords" in at_microsoft.get_data(as_text=True)
    person.microsoft_locked_until, person.locked_until = None, datetime.now(UTC) + timedelta(minutes=5)
    db.session.commit()
    here = start(client, synced, person.email)
    assert here.status_code == 423 and "Your Frontdesk access is locked" in here.get_data(as_text=True)


def test_unknown_and_known_emails_are_treated_alike(client, db, synced):
    """Both go to Microsoft with a 302; nothing on the way tells them apart."""
    known = start(client, synced, someone(db).user_principal_name)
    unknown = start(client, synced, "nobody.at.all@contoso.onmicrosoft.com")
    assert known.status_code == unknown.status_code == 302
    assert set(parse_qs(urlsplit(known.headers["Location"]).query)) == set(
        parse_qs(urlsplit(unknown.headers["Location"]).query))


def test_an_unusable_hint_is_ignored(client, db, synced):
    """Spaces, control characters or a 300-character value: no hint is sent, the sign-in still starts."""
    for hint in ("a b@contoso.com", "x\u0007@y.com", "a" * 300 + "@contoso.com", "two@@signs"):
        response = start(client, synced, hint)
        assert response.status_code == 302
        assert "login_hint" not in parse_qs(urlsplit(response.headers["Location"]).query)
