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

    # -- groups and app roles --------------------------------------------------------------------
    def group_id(self, display_name: str) -> str:
        """A group's id by display name, from the info file (seeded groups) or the control API."""
        for group in self.info.get("groups", []):
            if group["displayName"] == display_name:
                return group["id"]
        raise KeyError(display_name)

    def create_group(self, display_name: str, members: list | None = None, **props) -> dict:
        """A security group unless groupTypes=["Unified"]; members: user ids, UPNs or group ids."""
        return self._call("POST", "/groups", json=dict(props, displayName=display_name, members=members or []))

    def group(self, group_id: str) -> dict:
        return self._call("GET", f"/groups/{group_id}")

    def update_group(self, group_id: str, **changes) -> dict:
        return self._call("PATCH", f"/groups/{group_id}", json=changes)

    def delete_group(self, group_id: str) -> dict:
        return self._call("DELETE", f"/groups/{group_id}")

    def add_member(self, group_id: str, member_id: str) -> dict:
        """Add a user (id or UPN) or a group (id) to a group."""
        return self._call("POST", f"/groups/{group_id}/members", json={"id": member_id})

    def remove_member(self, group_id: str, member_id: str) -> dict:
        return self._call("DELETE", f"/groups/{group_id}/members/{member_id}")

    def app_roles(self, client_id: str) -> dict:
        """{"appRoles", "appRoleAssignments", "groupMembershipClaims"} of an app registration."""
        return self._call("GET", f"/apps/{client_id}/app-roles")

    def declare_app_role(self, client_id: str, value: str, **extra) -> dict:
        return self._call("POST", f"/apps/{client_id}/app-roles", json=dict(extra, value=value))

    def assign_app_role(self, client_id: str, principal_id: str, app_role: str) -> dict:
        """Assign a user (id or UPN) or a group to an app role (its value or id)."""
        return self._call("POST", f"/apps/{client_id}/role-assignments",
                          json={"principalId": principal_id, "appRole": app_role})

    def unassign_app_role(self, client_id: str, principal_id: str, app_role: str | None = None) -> dict:
        """Remove the assignment to one role, or to all the app's roles without `app_role`."""
        params = {"principalId": principal_id, **({"appRole": app_role} if app_role else {})}
        return self._call("DELETE", f"/apps/{client_id}/role-assignments", params=params)

    def set_group_membership_claims(self, client_id: str, value: str | None) -> dict:
        """The app's groupMembershipClaims (None, "SecurityGroup", "All", "ApplicationGroup", "DirectoryRole")."""
        return self._call("PATCH", f"/apps/{client_id}", json={"groupMembershipClaims": value})

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

    # -- change notifications (Graph /subscriptions) -------------------------------------------------
    def subscriptions(self) -> list[dict]:
        """Every live subscription, with tenantId and needsReauthorization."""
        return self._call("GET", "/subscriptions")["value"]

    def clear_subscriptions(self) -> int:
        return self._call("DELETE", "/subscriptions")["deleted"]

    def send_lifecycle_event(self, subscription_id: str, event: str) -> dict:
        """reauthorizationRequired, subscriptionRemoved or missed, to the subscription's lifecycleNotificationUrl."""
        return self._call("POST", f"/subscriptions/{subscription_id}/lifecycle", json={"event": event})

    def expire_subscription(self, subscription_id: str) -> dict:
        return self._call("POST", f"/subscriptions/{subscription_id}/expire")

    def notifications(self, since: float = 0) -> list[dict]:
        """Every notification POST attempt since `since` (epoch seconds): url, value, status, attempt, at."""
        return self._call("GET", "/notifications", params={"since": since})["value"]

    def clear_notifications(self) -> dict:
        return self._call("DELETE", "/notifications")

    def notification_settings(self, **changes) -> dict:
        """Read, or change batch_window_ms, max_batch, retry_base_seconds and max_attempts."""
        if not changes:
            return self._call("GET", "/notifications/settings")
        return self._call("PATCH", "/notifications/settings", json=changes)

    def set_notification_faults(self, **spec) -> dict:
        """drop_rate, duplicate_rate, delay_ms, delay_jitter_ms, reorder_rate, seed (Graph faults switched off)."""
        return self._call("PUT", "/faults", json={"notifications": spec})

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
