"""Sign a Flask test client in through the emulator's real Microsoft pages (MSAL on the portal side)."""
import requests

from tests.conftest import csrf_from
from tests.msft import hidden_fields, result_params, submit_login


def begin(client, integration, next_url=None):
    """Press 'Sign in with Microsoft'; returns the portal's redirect to Microsoft's authorize URL."""
    page = client.get("/login").get_data(as_text=True)
    url = f"/auth/start/{integration.id}" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": csrf_from(page)})


def microsoft_answer(authorize_url, username, password, browser=None, action="signin"):
    """What Microsoft posts back to the portal after the person uses the sign-in page."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url)
    response = submit_login(browser, page, username, password, action=action)
    if response.status_code == 200 and "hiddenform" not in response.text:
        return None, response  # still on Microsoft's page (wrong password, forced change ...)
    return result_params(response), response


def finish(client, fields):
    """Post the answer to /auth/callback as the browser would, then follow the same-site 303."""
    bounced = client.post("/auth/callback", data=fields)
    assert bounced.status_code == 303, bounced.get_data(as_text=True)[:500]
    return client.get(bounced.headers["Location"])


def sign_in(client, integration, username, password, next_url=None):
    """The whole round trip; returns the portal's final response."""
    start = begin(client, integration, next_url)
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    fields, _ = microsoft_answer(start.headers["Location"], username, password)
    assert fields is not None, "Microsoft did not answer the portal"
    return finish(client, fields)


def form_post_target(response) -> str:
    """Where Microsoft's form_post page sends the browser."""
    return hidden_fields(response.text)[0]


def admin_sign_in(client, integration, username, password="Start-Password-1", next_url=None):
    """Press 'Sign in with Microsoft' on the admin sign-in page and go through Microsoft's pages."""
    page = client.get("/admin/login").get_data(as_text=True)
    url = f"/admin/login/microsoft/{integration.id}" + (f"?next={next_url}" if next_url else "")
    start = client.post(url, data={"csrf_token": csrf_from(page)})
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    fields, _ = microsoft_answer(start.headers["Location"], username, password)
    assert fields is not None, "Microsoft did not answer the portal"
    return finish(client, fields)
