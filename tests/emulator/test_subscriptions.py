"""Graph /subscriptions for users: the validation handshake, the documented 400s, permissions, renew and delete."""
import time
from datetime import UTC, datetime, timedelta

import pytest

from emulator.subscription_store import MAX_USER_MINUTES


def expiry(minutes: float = 60) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def subscribe(graph, receiver, **extra):
    body = {"changeType": "updated,deleted", "notificationUrl": receiver.url + "/notify", "resource": "users",
            "expirationDateTime": expiry(), "clientState": "secret-state", **extra}
    return graph.post(graph.base + "/subscriptions", json=body)


def assert_graph_400(response, code, message):
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"] == message


def test_create_validates_the_endpoint_then_answers_201(graph, receiver, emulator):
    """Before 201 the emulator POSTs ?validationToken= to the URL; the answer is the subscription as Graph shapes it."""
    response = subscribe(graph, receiver, lifecycleNotificationUrl=receiver.url + "/lifecycle")
    assert response.status_code == 201, response.text
    sub = response.json()
    assert len(receiver.validations) == 2  # notificationUrl and lifecycleNotificationUrl are both validated
    assert receiver.validations[0].startswith("Validation: Testing client application reachability")
    assert sub["resource"] == "users" and sub["changeType"] == "updated,deleted"
    assert sub["clientState"] == "secret-state" and sub["notificationUrl"] == receiver.url + "/notify"
    assert sub["lifecycleNotificationUrl"] == receiver.url + "/lifecycle"
    assert sub["applicationId"] == emulator.app()["client_id"]
    assert sub["expirationDateTime"].endswith("Z") and len(sub["expirationDateTime"].split(".")[1]) == 8
    assert graph.get(graph.base + f"/subscriptions/{sub['id']}").json()["id"] == sub["id"]
    assert [s["id"] for s in graph.get(graph.base + "/subscriptions").json()["value"]] == [sub["id"]]


@pytest.mark.parametrize(("echo", "message"), [
    ("wrong", "Subscription validation request failed. Response must exactly match validationToken query parameter."),
    ("html", "Subscription validation request failed. Response must be of type text/plain."),
])
def test_a_wrong_validation_answer_is_400(graph, receiver, echo, message):
    """The token must come back exactly, as text/plain; otherwise no subscription is made."""
    receiver.echo = echo
    assert_graph_400(subscribe(graph, receiver), "ValidationError", message)
    assert graph.get(graph.base + "/subscriptions").json()["value"] == []


def test_a_slow_validation_answer_is_400(graph, receiver, emulator):
    """An endpoint slower than the validation timeout (10 s by default, shortened here) is refused."""
    assert emulator.notification_settings()["validation_timeout_seconds"] == 10.0
    emulator.notification_settings(validation_timeout_seconds=0.3)
    receiver.echo, receiver.slow_seconds = "slow", 1.0
    assert_graph_400(subscribe(graph, receiver), "ValidationError", "Subscription validation request timed out.")


def test_an_unreachable_endpoint_is_400(graph, receiver):
    """Nothing listening: the validation request fails and Graph answers 400."""
    receiver.stop()
    response = subscribe(graph, receiver)
    assert response.status_code == 400 and response.json()["error"]["code"] == "ValidationError"


@pytest.mark.parametrize(("change", "message"), [
    ({"expirationDateTime": None}, "expirationDateTime is a required property for subscription creation."),
    ({"notificationUrl": ""}, "notificationUrl is a required property for subscription creation."),
    ({"expirationDateTime": MAX_USER_MINUTES + 5},
     f"Subscription expiration can only be {MAX_USER_MINUTES} minutes in the future."),
    ({"expirationDateTime": -1}, "Subscription expiration must be in the future."),
    ({"resource": "groups"}, "Resource 'groups' is not supported; the emulator serves subscriptions to 'users'."),
    ({"changeType": "created"},
     "ChangeType 'created' is not supported for resource 'users'; use 'updated' and/or 'deleted'."),
    ({"clientState": "x" * 129}, "clientState must be a string of at most 128 characters."),
])
def test_documented_400s(graph, receiver, change, message):
    """Missing properties, an expiry past 41,760 minutes or in the past, other resources and change types."""
    minutes = change.get("expirationDateTime")
    if isinstance(minutes, int):  # worked out now: a time taken when the tests were collected would have drifted
        change = dict(change, expirationDateTime=expiry(minutes))
    assert_graph_400(subscribe(graph, receiver, **change), "InvalidRequest", message)
    assert receiver.validations == []


def test_the_longest_expiry_is_accepted(graph, receiver):
    """Just under 41,760 minutes is allowed for users."""
    assert subscribe(graph, receiver, expirationDateTime=expiry(MAX_USER_MINUTES - 1)).status_code == 201


@pytest.mark.parametrize("url", ["http://portal.example.com/notify", "ftp://127.0.0.1/notify", "not a url"])
def test_only_https_or_loopback_http_urls(graph, receiver, url):
    """Microsoft requires https; the emulator also accepts http to a loopback host, and nothing else."""
    response = subscribe(graph, receiver, notificationUrl=url)
    assert_graph_400(response, "ValidationError", f"Invalid notificationUrl '{url}': it must be an https URL.")
    assert receiver.validations == []


def test_permissions_are_enforced(graph, receiver):
    """Subscribing to users needs User.Read.All (or a broader role), like reading them."""
    denied = graph.as_app("Frontdesk (no admin consent)")
    denied.base = graph.base
    response = subscribe(denied, receiver)
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_renew_delete_and_other_apps(graph, receiver):
    """PATCH renews (200, limits checked again), DELETE answers 204, and another app never sees the subscription."""
    sub = subscribe(graph, receiver).json()
    url = graph.base + f"/subscriptions/{sub['id']}"
    renewed = graph.patch(url, json={"expirationDateTime": expiry(2000)})
    assert renewed.status_code == 200 and renewed.json()["expirationDateTime"] > sub["expirationDateTime"]
    assert_graph_400(graph.patch(url, json={"expirationDateTime": expiry(MAX_USER_MINUTES + 5)}), "InvalidRequest",
                     f"Subscription expiration can only be {MAX_USER_MINUTES} minutes in the future.")
    assert_graph_400(graph.patch(url, json={"resource": "groups"}), "InvalidRequest",
                     "Property 'resource' cannot be updated on a subscription.")
    other = graph.as_app("Frontdesk (read only)")
    assert other.get(url).status_code == 404 and other.delete(url).status_code == 404
    assert graph.delete(url).status_code == 204
    assert graph.get(url).status_code == 404 and graph.get(url).json()["error"]["code"] == "ResourceNotFound"


def test_an_expired_subscription_is_gone(graph, receiver, emulator):
    """Once its expiry passes a subscription is deleted and notifies nothing."""
    sub = subscribe(graph, receiver).json()
    emulator.expire_subscription(sub["id"])
    assert graph.get(graph.base + f"/subscriptions/{sub['id']}").status_code == 404
    assert emulator.subscriptions() == []
    time.sleep(0.01)


def test_settings_are_checked(emulator, receiver):
    """Delivery settings stay within their limits, and ca_file must name a file."""
    for bad in ({"max_batch": 0}, {"retry_base_seconds": "fast"}, {"unknown": 1}, {"ca_file": "/nowhere.pem"}):
        with pytest.raises(Exception, match="400"):
            emulator.notification_settings(**bad)
    assert emulator.notification_settings(ca_file=emulator.info["ca_file"])["ca_file"] == emulator.info["ca_file"]
