"""Drive the emulator's Microsoft sign-in pages with a plain HTTP client, as a browser would."""
import html
import re
from urllib.parse import parse_qs, urlsplit

FORM_RE = re.compile(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)
INPUT_RE = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.S)


def hidden_fields(page: str) -> tuple[str, dict]:
    """The first form's action and hidden inputs."""
    match = FORM_RE.search(page)
    assert match, f"no form in page: {page[:300]}"
    fields = {html.unescape(k): html.unescape(v) for k, v in INPUT_RE.findall(match.group(2))}
    return html.unescape(match.group(1)), fields


def absolute(base_url: str, action: str) -> str:
    """Resolve a form action against the page URL."""
    if action.startswith("http"):
        return action
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{action}"


def submit_login(session, login_page, username, password, action="signin"):
    """Post the emulator's sign-in form; returns the response without following redirects."""
    target, fields = hidden_fields(login_page.text)
    fields.update(username=username, password=password, action=action)
    return session.post(absolute(login_page.url, target), data=fields, allow_redirects=False)


def submit_password_change(session, page, new_password, confirm=None):
    """Post the forced password change form."""
    target, fields = hidden_fields(page.text)
    fields.update(new_password=new_password, confirm_password=confirm if confirm is not None else new_password)
    return session.post(absolute(page.url, target), data=fields, allow_redirects=False)


def result_params(response) -> dict:
    """The parameters returned to the app: a redirect's query string or a form_post page's fields."""
    if response.status_code in (301, 302, 303):
        query = urlsplit(response.headers["Location"]).query
        return {k: v[0] for k, v in parse_qs(query).items()}
    _, fields = hidden_fields(response.text)
    return fields
