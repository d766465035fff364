"""Change notifications for users: the payload Microsoft documents, batching, retries, lifecycle events, faults."""
import time

import pytest

from tests.emulator.test_subscriptions import subscribe


@pytest.fixture
def subscribed(graph, receiver):
    """A subscription to users with both URLs on the receiver."""
    response = subscribe(graph, receiver, lifecycleNotificationUrl=receiver.url + "/lifecycle")
    assert response.status_code == 201, response.text
    return response.json()


def test_a_disabled_user_is_notified_in_graphs_shape(emulator, receiver, subscribed, new_user):
    """A control API change POSTs {"value": [changeNotification]} with exactly the documented properties."""
    user = new_user()
    emulator.update_user(user["id"], accountEnabled=False)
    notes = [n for n in receiver.wait_for(2, "/notify") if n["resource"] == f"Users/{user['id']}"]
    assert len(notes) == 2  # created, then disabled: both "updated", as Graph reports users
    note = notes[-1]
    assert set(note) == {"subscriptionId", "subscriptionExpirationDateTime", "changeType", "resource", "resourceData",
                         "clientState", "tenantId"}
    assert note["subscriptionId"] == subscribed["id"] and note["clientState"] == "secret-state"
    assert note["changeType"] == "updated" and note["tenantId"] == emulator.tenant_id
    assert note["subscriptionExpirationDateTime"] == subscribed["expirationDateTime"]
    assert note["resourceData"] == {"@odata.type": "#Microsoft.Graph.User", "@odata.id": f"Users/{user['id']}",
                                    "id": user["id"], "organizationId": emulator.tenant_id}


def test_graph_writes_and_deletes_are_notified(emulator, graph, receiver, subscribed, new_user):
    """A Graph PATCH is "updated", a soft delete is "updated" and a permanent delete is "deleted"."""
    user = new_user()
    assert graph.patch(graph.base + f"/users/{user['id']}", json={"accountEnabled": False}).status_code == 204
    emulator.soft_delete(user["id"])
    emulator.hard_delete(user["id"])
    notes = [n for n in receiver.wait_for(4, "/notify") if n["resourceData"]["id"] == user["id"]]
    assert [n["changeType"] for n in notes] == ["updated", "updated", "updated", "deleted"]


def test_a_deleted_only_subscription_hears_only_deletions(emulator, graph, receiver, new_user):
    """changeType "deleted" gets no "updated" notifications."""
    assert subscribe(graph, receiver, changeType="deleted").status_code == 201
    user = new_user()
    emulator.update_user(user["id"], accountEnabled=False)
    emulator.hard_delete(user["id"])
    notes = receiver.wait_for(1, "/notify")
    time.sleep(0.3)
    assert [n["changeType"] for n in receiver.delivered("/notify")] == ["deleted"] == [notes[0]["changeType"]]


def test_a_burst_is_batched(emulator, receiver, subscribed, new_user):
    """Changes close together share POSTs (max_batch per POST), and every one arrives once."""
    users = [new_user() for _ in range(3)]
    emulator.notification_settings(batch_window_ms=3000, max_batch=10)  # wide: 30 changes fit even on a busy machine
    time.sleep(0.4)
    before = len(receiver.posts)
    began = time.monotonic()
    for index in range(30):
        emulator.update_user(users[index % 3]["id"], jobTitle=f"Title {index}")
    sent_in = time.monotonic() - began
    notes = receiver.wait_for(33, "/notify")
    burst = receiver.posts[before:]
    assert sent_in < 3.0, f"the 30 changes took {sent_in:.1f} s, longer than the batch window"
    assert sum(len(p["value"]) for p in burst) == 30 and len(notes) == 33
    assert 3 <= len(burst) <= 15 and max(len(p["value"]) for p in burst) == 10


def test_failed_posts_are_retried_with_backoff(emulator, receiver, subscribed, new_user):
    """A 500 from the endpoint is retried, waiting longer each time, until it answers 2xx."""
    emulator.notification_settings(retry_base_seconds=0.2)
    receiver.fail_next = 2
    user = new_user()
    notes = receiver.wait_for(1, "/notify")
    assert notes[0]["resourceData"]["id"] == user["id"]
    attempts = [d for d in emulator.notifications() if d["value"][0]["resourceData"]["id"] == user["id"]]
    assert [d["attempt"] for d in attempts] == [1, 2, 3] and [d["status"] for d in attempts] == [500, 500, 202]
    first_gap, second_gap = attempts[1]["at"] - attempts[0]["at"], attempts[2]["at"] - attempts[1]["at"]
    assert 0.2 <= first_gap < second_gap and second_gap >= 0.4


def test_control_calls_return_before_a_slow_endpoint_answers(emulator, receiver, subscribed, new_user):
    """Delivery runs on a background thread: a slow endpoint never slows the control API."""
    user = new_user()
    receiver.wait_for(1, "/notify")
    receiver.post_delay = 1.5
    began = time.monotonic()
    emulator.update_user(user["id"], accountEnabled=False)
    assert time.monotonic() - began < 0.5
    assert len(receiver.wait_for(2, "/notify")) == 2


def test_reauthorization_required_holds_notifications_until_reauthorized(emulator, graph, receiver, subscribed,
                                                                         new_user):
    """The lifecycle event arrives in Graph's shape; changes wait until POST .../reauthorize (204), then arrive."""
    emulator.send_lifecycle_event(subscribed["id"], "reauthorizationRequired")
    event = receiver.wait_for(1, "/lifecycle")[0]
    assert event == {"subscriptionId": subscribed["id"], "subscriptionExpirationDateTime": subscribed["expirationDateTime"],
                     "tenantId": emulator.tenant_id, "clientState": "secret-state",
                     "lifecycleEvent": "reauthorizationRequired"}
    user = new_user()
    time.sleep(0.4)
    assert receiver.delivered("/notify") == []
    response = graph.post(graph.base + f"/subscriptions/{subscribed['id']}/reauthorize")
    assert response.status_code == 204
    assert receiver.wait_for(1, "/notify")[0]["resourceData"]["id"] == user["id"]


def test_renewing_also_reauthorizes(emulator, graph, receiver, subscribed, new_user):
    """A PATCH with a new expiry answers a reauthorizationRequired challenge too."""
    emulator.send_lifecycle_event(subscribed["id"], "reauthorizationRequired")
    new_user()
    graph.patch(graph.base + f"/subscriptions/{subscribed['id']}", json={"expirationDateTime": subscribed["expirationDateTime"]})
    assert len(receiver.wait_for(1, "/notify")) == 1


def test_subscription_removed_and_missed(emulator, graph, receiver, subscribed, new_user):
    """subscriptionRemoved deletes the subscription (no more notifications); missed is only a message."""
    emulator.send_lifecycle_event(subscribed["id"], "missed")
    emulator.send_lifecycle_event(subscribed["id"], "subscriptionRemoved")
    events = receiver.wait_for(2, "/lifecycle")
    assert sorted(e["lifecycleEvent"] for e in events) == ["missed", "subscriptionRemoved"]
    assert graph.get(graph.base + f"/subscriptions/{subscribed['id']}").status_code == 404
    new_user()
    time.sleep(0.4)
    assert receiver.delivered("/notify") == []


def test_lifecycle_events_need_a_lifecycle_url(emulator, graph, receiver):
    """Graph sends lifecycle events only to subscriptions created with a lifecycleNotificationUrl."""
    sub = subscribe(graph, receiver).json()
    with pytest.raises(Exception, match="400"):
        emulator.send_lifecycle_event(sub["id"], "missed")


def test_drop_and_duplicate_faults(emulator, receiver, subscribed, new_user):
    """drop_rate 1 delivers nothing (counted); duplicate_rate 1 delivers every POST twice."""
    emulator.set_notification_faults(drop_rate=1.0)
    dropped_before = emulator.stats().get("notifications_dropped", 0)
    new_user()
    time.sleep(0.4)
    assert receiver.delivered("/notify") == []
    assert emulator.stats()["notifications_dropped"] == dropped_before + 1
    emulator.set_notification_faults(duplicate_rate=1.0)
    user = new_user()
    notes = receiver.wait_for(2, "/notify")
    time.sleep(0.2)
    assert [n["resourceData"]["id"] for n in receiver.delivered("/notify")] == [user["id"], user["id"]] == \
        [n["resourceData"]["id"] for n in notes]


def test_delay_fault(emulator, receiver, subscribed, new_user):
    """delay_ms holds every POST back at least that long."""
    emulator.set_notification_faults(delay_ms=600)
    began = time.time()
    new_user()
    notes = receiver.wait_for(1, "/notify")
    assert len(notes) == 1 and receiver.posts[0]["at"] - began >= 0.6


def _reordered_ids(emulator, receiver, users, seed):
    emulator.clear_faults()
    emulator.notification_settings(batch_window_ms=2000)  # the six changes share one POST even on a busy machine
    time.sleep(0.1)
    emulator.set_notification_faults(reorder_rate=1.0, seed=seed)
    before = len(receiver.delivered("/notify"))
    for user in users:
        emulator.update_user(user["id"], jobTitle=f"Seed {seed} {time.time()}")
    return [n["resourceData"]["id"] for n in receiver.wait_for(before + len(users), "/notify")[before:]]


def test_reorder_fault_is_seeded(emulator, receiver, subscribed, new_user):
    """reorder_rate shuffles a POST's notifications; the same seed gives the same order."""
    users = [new_user() for _ in range(6)]
    receiver.wait_for(6, "/notify")
    first = _reordered_ids(emulator, receiver, users, seed=7)
    again = _reordered_ids(emulator, receiver, users, seed=7)
    assert sorted(first) == sorted(u["id"] for u in users)
    assert first == again and first != [u["id"] for u in users]
