"""Graph /subscriptions calls for live updates: create (Graph validates our endpoint first), renew, reauthorize."""
from datetime import datetime

from portal.directory.notifications import graph_expiry
from portal.entra.graph import GraphClient


def create_user_subscription(graph: GraphClient, notification_url: str, lifecycle_url: str, client_state: str,
                             expires: datetime) -> dict:
    """POST /subscriptions for users (updated, deleted); Graph answers 201 only after our endpoint echoed its token."""
    body = {"changeType": "updated,deleted", "resource": "users", "notificationUrl": notification_url,
            "lifecycleNotificationUrl": lifecycle_url, "clientState": client_state,
            "expirationDateTime": graph_expiry(expires)}
    return graph.request("POST", "/subscriptions", json=body).json()


def renew_subscription(graph: GraphClient, subscription_id: str, expires: datetime) -> dict:
    """PATCH a new expirationDateTime (this also answers a reauthorizationRequired challenge)."""
    return graph.request("PATCH", f"/subscriptions/{subscription_id}",
                         json={"expirationDateTime": graph_expiry(expires)}).json()


def reauthorize_subscription(graph: GraphClient, subscription_id: str) -> None:
    """POST .../reauthorize after a reauthorizationRequired lifecycle event."""
    graph.request("POST", f"/subscriptions/{subscription_id}/reauthorize")

