"""Delivers change and lifecycle notifications: a background thread batches user changes and POSTs them, with retries."""
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests

from emulator.faults import NotificationFaults
from emulator.subscription_store import Subscription, SubscriptionStore, graph_time

log = logging.getLogger("emulator")
VALIDATION_TIMEOUT = 10.0  # Microsoft: the endpoint must answer the validation request within 10 seconds
DELIVERY_TIMEOUT = 3.0     # Microsoft: a notification is acknowledged within 3 seconds or counts as failed


def validation_failure(url: str, timeout: float = VALIDATION_TIMEOUT, verify: str | bool = True) -> str | None:
    """POST ?validationToken=... and require the token echoed as text/plain with 200; the failure message or None."""
    token = f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
    separator = "&" if "?" in url else "?"
    try:
        response = requests.post(f"{url}{separator}validationToken={quote(token)}", data=b"", timeout=timeout, verify=verify,
                                 headers={"Content-Type": "text/plain; charset=utf-8"})
    except requests.Timeout:
        return "Subscription validation request timed out."
    except requests.RequestException:
        return "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
    if response.status_code != 200:
        return "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
    if not response.headers.get("Content-Type", "").lower().startswith("text/plain"):
        return "Subscription validation request failed. Response must be of type text/plain."
    if response.text != token:
        return "Subscription validation request failed. Response must exactly match validationToken query parameter."
    return None


class Notifier:
    """One delivery thread per emulator: user changes in, batched POSTs out, failures retried with backoff."""

    def __init__(self, store: SubscriptionStore, faults: NotificationFaults, count):
        self.store, self.faults, self.count = store, faults, count
        self.settings = {"batch_window_ms": 50, "max_batch": 100, "retry_base_seconds": 1.0, "max_attempts": 8,
                         "validation_timeout_seconds": VALIDATION_TIMEOUT, "ca_file": None}
        self.deliveries: deque = deque(maxlen=5000)  # every POST attempt, for tests and benchmarks
        self._queue: queue.Queue = queue.Queue()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-notify")
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def on_change(self, tenant, change) -> None:
        """Tenant change-log listener: queue the change (Graph: created, changed and soft-deleted are "updated")."""
        if self.store.all(tenant.id):
            self._queue.put((tenant.id, change.user_id, "deleted" if change.kind == "hard_delete" else "updated"))
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="emulator-notifier", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            deadline = time.monotonic() + self.settings["batch_window_ms"] / 1000.0
            while (left := deadline - time.monotonic()) > 0:
                try:
                    items.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            try:
                self._dispatch(items)
            except Exception:  # noqa: BLE001 (one bad batch must not stop delivery)
                log.exception("notification dispatch failed")

    def _dispatch(self, items: list) -> None:
        by_url = defaultdict(list)
        for tenant_id, user_id, change_type in items:
            for sub in self.store.matching(tenant_id, change_type):
                note = _change_notification(sub, user_id, change_type)
                if sub.needs_reauthorization:
                    sub.held.append(note)
                else:
                    by_url[sub.notification_url].append(note)
        for url, notes in by_url.items():
            self.send(url, notes)

    def send(self, url: str, notes: list, faults: bool = True) -> None:
        """POST in batches of max_batch; faults drop, reorder, duplicate and delay them."""
        size = self.settings["max_batch"]
        for start in range(0, len(notes), size):
            chunk = notes[start:start + size]
            copies, wait = 1, 0.0
            if faults:
                sent, copies, wait = self.faults.shape(chunk)
                for _ in range(len(chunk) - len(sent)):
                    self.count("notifications_dropped")
                chunk = sent
            for _ in range(copies if chunk else 0):
                if wait:
                    threading.Timer(wait, self._pool.submit, args=(self._post, url, chunk, 1)).start()
                else:
                    self._pool.submit(self._post, url, chunk, 1)

    def _post(self, url: str, notes: list, attempt: int) -> None:
        status = None
        try:
            status = requests.post(url, json={"value": notes}, timeout=DELIVERY_TIMEOUT,
                                   verify=self.settings["ca_file"] or True).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        ok = isinstance(status, int) and 200 <= status < 300
        self.count("notification_posts")
        self.deliveries.append({"url": url, "value": notes, "status": status, "attempt": attempt, "at": time.time()})
        if ok or attempt >= self.settings["max_attempts"]:
            if not ok:
                self.count("notifications_abandoned")
            return
        delay = self.settings["retry_base_seconds"] * 2 ** (attempt - 1)
        threading.Timer(delay, self._pool.submit, args=(self._post, url, notes, attempt + 1)).start()

    def lifecycle(self, sub: Subscription, event: str) -> None:
        """Send one lifecycle notification to the subscription's lifecycleNotificationUrl."""
        note = {"subscriptionId": sub.id, "subscriptionExpirationDateTime": graph_time(sub.expires_at),
                "tenantId": sub.tenant_id, "clientState": sub.client_state, "lifecycleEvent": event}
        self.send(sub.lifecycle_url, [note], faults=False)

    def release(self, sub: Subscription) -> None:
        """After a renewal or reauthorization: deliver what waited, and deliver again from now on."""
        held, sub.held, sub.needs_reauthorization = sub.held, [], False
        if held:
            self.send(sub.notification_url, held)


def _change_notification(sub: Subscription, user_id: str, change_type: str) -> dict:
    """A changeNotification as Graph sends it for users (no resource data beyond the id)."""
    return {"subscriptionId": sub.id, "subscriptionExpirationDateTime": graph_time(sub.expires_at),
            "changeType": change_type, "resource": f"Users/{user_id}",
            "resourceData": {"@odata.type": "#Microsoft.Graph.User", "@odata.id": f"Users/{user_id}", "id": user_id,
                             "organizationId": sub.tenant_id},
            "clientState": sub.client_state, "tenantId": sub.tenant_id}
