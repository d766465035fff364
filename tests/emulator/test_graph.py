"""Graph v1.0 users: auth errors, paging, $select, $filter, $count, $expand, PATCH, revoke, faults."""
import uuid
from datetime import datetime

import pytest
import requests

from emulator.client import CASession


def _new_user(emulator, **extra):
    name = f"t{uuid.uuid4().hex[:10]}"
    props = {"userPrincipalName": f"{name}@{emulator.info['tenant_domain']}", "displayName": f"Test {name}",
             "mail": f"{name}@{emulator.info['tenant_domain']}", "password": "Start-Password-1"}
    props.update(extra)
    return emulator.create_user(**props)["props"]


def _assert_graph_401(response, message=None, client_request_id=None):
    """Graph's documented error body: error{code, message, innerError{date, request-id, client-request-id}}."""
    body = response.json()
    assert response.status_code == 401 and response.headers["Content-Type"].startswith("application/json")
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "innerError"}
    assert body["error"]["code"] == "InvalidAuthenticationToken" and body["error"]["message"]
    if message is not None:
        assert body["error"]["message"] == message
    inner = body["error"]["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    datetime.strptime(inner["date"], "%Y-%m-%dT%H:%M:%S")  # Graph's format: UTC, seconds, no offset
    assert inner["request-id"] == response.headers["request-id"] and uuid.UUID(inner["request-id"])
    expected_client_id = client_request_id or inner["request-id"]  # Graph echoes the client's id, else its own
    assert inner["client-request-id"] == response.headers["client-request-id"] == expected_client_id


def test_missing_token_is_401_in_graph_shape(emulator):
    """No bearer token: 401 InvalidAuthenticationToken "Access token is empty." in Graph's error shape."""
    response = CASession(emulator.info["ca_file"]).get(emulator.info["graph_endpoint"] + "/v1.0/users")
    _assert_graph_401(response, "Access token is empty.")


def test_forged_token_is_rejected(emulator):
    """A token not signed by the emulator's key is refused with the same 401 shape, echoing client-request-id."""
    http = CASession(emulator.info["ca_file"])
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"
    client_request_id = str(uuid.uuid4())
    response = http.get(emulator.info["graph_endpoint"] + "/v1.0/users",
                        headers={"Authorization": f"Bearer {forged}", "client-request-id": client_request_id})
    _assert_graph_401(response, client_request_id=client_request_id)


def test_app_without_consent_is_403(graph):
    """Listing users without User.Read.All is Authorization_RequestDenied."""
    response = graph.as_app("Frontdesk (no admin consent)").get(graph.base + "/users")
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("top", ["0", "1000", "abc", "-1"])
def test_top_outside_1_to_999_is_rejected(graph, top):
    """$top must be 1-999, as Graph enforces."""
    response = graph.get(graph.base + "/users", params={"$top": top})
    assert response.status_code == 400 and response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_paging_returns_every_user_exactly_once(graph, emulator):
    """nextLink paging with a small page size visits every live user once, in stable order."""
    total = int(graph.get(graph.base + "/users/$count", headers={"ConsistencyLevel": "eventual"}).text)
    url, seen, pages = graph.base + "/users?$top=37&$select=id", [], 0
    while url:
        body = graph.get(url).json()
        seen += [u["id"] for u in body["value"]]
        url, pages = body.get("@odata.nextLink"), pages + 1
        assert len(body["value"]) <= 37
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 37)


def test_select_and_default_properties(graph):
    """$select returns exactly the chosen properties plus id; no $select gives Graph's default set."""
    chosen = graph.get(graph.base + "/users", params={"$top": 3, "$select": "displayName,accountEnabled,department"}).json()
    assert all(set(u) == {"id", "displayName", "accountEnabled", "department"} for u in chosen["value"])
    assert chosen["@odata.context"].endswith("$metadata#users(id,displayName,accountEnabled,department)")
    default = graph.get(graph.base + "/users", params={"$top": 1}).json()["value"][0]
    assert "accountEnabled" not in default and {"id", "userPrincipalName", "businessPhones", "mail"} <= set(default)
    bad = graph.get(graph.base + "/users", params={"$select": "displayName,shoeSize"})
    assert bad.status_code == 400 and "shoeSize" in bad.json()["error"]["message"]


def test_filter_by_upn_and_account_enabled(graph, emulator):
    """$filter supports eq on userPrincipalName (case-insensitive), id and accountEnabled."""
    user = _new_user(emulator, accountEnabled=False)
    upn = user["userPrincipalName"].upper()
    found = graph.get(graph.base + "/users", params={"$filter": f"userPrincipalName eq '{upn}'"}).json()["value"]
    assert [u["id"] for u in found] == [user["id"]]
    disabled = graph.get(graph.base + "/users", params={"$filter": "accountEnabled eq false", "$select": "accountEnabled",
                                                        "$top": 999}).json()["value"]
    assert user["id"] in {u["id"] for u in disabled} and all(u["accountEnabled"] is False for u in disabled)
    unsupported = graph.get(graph.base + "/users", params={"$filter": "startswith(displayName,'A')"})
    assert unsupported.status_code == 400


def test_filter_id_in_a_list(graph, emulator):
    """`id in ('a', 'b')` returns exactly those users (with $expand=manager, as group-scoped sync reads managers)."""
    first, second = _new_user(emulator), _new_user(emulator)
    listed = f"id in ('{first['id']}', '{second['id']}', '{uuid.uuid4()}')"
    found = graph.get(graph.base + "/users", params={"$filter": listed, "$select": "id",
                                                     "$expand": "manager($select=id)"}).json()["value"]
    assert sorted(u["id"] for u in found) == sorted([first["id"], second["id"]])
    assert graph.get(graph.base + "/users", params={"$filter": "id in ()"}).status_code == 400


def test_count_needs_consistency_level(graph):
    """$count requires ConsistencyLevel: eventual, like Graph's advanced queries."""
    assert graph.get(graph.base + "/users", params={"$count": "true"}).status_code == 400
    body = graph.get(graph.base + "/users", params={"$count": "true", "$top": 1},
                     headers={"ConsistencyLevel": "eventual"}).json()
    assert body["@odata.count"] >= 300


def test_expand_manager(graph):
    """$expand=manager($select=id) adds the manager reference where there is one."""
    users = graph.get(graph.base + "/users", params={"$top": 200, "$select": "id",
                                                     "$expand": "manager($select=id)"}).json()["value"]
    with_manager = [u for u in users if "manager" in u]
    assert with_manager and all(set(u["manager"]) == {"@odata.type", "id"} for u in with_manager)
    named = graph.get(graph.base + "/users", params={"$top": 200, "$select": "id",
                                                     "$expand": "manager($select=id,displayName)"}).json()["value"]
    assert all(set(u["manager"]) == {"@odata.type", "id", "displayName"} and u["manager"]["displayName"]
               for u in named if "manager" in u)


def test_get_user_by_id_and_upn_and_404(graph, emulator):
    """/users/{id | userPrincipalName}; an unknown one is Request_ResourceNotFound."""
    user = _new_user(emulator)
    assert graph.get(graph.base + f"/users/{user['id']}").json()["displayName"] == user["displayName"]
    assert graph.get(graph.base + f"/users/{user['userPrincipalName']}").json()["id"] == user["id"]
    missing = graph.get(graph.base + f"/users/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_disable_needs_enable_disable_permission(graph, emulator):
    """PATCH accountEnabled: 403 for the read-only app, 204 for the app with User.EnableDisableAccount.All."""
    user = _new_user(emulator)
    read_only = graph.as_app("Frontdesk (read only)").patch(graph.base + f"/users/{user['id']}", json={"accountEnabled": False})
    assert read_only.status_code == 403
    response = graph.patch(graph.base + f"/users/{user['id']}", json={"accountEnabled": False})
    assert response.status_code == 204 and response.text == ""
    assert emulator.user(user["id"])["props"]["accountEnabled"] is False


def test_password_reset_sets_force_change_and_checks_complexity(graph, emulator):
    """passwordProfile needs a complex password; on success the user must change it at next sign-in."""
    user = _new_user(emulator)
    weak = graph.patch(graph.base + f"/users/{user['id']}",
                       json={"passwordProfile": {"password": "short", "forceChangePasswordNextSignIn": True}})
    assert weak.status_code == 400 and "complexity" in weak.json()["error"]["message"]
    ok = graph.patch(graph.base + f"/users/{user['id']}",
                     json={"passwordProfile": {"password": "Temp-Pass-9876", "forceChangePasswordNextSignIn": True}})
    assert ok.status_code == 204
    assert emulator.user(user["id"])["forceChangePasswordNextSignIn"] is True


def test_privileged_user_cannot_be_reset_without_directory_role(graph, emulator):
    """A user holding a directory role is refused for app-only password and enable changes."""
    admin = _new_user(emulator, directoryRoles=["Global Administrator"])
    response = graph.patch(graph.base + f"/users/{admin['id']}",
                           json={"passwordProfile": {"password": "Temp-Pass-9876", "forceChangePasswordNextSignIn": True}})
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_revoke_sign_in_sessions(graph, emulator):
    """revokeSignInSessions answers value: true and records the revocation time."""
    user = _new_user(emulator)
    response = graph.post(graph.base + f"/users/{user['id']}/revokeSignInSessions")
    assert response.status_code == 200 and response.json()["value"] is True
    assert emulator.user(user["id"])["sessions_revoked_at"]
    denied = graph.as_app("Frontdesk (read only)").post(graph.base + f"/users/{user['id']}/revokeSignInSessions")
    assert denied.status_code == 403


def test_rate_limit_gives_429_with_retry_after(graph, emulator):
    """After the configured number of requests in the window, Graph answers 429 with Retry-After."""
    emulator.set_faults(rate_limit=3, rate_window=30)
    statuses = [graph.get(graph.base + "/users", params={"$top": 1}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    throttled = graph.get(graph.base + "/users", params={"$top": 1})
    assert int(throttled.headers["Retry-After"]) >= 1 and throttled.json()["error"]["code"] == "TooManyRequests"


def test_random_faults_repeat_with_the_same_seed(graph, emulator):
    """Seeded random 429/503/504 give the same sequence twice."""
    def run():
        emulator.set_faults(error_rates={"429": 0.2, "503": 0.2, "504": 0.2}, seed=42)
        return [graph.get(graph.base + "/users", params={"$top": 1}).status_code for _ in range(25)]
    first, second = run(), run()
    assert first == second and {429, 503, 504} & set(first) and 200 in first


def test_dropped_connection(graph, emulator):
    """drop_rate 1 closes the connection without a response."""
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.get(graph.base + "/users", params={"$top": 1})
