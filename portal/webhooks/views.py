"""Graph's notification endpoints: the validation handshake, then store and answer 202 fast; clientState, not a
session or a CSRF token, authenticates what Microsoft sends."""
from flask import Response, current_app, request

from portal import live_update_jobs, live_updates
from portal.extensions import csrf, limiter
from portal.webhooks import bp

MAX_TOKEN = 1024


def _handshake_or_none():
    """Graph's validation request: echo the token as plain text within 10 s (nothing is stored)."""
    token = request.args.get("validationToken")
    if token is None:
        return None
    if not token or len(token) > MAX_TOKEN:
        return Response("Bad validation token.", status=400, mimetype="text/plain")
    return Response(token, status=200, mimetype="text/plain")


def _receive(lifecycle: bool):
    handshake = _handshake_or_none()
    if handshake is not None:
        return handshake
    if (request.content_length or 0) > current_app.config["LIVE_UPDATES_MAX_BYTES"] or request.content_length is None:
        return Response("Too large, or no Content-Length.", status=413, mimetype="text/plain")
    if live_updates.receive(request.get_data(cache=False), lifecycle):
        live_update_jobs.kick_processing(current_app._get_current_object())
    return Response(status=202)


@bp.post("/api/live-updates/notifications")
@csrf.exempt  # Microsoft cannot send our token; the clientState in every notification authenticates it instead
@limiter.limit(lambda: current_app.config["RATELIMIT_LIVE_UPDATES"])
def change_notifications():
    """Users changed in Entra: store who, answer 202; the runner looks at them again through Graph."""
    return _receive(lifecycle=False)


@bp.post("/api/live-updates/lifecycle")
@csrf.exempt
@limiter.limit(lambda: current_app.config["RATELIMIT_LIVE_UPDATES"])
def lifecycle_notifications():
    """reauthorizationRequired, subscriptionRemoved and missed: stored, then answered by the runner."""
    return _receive(lifecycle=True)
