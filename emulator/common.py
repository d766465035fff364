"""What every blueprint needs at request time, kept below them so imports run one way: state, errors, faults."""
import socket
from datetime import UTC, datetime

from flask import Response, current_app, g, jsonify, request

from emulator.state import EmulatorState


def state() -> EmulatorState:
    """The running emulator's state (from the app config), so handlers need no module global."""
    return current_app.config["EMULATOR"]


def now_iso() -> str:
    """Graph's timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def graph_error(status: int, code: str, message: str, headers: dict | None = None):
    """Graph's error shape, with the request id inside and in the headers."""
    body = {"error": {"code": code, "message": message,
                      "innerError": {"date": now_iso(), "request-id": g.get("request_id", ""),
                                     "client-request-id": request.headers.get("client-request-id", g.get("request_id", ""))}}}
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def identity_error(status: int, error: str, aadsts: int, description: str):
    """Entra's OAuth error shape: error, error_description with the AADSTS code, error_codes, ids."""
    body = {"error": error, "error_description": f"AADSTS{aadsts}: {description} Trace ID: {g.request_id} "
            f"Correlation ID: {g.request_id} Timestamp: {now_iso()}Z", "error_codes": [aadsts],
            "timestamp": now_iso() + "Z", "trace_id": g.request_id, "correlation_id": g.request_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}"}
    response = jsonify(body)
    response.status_code = status
    return response


def apply_faults(client_key: str, identity: bool = False):
    """Throttle, fail, or drop the connection as the fault settings say (identity-shaped on the token endpoint)."""
    s = state()
    verdict, detail = s.faults.decide(client_key)
    if verdict == "ok":
        return None
    s.count("faults" if verdict != "throttle" else "throttled")
    if identity and verdict in ("throttle", "error"):
        status = 429 if verdict == "throttle" else detail
        response = identity_error(status, "temporarily_unavailable", 90055 if status == 429 else 90033,
                                  "Too many requests. Retry later." if status == 429 else "The service is unavailable.")
        response.headers["Retry-After"] = str(detail if verdict == "throttle" else 1)
        return response
    if verdict == "throttle":
        return graph_error(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(detail)})
    if verdict == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        return Response(status=500)
    codes = {503: "serviceNotAvailable", 504: "UnknownError", 500: "generalException"}
    return graph_error(detail, codes.get(detail, "UnknownError"), "The service is temporarily unavailable.",
                       {"Retry-After": "1"} if detail == 503 else None)
