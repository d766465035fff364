"""GET /v1.0/auditLogs/signIns: filters, paging, order, permission, licence, delay, control API and persistence."""
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator.client import CASession, EmulatorClient
from emulator.seed import load_seed_file
from emulator.server import start
from emulator.sign_in_store import SignInStore
from tests.emulator.test_graph import _new_user


@pytest.fixture
def user(emulator):
    return _new_user(emulator)


@pytest.fixture
def settings_restored(emulator):
    """Licence and delay are back to the defaults after the test, whatever it changed."""
    yield emulator
    emulator.sign_in_settings(premium=True, delay_seconds=0)


def _list(graph, **params):
    return graph.get(graph.base + "/auditLogs/signIns", params=params)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()["value"]]


def _at(hour: int) -> str:
    return f"2026-03-01T{hour:02d}:00:00Z"


def test_each_filter_and_their_conjunction(graph, emulator, user):
    """createdDateTime ge/le, appId, userId and userPrincipalName (case-insensitive) each filter; `and` joins them."""
    apps = [a["client_id"] for a in emulator.info["applications"]]
    events = [emulator.add_sign_in(user["id"], 50126, createdDateTime=_at(h), appId=apps[h % 2])[0] for h in (9, 10, 11, 12)]
    by_hour = dict(zip((9, 10, 11, 12), (e["id"] for e in events), strict=True))
    mine = f"userId eq '{user['id']}'"
    assert _ids(_list(graph, **{"$filter": mine})) == [by_hour[12], by_hour[11], by_hour[10], by_hour[9]]
    upper = user["userPrincipalName"].upper()
    assert set(_ids(_list(graph, **{"$filter": f"userPrincipalName eq '{upper}'"}))) == set(by_hour.values())
    window = f"{mine} and createdDateTime ge {_at(10)} and createdDateTime le 2026-03-01T11:30:00.5Z"
    assert _ids(_list(graph, **{"$filter": window})) == [by_hour[11], by_hour[10]]
    assert _ids(_list(graph, **{"$filter": f"{mine} AND appId eq '{apps[1]}'"})) == [by_hour[11], by_hour[9]]
    since = _ids(_list(graph, **{"$filter": f"createdDateTime ge {_at(12)} and appId eq '{apps[0]}'"}))
    assert by_hour[12] in since and by_hour[11] not in since and by_hour[10] not in since


@pytest.mark.parametrize("clause", [
    "status/errorCode eq 50126", "userDisplayName eq 'A'", "startsWith(appDisplayName,'Front')",
    "userId eq 'a' or userId eq 'b'", "createdDateTime gt 2026-01-01T00:00:00Z",
    "createdDateTime ge '2026-01-01T00:00:00Z'", "createdDateTime ge 2026-01-01", "userId ne 'a'"])
def test_unsupported_filter_is_graphs_400(graph, clause):
    """Anything but the supported clauses is 400 BadRequest "Invalid filter clause" in Graph's error shape."""
    response = _list(graph, **{"$filter": clause})
    error = response.json()["error"]
    assert response.status_code == 400 and (error["code"], error["message"]) == ("BadRequest", "Invalid filter clause")
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_newest_first_whatever_the_recording_order(graph, emulator, user):
    """Events are ordered by createdDateTime, newest first, not by when they were recorded."""
    for hour in (8, 14, 3, 11):
        emulator.add_sign_in(user["id"], createdDateTime=_at(hour))
    served = _list(graph, **{"$filter": f"userId eq '{user['id']}'"}).json()["value"]
    assert [e["createdDateTime"] for e in served] == [f"2026-03-01T{h:02d}:00:00.0000000Z" for h in (14, 11, 8, 3)]


def test_top_and_next_link_paging(graph, emulator, user):
    """$top=3 over 7 events: pages of 3, 3, 1 through opaque skiptokens that keep the filter; nothing twice."""
    expected = [e["id"] for e in emulator.add_sign_in(user["id"], 50126, count=7)][::-1]
    url, params, pages, seen = graph.base + "/auditLogs/signIns", {"$filter": f"userId eq '{user['id']}'", "$top": 3}, [], []
    while url:
        body = graph.get(url, params=params).json()
        pages.append(len(body["value"]))
        seen += [e["id"] for e in body["value"]]
        url, params = body.get("@odata.nextLink"), None
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["$filter"] == [f"userId eq '{user['id']}'"] and query["$top"] == ["3"]
            assert user["id"] not in query["$skiptoken"][0]
    assert pages == [3, 3, 1] and seen == expected
    forged = _list(graph, **{"$skiptoken": "eyJ0IjoieCJ9.0000"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "BadRequest"


def test_default_and_maximum_page_is_1000(graph, emulator, user):
    """Without $top a page holds 1,000 events (Microsoft's default and maximum); $top outside 1-1000 is 400."""
    emulator.add_sign_in(user["id"], count=1000)
    emulator.add_sign_in(user["id"])
    first = _list(graph, **{"$filter": f"userId eq '{user['id']}'"}).json()
    assert len(first["value"]) == 1000 and "@odata.nextLink" in first
    assert len(graph.get(first["@odata.nextLink"]).json()["value"]) == 1
    assert len(_list(graph, **{"$filter": f"userId eq '{user['id']}'", "$top": 1000}).json()["value"]) == 1000
    for top in ("0", "1001", "ten"):
        assert _list(graph, **{"$top": top}).status_code == 400


def test_audit_log_permission_is_required(graph, emulator):
    """Without AuditLog.Read.All (User.Read.All is not enough) Graph answers 403; granting it opens the log."""
    read_only = emulator.app("Frontdesk (read only)")
    denied = _list(graph.as_app("Frontdesk (read only)"))
    error = denied.json()["error"]
    assert denied.status_code == 403 and error["code"] == "Authentication_MSGraphPermissionMissing"
    assert error["message"] == "Calling principal does not have required MSGraph permissions AuditLog.Read.All"
    try:
        emulator.update_app(read_only["client_id"], grant=["AuditLog.Read.All"])
        assert _list(graph.as_app("Frontdesk (read only)")).status_code == 200
    finally:
        emulator.update_app(read_only["client_id"], revoke=["AuditLog.Read.All"])
    assert "AuditLog.Read.All" in emulator.app()["roles"]
    assert CASession(emulator.info["ca_file"]).get(graph.base + "/auditLogs/signIns").status_code == 401


def test_tenant_without_premium_licence_is_refused(graph, settings_restored):
    """A tenant without Entra ID P1/P2 gets 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant."""
    assert settings_restored.sign_in_settings()["premium"] is True
    settings_restored.sign_in_settings(premium=False)
    response = _list(graph)
    error = response.json()["error"]
    assert response.status_code == 403 and error["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    assert error["message"] == "Neither tenant is B2C or tenant doesn't have premium license"
    settings_restored.sign_in_settings(premium=True)
    assert _list(graph).status_code == 200


def test_seed_file_can_make_a_tenant_non_premium(tmp_path):
    """"premium": false in a seed file's tenant; the default is premium."""
    seed = {"tenants": [{"id": str(uuid.uuid4()), "domain": "a.example", "premium": False},
                        {"id": str(uuid.uuid4()), "domain": "b.example"}]}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    assert [t.premium for t in load_seed_file(str(tmp_path / "seed.json"))] == [False, True]


def test_log_delay_hides_new_events_for_a_while(graph, settings_restored, user):
    """With a delay, a new event is recorded (control API) but Graph shows it only once the delay has passed."""
    settings_restored.sign_in_settings(delay_seconds=1.5)
    [event] = settings_restored.add_sign_in(user["id"], 50126)
    mine = {"$filter": f"userId eq '{user['id']}'"}
    assert _ids(_list(graph, **mine)) == []
    assert [e["id"] for e in settings_restored.sign_ins() if e["userId"] == user["id"]] == [event["id"]]
    time.sleep(1.6)
    assert _ids(_list(graph, **mine)) == [event["id"]]


def test_control_api_synthetic_events_clear_and_auth(emulator, user):
    """Synthetic events name a user by UPN; unknown users are 404; the control token is required."""
    [event] = emulator.add_sign_in(user["userPrincipalName"], 50053, ipAddress="203.0.113.9",
                                   userAgent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/605.1")
    assert (event["userId"], event["ipAddress"], event["status"]["errorCode"]) == (user["id"], "203.0.113.9", 50053)
    assert (event["deviceDetail"]["browser"], event["deviceDetail"]["operatingSystem"]) == ("Safari 17.0", "Ios")
    missing = emulator.http.post(emulator.info["control_url"] + "/sign-ins", json={"user": "nobody@nowhere"})
    assert missing.status_code == 404
    anonymous = CASession(emulator.info["ca_file"]).get(emulator.info["control_url"] + "/sign-ins")
    assert anonymous.status_code == 401


def test_events_persist_in_the_state_dir_up_to_the_cap(tmp_path):
    """A restart on the same state dir keeps the log; the store keeps only its newest `limit` events."""
    running = start(users=5, https_port=0, state_dir=tmp_path / "state")
    try:
        client = EmulatorClient(running.info)
        added = client.add_sign_in(running.info["demo_users"][0]["id"], 50126)[0]
        assert client.clear_sign_ins() == 1 and client.sign_ins() == []
        added = client.add_sign_in(running.info["demo_users"][0]["id"], 50057)[0]
    finally:
        running.stop()
    again = start(users=5, https_port=0, state_dir=tmp_path / "state")
    try:
        assert [e["id"] for e in EmulatorClient(again.info).sign_ins()] == [added["id"]]
    finally:
        again.stop()
    store = SignInStore(limit=5)
    store.attach(tmp_path / "small")
    for n in range(8):
        store.add("t", float(n), {"id": str(n)})
    reloaded = SignInStore(limit=5)
    reloaded.attach(tmp_path / "small")
    assert [e["signIn"]["id"] for e in reloaded.newest_first("t")] == ["7", "6", "5", "4", "3"]
