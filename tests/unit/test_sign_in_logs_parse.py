"""Entra sign-in log entries: Microsoft's documented shape parses; anything else is skipped or cleaned, never cut and
never an exception."""
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.entra.sign_in_logs import parse, plain_reason

DOCUMENTED = {  # the example response of "List signIns" in Microsoft Graph v1.0, trimmed to the fields we read
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "createdDateTime": "2020-03-13T19:15:41.6195833Z",
    "userDisplayName": "Test contoso",
    "userPrincipalName": "testaccount1@contoso.com",
    "userId": "26be570a-ae82-4189-b4e2-a37c6808512d",
    "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
    "appDisplayName": "Graph explorer",
    "ipAddress": "131.107.159.37",
    "clientAppUsed": "Browser",
    "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
    "conditionalAccessStatus": "notApplied",
    "isInteractive": True,
    "status": {"errorCode": 50126, "failureReason": "Invalid username or password or Invalid on-premise username or "
               "password.", "additionalDetails": "The user didn't enter the right credentials."},
    "deviceDetail": {"deviceId": "", "displayName": None, "operatingSystem": "Windows 10", "browser": "Edge 80.0.361"},
    "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US"},
}


def test_microsofts_documented_example_parses():
    """Every field Frontdesk keeps comes through, with the time in UTC."""
    entry = parse(DOCUMENTED)
    assert entry.microsoft_id == DOCUMENTED["id"] and entry.error_code == 50126
    assert entry.created_at == datetime(2020, 3, 13, 19, 15, 41, 619583, tzinfo=UTC)
    assert (entry.browser, entry.operating_system, entry.city, entry.country) == ("Edge 80.0.361", "Windows 10",
                                                                                 "Redmond", "US")
    assert entry.user_object_id == DOCUMENTED["userId"] and entry.interactive is True
    assert plain_reason(entry.error_code) == "Wrong password"


def test_entries_without_an_id_or_a_readable_time_are_skipped():
    """No id, an over-long id, a NUL in the id, or no time: None (the import counts it as skipped)."""
    for broken in ({}, dict(DOCUMENTED, id=None), dict(DOCUMENTED, id="x" * 65), dict(DOCUMENTED, id="a\x00b"),
                   dict(DOCUMENTED, createdDateTime="yesterday"), dict(DOCUMENTED, createdDateTime=12), [], "text", None):
        assert parse(broken) is None


def test_hostile_values_are_dropped_whole_not_cut():
    """A NUL, a lone surrogate, a wrong type or an over-long value becomes None, never a cut copy."""
    entry = parse(dict(DOCUMENTED, userPrincipalName="a\x00b@contoso.com", userDisplayName="\ud800",
                       ipAddress="1" * 65, userId=["not", "a", "string"], isInteractive="yes",
                       status={"errorCode": True, "failureReason": "r" * 4096}, clientAppUsed="c" * 4097))
    assert entry.user_principal_name is None and entry.user_display_name is None and entry.ip_address is None
    assert entry.user_object_id is None and entry.interactive is None and entry.client_app is None
    assert entry.error_code == -1 and len(entry.failure_reason) == 4096  # long text is kept whole up to 4 KB


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(DOCUMENTED)), json_values, max_size=12))
def test_any_json_shape_parses_or_is_skipped(raw):
    """Whatever Graph sends in these fields, parse returns an entry or None and never raises."""
    merged = dict(DOCUMENTED, **raw)
    result = parse(merged)
    assert result is None or isinstance(result.microsoft_id, str)
