"""Graph v1.0 /subscriptions for users: create (after the validation handshake), list, get, renew, reauthorize, delete."""
import time
from datetime import datetime

from flask import Response, g, request

from emulator.common import state
from emulator.directory import READ_ROLES
from emulator.graph_common import GraphFailure, graph_blueprint, json_response, require
from emulator.notifier import validation_failure
from emulator.subscription_store import MAX_USER_MINUTES, USER_CHANGE_TYPES, Subscription, url_allowed

bp = graph_blueprint("subscriptions", __name__)
REQUIRED = ("changeType", "notificationUrl", "resource", "expirationDateTime")
NOT_FOUND = "The object was not found."


def _invalid(message: str, code: str = "InvalidRequest"):
    return GraphFailure(400, code, message)


def _expiry(raw) -> float:
    """expirationDateTime: ISO 8601, in the future, and at most 41,760 minutes ahead for users."""
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise _invalid(f"Invalid value for property 'expirationDateTime': '{raw}'.") from None
    if moment.tzinfo is None:
        raise _invalid("expirationDateTime must be in UTC or carry an offset.")
    epoch = moment.timestamp()
    if epoch <= time.time():
        raise _invalid("Subscription expiration must be in the future.")
    if epoch > time.time() + MAX_USER_MINUTES * 60:
        raise _invalid(f"Subscription expiration can only be {MAX_USER_MINUTES} minutes in the future.")
    return epoch


def _checked_url(url, name: str) -> str:
    """https, or http to a loopback host; then the validation handshake."""
    if not isinstance(url, str) or not url_allowed(url):
        raise _invalid(f"Invalid {name} '{url}': it must be an https URL.", "ValidationError")
    settings = state().notifier.settings
    failure = validation_failure(url, settings["validation_timeout_seconds"], settings["ca_file"] or True)
    if failure:
        raise _invalid(failure, "ValidationError")
    return url


def _change_types(raw) -> tuple:
    types = tuple(t.strip() for t in str(raw).split(",") if t.strip())
    unknown = [t for t in types if t not in USER_CHANGE_TYPES]
    if not types or unknown:
        raise _invalid(f"ChangeType '{','.join(unknown) or raw}' is not supported for resource 'users'; use "
                       f"'updated' and/or 'deleted'.")
    return types


def _own(sub_id: str) -> Subscription:
    """A live subscription of the calling app in its tenant, else Graph's 404."""
    sub = state().subscriptions.get(sub_id)
    if sub is None or sub.tenant_id != g.tenant.id or sub.application_id != g.claims.get("appid"):
        raise GraphFailure(404, "ResourceNotFound", NOT_FOUND)
    return sub


def _entity(sub: Subscription, status: int = 200) -> Response:
    response = json_response(dict({"@odata.context": f"{state().https_base}/v1.0/$metadata#subscriptions/$entity"},
                                  **sub.render()))
    response.status_code = status
    return response


@bp.post("/subscriptions")
def create_subscription():
    """201 with the subscription, once the notification (and lifecycle) URL answered the validation request."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _invalid("Invalid request body: a JSON object is required.")
    for name in REQUIRED:
        if not body.get(name):
            raise _invalid(f"{name} is a required property for subscription creation.")
    if str(body["resource"]).strip("/").lower() != "users":
        raise _invalid(f"Resource '{body['resource']}' is not supported; the emulator serves subscriptions to 'users'.")
    require(READ_ROLES)
    client_state = body.get("clientState")
    if client_state is not None and (not isinstance(client_state, str) or len(client_state) > 128):
        raise _invalid("clientState must be a string of at most 128 characters.")
    types, expires_at = _change_types(body["changeType"]), _expiry(body["expirationDateTime"])
    url = _checked_url(body["notificationUrl"], "notificationUrl")
    lifecycle = body.get("lifecycleNotificationUrl")
    if lifecycle:
        _checked_url(lifecycle, "lifecycleNotificationUrl")
    sub = Subscription(g.tenant.id, g.claims.get("appid", ""), body["resource"], types, url, expires_at,
                       client_state, lifecycle or None)
    state().count("subscriptions_created")
    return _entity(state().subscriptions.add(sub), 201)


@bp.get("/subscriptions")
def list_subscriptions():
    """The calling app's live subscriptions."""
    subs = state().subscriptions.all(g.tenant.id, g.claims.get("appid"))
    return json_response({"@odata.context": f"{state().https_base}/v1.0/$metadata#subscriptions",
                          "value": [s.render() for s in subs]})


@bp.get("/subscriptions/<sub_id>")
def get_subscription(sub_id):
    return _entity(_own(sub_id))


@bp.patch("/subscriptions/<sub_id>")
def renew_subscription(sub_id):
    """Renew (expirationDateTime) or move (notificationUrl, validated again); renewing also reauthorizes."""
    sub = _own(sub_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise _invalid("Invalid request body: expirationDateTime or notificationUrl is required.")
    unknown = sorted(set(body) - {"expirationDateTime", "notificationUrl"})
    if unknown:
        raise _invalid(f"Property '{unknown[0]}' cannot be updated on a subscription.")
    expires_at = _expiry(body["expirationDateTime"]) if "expirationDateTime" in body else sub.expires_at
    if "notificationUrl" in body:
        sub.notification_url = _checked_url(body["notificationUrl"], "notificationUrl")
    sub.expires_at = expires_at
    state().count("subscriptions_renewed")
    state().notifier.release(sub)
    return _entity(sub)


@bp.post("/subscriptions/<sub_id>/reauthorize")
def reauthorize_subscription(sub_id):
    """Answer a reauthorizationRequired challenge: 204, and held notifications go out."""
    require(READ_ROLES)
    sub = _own(sub_id)
    state().count("subscriptions_reauthorized")
    state().notifier.release(sub)
    return Response(status=204)


@bp.delete("/subscriptions/<sub_id>")
def delete_subscription(sub_id):
    state().subscriptions.remove(_own(sub_id).id)
    return Response(status=204)
