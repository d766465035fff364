"""A synced email value is stored only when it is exactly one valid address: field_mapping.synced_mail and plan_page."""
import re

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st

from portal.directory import field_mapping
from tests.unit.test_sync_plan import ALICE, MAPPING, plan, stored, user

VICTIM = "victim@contoso.onmicrosoft.com"
HOSTILE_MAIL = [
    f"{VICTIM}, attacker@evil.example",  # the finding: both got the temporary password
    f"{VICTIM}\r\nBcc: attacker@evil.example",  # the finding: a header break
    f"Victim <{VICTIM}>", f"{VICTIM};attacker@evil.example", f"{VICTIM} attacker@evil.example",
    "no-at-sign.contoso.onmicrosoft.com", "two..dots@contoso.onmicrosoft.com", "a@b@contoso.onmicrosoft.com",
    f"{VICTIM}\x00.evil.example",  # dropping the NUL would make it an address at evil.example
    "victim\ud800@contoso.onmicrosoft.com",  # replacing the surrogate would make it victim?@...
    "a@contoso.local", "a@evil.test",  # special-use domains: refused, as mail.single_recipient refuses them
    "x" * 60 + "@" + ".".join(["contoso"] * 30) + ".com",  # over 254 characters: refused whole, never cut
]
FINE_MAIL = [
    "o'brien@contoso.onmicrosoft.com", "alex+it@contoso.onmicrosoft.com", "Alex.Doe@Contoso.onmicrosoft.com",
    "Jürgen.Groß@Bücher-Haus.de", "jurgen@xn--bcher-kva.de", "x@sub.contoso.co.uk", "  alice@contoso.example \t",
    "l" * 64 + "@" + ".".join(["d" * 61] * 3) + ".com",  # 254 characters: the longest address, stored whole
]
OIDS = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(len(HOSTILE_MAIL) + len(FINE_MAIL))]


def test_the_long_test_values_sit_either_side_of_the_limit():
    """The two long values are 254 characters (allowed) and over 255 (the column size), so neither is trivial."""
    assert len(FINE_MAIL[-1]) == 254 and len(HOSTILE_MAIL[-1]) > 255


def test_hostile_mail_values_are_stored_empty_and_reported():
    """Every value that is not one address is synced as no email, reported for that user, and not counted as a
    failed user; the valid ones on the same page are kept."""
    changes = plan([user(oid, mail=value) for oid, value in zip(OIDS, HOSTILE_MAIL + FINE_MAIL, strict=False)])
    emails = {row["entra_object_id"]: row["email"] for row in changes.inserts}
    hostile = OIDS[:len(HOSTILE_MAIL)]
    assert [emails[oid] for oid in hostile] == [None] * len(HOSTILE_MAIL)
    assert all(emails[oid] for oid in OIDS[len(HOSTILE_MAIL):])
    assert [e.user for e in changes.errors] == hostile and not any(e.skipped for e in changes.errors)
    assert all("is not one valid email address" in e.message and "stored as empty" in e.message
               for e in changes.errors)


@pytest.mark.parametrize("value", FINE_MAIL)
def test_valid_addresses_are_stored_as_sync_always_stored_them(value):
    """A valid address comes out exactly as before validation existed (trimmed and lower-cased, as `as_text` then
    `.lower()` made it), so its content hash is unchanged and an unchanged tenant is not rewritten."""
    changes = plan([user(mail=value)])
    before = field_mapping.as_text(value, field_mapping.FIELDS["email"].max_length).lower()
    assert changes.inserts[0]["email"] == before == value.strip().lower() and changes.errors == []


@pytest.mark.parametrize("value", [None, "", "   ", 42, True, {"a": "b"}, []])
def test_no_mail_is_no_email_and_no_error(value):
    """Null, empty and non-text values give no email and nothing to report: there is no address to refuse."""
    changes = plan([user(mail=value)])
    assert changes.inserts[0]["email"] is None and changes.errors == []


def test_the_report_is_bounded_and_names_the_mapped_attribute():
    """A huge value gives a short message that says which attribute held it (the mapping may not use 'mail')."""
    mapping = dict(MAPPING, email="otherMails")
    fields, problem = field_mapping.mapped_user({"id": ALICE, "otherMails": ["a@x.example, " * 5000]}, mapping)
    assert fields["email"] is None and len(problem) <= field_mapping.MAIL_PROBLEM_LIMIT
    assert problem.startswith("The otherMails value 'a@x.example, a@x.example")


def test_the_mapping_preview_and_the_name_never_show_a_refused_value():
    """requester_fields (the preview) and the display-name fallback see the refused value as empty."""
    fields = field_mapping.requester_fields({"id": ALICE, "mail": f"{VICTIM}, attacker@evil.example"}, MAPPING)
    assert fields["email"] is None and fields["display_name"] == ""


def test_a_refused_mail_value_keeps_the_user_unchanged_on_the_next_run():
    """The stored row has no email and the same hash, so the next listing does not rewrite it (it is reported
    again, since Graph still sends the bad value)."""
    item = user(mail=f"{VICTIM}, attacker@evil.example")
    again = plan([item], {ALICE: stored(item)})
    assert again.unchanged == 1 and again.updates == [] and [e.user for e in again.errors] == [ALICE]


def test_a_delta_that_breaks_the_mail_value_empties_it():
    """A delta that changes a good address into two addresses updates the row to no email and reports it."""
    changed = plan([{"id": ALICE, "mail": f"{VICTIM}, attacker@evil.example"}], {ALICE: stored(user(mail=VICTIM))},
                   partial=True)
    assert changed.updated == 1 and changed.updates[0]["email"] is None and len(changed.errors) == 1


def test_a_delta_that_fixes_the_mail_value_updates_the_row():
    """When the directory fixes the value, the delta brings it in."""
    bad = user(mail=f"{VICTIM}, attacker@evil.example")
    fixed = plan([{"id": ALICE, "mail": VICTIM}], {ALICE: stored(bad)}, partial=True)
    assert fixed.updated == 1 and fixed.updates[0]["email"] == VICTIM and fixed.errors == []


LOOSE = re.compile(r"[a-z0-9'+.-]{1,70}@(?:[a-z0-9-]{1,64}\.){1,4}[a-z0-9-]{1,64}")
HYPHENS = re.compile(r"[a-z]{1,3}@(?:[abx1n-]{1,6}\.){1,3}[a-z]{2,3}")  # labels like 'ab--c' and 'xn--x'


@given(st.one_of(st.from_regex(field_mapping.PLAIN_ADDRESS, fullmatch=True), st.from_regex(LOOSE, fullmatch=True),
                 st.from_regex(HYPHENS, fullmatch=True), st.text(max_size=40)))
@example("a@ab--cd.example")
@example("a@xn--zz.example")
def test_the_fast_path_never_changes_the_verdict(value):
    """synced_mail keeps a value exactly when email-validator accepts it (its regex shortcut accepts nothing more)."""
    address = value.strip().lower()
    try:
        validate_email(address, check_deliverability=False)
        accepted = bool(address)
    except EmailNotValidError:
        accepted = False
    assert (field_mapping.synced_mail(value)[0] is not None) == accepted
