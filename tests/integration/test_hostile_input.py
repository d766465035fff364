"""Property tests: random, huge, unicode and repeated input on the sign-in callback, every form and every filter.

The portal must never answer 5xx, every refusal must carry a reference id, a refused form must not have written
anything, and nobody is ever signed in by a forged callback.
"""
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.extensions import db as _db
from portal.models import FieldMapping, Integration, ServiceCategory, Setting, Ticket, Workflow
from tests.conftest import csrf_from
from tests.sso import begin

SAFE_TEXT = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot even be put on the wire
HUGE = st.builds(lambda piece, times: piece * times, st.text(SAFE_TEXT, min_size=1, max_size=4), st.integers(500, 4000))
VALUES = st.one_of(st.text(SAFE_TEXT, max_size=40), HUGE,
                   st.sampled_from(["", " ", "\x00", "0", "-1", "99999999999999999999", "²", "1e309", "NaN", "on",
                                    "2026-13-45", "<script>alert(1)</script>", "'; DROP TABLE requesters; --",
                                    "../../etc/passwd", "%00", "{{7*7}}", "ｆｕｌｌｗｉｄｔｈ", "😀" * 300]))
CALLBACK_KEYS = ["state", "code", "error", "error_description", "session_state", "client_info", "id_token", "junk"]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_handled(response, where):
    """No 5xx; an error page says what happened and carries its reference id."""
    assert response.status_code < 500, (where, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400 and response.mimetype == "text/html":
        body = response.get_data(as_text=True)
        if response.status_code in (401, 409, 422):  # the form again, with what to fix beside the field or above it
            assert "is-invalid" in body or "invalid-feedback" in body or 'class="alert alert-danger' in body, where
        else:
            assert 'id="error-reference"' in body, where


@FUZZ
@given(fields=st.lists(st.tuples(st.sampled_from(CALLBACK_KEYS), VALUES), max_size=10), started=st.booleans())
def test_forged_callbacks_never_crash_and_never_sign_anyone_in(client, integration, fields, started):
    """Random, huge, unicode and repeated keys in Microsoft's answer, with or without a real flow in progress."""
    if started:
        assert begin(client, integration).status_code == 302
    bounced = client.post("/auth/callback", data=MultiDict(fields))
    if bounced.status_code == 303:
        assert_handled(client.get(bounced.headers["Location"]), "callback")
    else:  # NUL bytes are refused at the door with their own page
        assert bounced.status_code == 400 and "NUL character" in bounced.get_data(as_text=True)
        assert_handled(bounced, "callback POST")
    assert client.get("/home").status_code == 302  # still nobody


@FUZZ
@given(sealed=VALUES)
def test_tampered_sealed_answers_never_crash(client, sealed):
    """The same-site GET leg with any `r` value: a clear failure page, never a 5xx."""
    assert_handled(client.get("/auth/callback", query_string={"r": sealed}), "callback GET")


FORM_RE = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S | re.I)


def form_fields(page: str) -> tuple[list[str], dict]:
    """Field names of the page's POST forms, and the option values of its selects."""
    names, options = [], {}
    for body in FORM_RE.findall(page):
        for name in re.findall(r'name="([^"]+)"', body):
            if name != "csrf_token" and name not in names:
                names.append(name)
        for name, select in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
            options[name] = re.findall(r'<option[^>]*value="([^"]*)"', select)
    return names, options


@st.composite
def submissions(draw, names, options):
    """Each field: a valid option, random text, missing, or repeated; plus keys the form never had."""
    pairs = []
    for name in names:
        choice = draw(st.integers(0, 4))
        if choice == 0:
            continue
        if choice == 1 and options.get(name):
            pairs.append((name, draw(st.sampled_from(options[name]))))
        else:
            pairs += [(name, draw(VALUES)) for _ in range(2 if choice == 4 else 1)]
    pairs += draw(st.lists(st.tuples(st.text(SAFE_TEXT, min_size=1, max_size=12), VALUES), max_size=2))
    return pairs


def counts() -> dict:
    return {m.__name__: _db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Integration, FieldMapping, Workflow, Setting, ServiceCategory, Ticket)}


ADMIN_FORMS = ["/admin/marketplace/entra/install", "/admin/integrations/{id}/mapping", "/admin/workflows/new",
               "/admin/settings", "/admin/settings/mail", "/admin/catalogue", "/admin/integrations/{id}/secret"]


@pytest.mark.parametrize("path", ADMIN_FORMS + ["/tickets/new"])
def test_forms_never_crash_and_refusals_write_nothing(client, login_as, requester, integration, catalogue, path, db):
    """Every form, fuzzed with its own field names: never a 5xx; a refused submission leaves every table as it was."""
    login_as(requester if path == "/tickets/new" else "admin")
    url = path.format(id=integration.id)
    page = client.get(url).get_data(as_text=True)
    names, options = form_fields(page)
    assert names, f"no form fields found on {url}"
    token = csrf_from(page)

    @FUZZ
    @given(pairs=submissions(names, options))
    def submit(pairs):
        before = counts()
        response = client.post(url, data=MultiDict([("csrf_token", token)] + pairs))
        assert_handled(response, url)
        db.session.rollback()
        if response.status_code not in (302, 303):
            assert counts() == before, (url, pairs)

    submit()


FILTERS = {"/admin/requesters": ["q", "status", "page"], "/admin/sessions": ["q", "type", "state", "page", "person"],
           "/admin/tickets": ["q", "status", "category", "page"],
           "/admin/audit": ["q", "action", "actor", "outcome", "since", "until", "before", "target"],
           "/admin/audit/export.csv": ["action", "since", "until"], "/admin/audit/export.json": ["outcome", "since"]}


@pytest.mark.parametrize("path", sorted(FILTERS))
def test_filters_never_crash(client, login_as, path):
    """Random values for every filter parameter, and repeated ones, on every list page and export."""
    login_as("admin")

    @FUZZ
    @given(pairs=st.lists(st.tuples(st.sampled_from(FILTERS[path] + ["junk"]), VALUES), max_size=6))
    def look(pairs):
        response = client.get(path, query_string=MultiDict(pairs), headers={"HX-Request": "true"} if len(pairs) % 2 else {})
        assert_handled(response, path)

    look()
