"""A small client for the emulator's info file and control API, shared by tests, the demo and benchmarks."""
import json
from pathlib import Path

import requests


class CASession(requests.Session):
    """A requests session that always verifies against one CA file.

    requests lets REQUESTS_CA_BUNDLE override a session's `verify`; passing it per request does not.
    """

    def __init__(self, ca_file: str):
        super().__init__()
        self.ca_file = ca_file

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self.ca_file)
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, **kwargs)


class EmulatorClient:
    """Reads the info document and drives the control API."""

    def __init__(self, info: dict):
        self.info = info
        self.http = CASession(info["ca_file"])
        self.http.headers["Authorization"] = f"Bearer {info['control_token']}"

    @classmethod
    def from_file(cls, path) -> "EmulatorClient":
        return cls(json.loads(Path(path).read_text()))

    @property
    def tenant_id(self) -> str:
        return self.info["tenant_id"]

    def app(self, name: str = "Frontdesk") -> dict:
        """An app registration's credentials by display name."""
        return next(a for a in self.info["applications"] if a["display_name"] == name)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, f"{self.info['control_url']}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def create_user(self, **props) -> dict:
        return self._call("POST", "/users", json=props)

    def user(self, key: str) -> dict:
        return self._call("GET", f"/users/{key}")

    def update_user(self, key: str, **changes) -> dict:
        return self._call("PATCH", f"/users/{key}", json=changes)

    def soft_delete(self, key: str) -> dict:
        return self._call("POST", f"/users/{key}/soft-delete")

    def restore(self, key: str) -> dict:
        return self._call("POST", f"/users/{key}/restore")

    def hard_delete(self, key: str) -> dict:
        return self._call("DELETE", f"/users/{key}")

    def update_app(self, client_id: str, **changes) -> dict:
        return self._call("PATCH", f"/apps/{client_id}", json=changes)

    def set_faults(self, **spec) -> dict:
        return self._call("PUT", "/faults", json=spec)

    def clear_faults(self) -> dict:
        return self._call("PUT", "/faults", json={})

    def set_raw_users(self, users: list) -> dict:
        return self._call("PUT", "/raw-users", json={"users": users})

    def tamper_next_id_token(self, kind: str | None) -> dict:
        return self._call("PUT", "/id-token-tamper", json={"kind": kind})

    def rotate_signing_key(self) -> str:
        return self._call("POST", "/keys/rotate")["kid"]

    def expire_delta_tokens(self) -> dict:
        return self._call("POST", "/delta/expire")

    def reset_stats(self) -> dict:
        return self._call("POST", "/stats/reset")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    # -- sign-in log (GET /v1.0/auditLogs/signIns) ---------------------------------------------------
    def sign_ins(self, tenant: str | None = None) -> list[dict]:
        """Every recorded sign-in, newest first, including those the log delay still hides from Graph."""
        return self._call("GET", "/sign-ins", params={"tenant": tenant} if tenant else None)["value"]

    def clear_sign_ins(self, tenant: str | None = None) -> int:
        return self._call("DELETE", "/sign-ins", params={"tenant": tenant} if tenant else None)["cleared"]

    def add_sign_in(self, user: str | None = None, error_code: int = 0, count: int = 1, **extra) -> list[dict]:
        """Synthetic events for `user` (id or UPN); extra: appId, createdDateTime, ipAddress, userAgent,
        isInteractive, failureReason, userPrincipalName (an unknown user), tenant."""
        body = dict(extra, errorCode=error_code, count=count)
        if user is not None:
            body["user"] = user
        return self._call("POST", "/sign-ins", json=body)["value"]

    def sign_in_settings(self, **changes) -> dict:
        """Read, or change `delay_seconds` and `premium` (the tenant's Entra ID P1/P2 licence)."""
        if not changes:
            return self._call("GET", "/sign-ins/settings")
        return self._call("PATCH", "/sign-ins/settings", json=changes)
