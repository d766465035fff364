"""GraphClient: Microsoft Graph over requests, with paging, delta, bounded retries and GraphError."""
import queue
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests

from portal.entra.credentials import AppCredentials, acquire_app_token
from portal.entra.http import MicrosoftSession
from portal.exceptions import GraphError

RETRY_STATUSES = {429, 500, 502, 503, 504}
DIRECTORY_ROLE = "#microsoft.graph.directoryRole"
NETWORK_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                  requests.exceptions.ChunkedEncodingError)


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time slept."""

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_total_sleep: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * 2 ** attempt))


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_from(response) -> GraphError:
    try:
        body = response.json().get("error", {})
    except ValueError:
        body = {}
    inner = body.get("innerError") or {}
    request_id = response.headers.get("request-id") or inner.get("request-id")
    message = body.get("message") or f"HTTP {response.status_code} from Microsoft Graph"
    return GraphError(message, http_status=response.status_code, code=body.get("code"), request_id=request_id,
                      retryable=response.status_code in RETRY_STATUSES)


def prefetched(pages: Iterator[dict], depth: int = 1) -> Iterator[dict]:
    """Fetch the next page on a helper thread while the caller works on this one (at most `depth` ahead).

    Network and server time overlap with the caller's own work; errors reach the caller at the page where they
    happened; if the caller stops early the helper stops too, so no thread outlives the run.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        handoff.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            handoff.put(exc)

    worker = threading.Thread(target=produce, name="graph-prefetch", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


class GraphClient:
    """One integration's view of Graph; every call goes through `request`, which retries what can be retried."""

    def __init__(self, creds: AppCredentials, *, retry: RetryPolicy | None = None, session=None,
                 sleep=time.sleep, on_retry=None):
        self.creds, self.retry, self.sleep, self.on_retry = creds, retry or RetryPolicy(), sleep, on_retry
        self.session = session or MicrosoftSession(creds.endpoints.ca_bundle)
        self.base = creds.endpoints.graph_base
        self.last_request_id: str | None = None

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """Send with a fresh token; retry 429 (Retry-After), 5xx and network errors with backoff."""
        url = url if url.startswith("https://") else f"{self.base}{url}"
        slept, attempt = 0.0, 0
        base_headers = dict(kwargs.pop("headers", None) or {})
        while True:
            # Asked each attempt: MSAL serves its cached token, or a new one once it expired during retries.
            headers = dict(base_headers, Authorization=f"Bearer {acquire_app_token(self.creds)['access_token']}")
            try:
                response = self.session.request(method, url, headers=headers, **kwargs)
            except NETWORK_ERRORS as exc:
                failure, wait = GraphError(f"Network error talking to Microsoft Graph: {exc.__class__.__name__}",
                                           code="network_error", retryable=True), None
            else:
                self.last_request_id = response.headers.get("request-id")
                if response.status_code < 400:
                    return response
                failure, wait = _error_from(response), _retry_after(response)
                if not failure.retryable:
                    raise failure
            attempt += 1
            wait = self.retry.backoff(attempt) if wait is None else wait
            if attempt >= self.retry.max_attempts or slept + wait > self.retry.max_total_sleep:
                raise failure
            if self.on_retry:
                self.on_retry(failure, wait)
            self.sleep(wait)
            slept += wait

    def get_json(self, url: str, **kwargs) -> dict:
        response = self.request("GET", url, **kwargs)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphError("Microsoft Graph answered with something that is not JSON.", code="bad_response",
                             http_status=response.status_code, request_id=self.last_request_id) from exc
        if not isinstance(body, dict):
            raise GraphError("Microsoft Graph answered with an unexpected JSON shape.", code="bad_response")
        return body

    def pages(self, url: str, params: dict | None = None, headers: dict | None = None) -> Iterator[dict]:
        """Yield each page, following @odata.nextLink (which already carries the query)."""
        body = self.get_json(url, params=params, headers=headers)
        while True:
            yield body
            link = body.get("@odata.nextLink")
            if not link:
                return
            body = self.get_json(link, headers=headers)

    def users(self, select: list[str], expand_manager: bool = False, top: int = 999,
              manager_select: tuple[str, ...] = ("id",)) -> Iterator[dict]:
        """Full listing of /users, page by page; the manager expanded with `manager_select` when asked."""
        params = {"$top": str(top), "$select": ",".join(select)}
        if expand_manager:
            params["$expand"] = f"manager($select={','.join(manager_select)})"
        return self.pages("/users", params)

    def delta(self, delta_link: str, page_size: int = 999) -> Iterator[dict]:
        """The changes since a deltaLink; the last page carries the next @odata.deltaLink."""
        return self.pages(delta_link, headers={"Prefer": f"odata.maxpagesize={page_size}"})

    def latest_delta_link(self, select: list[str]) -> str:
        """A deltaLink for 'now' ($deltatoken=latest), taken before a full sync so nothing is missed."""
        body = self.get_json("/users/delta", params={"$select": ",".join(select), "$deltatoken": "latest"})
        link = body.get("@odata.deltaLink")
        if not link:
            raise GraphError("Microsoft Graph did not return a deltaLink.", code="bad_response")
        return link

    def count_users(self) -> int | None:
        """The tenant's user count for progress bars ($count needs ConsistencyLevel: eventual); None if unknown."""
        try:
            text = self.request("GET", "/users/$count", headers={"ConsistencyLevel": "eventual"}).text.strip()
        except GraphError:
            return None
        return int(text) if text.isdigit() else None

    def first_user_id(self) -> str | None:
        """GET /users?$top=1&$select=id, the probe Verify uses."""
        value = self.get_json("/users", params={"$top": "1", "$select": "id"}).get("value") or []
        return value[0].get("id") if value and isinstance(value[0], dict) else None

    def get_user(self, object_id: str, select: list[str]) -> dict:
        return self.get_json(f"/users/{object_id}", params={"$select": ",".join(select)})

    def patch_user(self, object_id: str, body: dict) -> str | None:
        """PATCH a user; returns Graph's request id for the audit log."""
        self.request("PATCH", f"/users/{object_id}", json=body)
        return self.last_request_id

    def revoke_sign_in_sessions(self, object_id: str) -> str | None:
        self.request("POST", f"/users/{object_id}/revokeSignInSessions")
        return self.last_request_id

    def directory_roles(self, object_id: str, top: int = 999) -> list[dict]:
        """The Entra directory roles a user holds: memberOf, every page, only #microsoft.graph.directoryRole entries."""
        params = {"$select": "id,displayName,roleTemplateId", "$top": str(top)}
        return [item for page in self.pages(f"/users/{object_id}/memberOf", params)
                for item in page.get("value") or []
                if isinstance(item, dict) and item.get("@odata.type") == DIRECTORY_ROLE]
