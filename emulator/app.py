"""The emulator's WSGI app: one Flask app serving identity, Graph and the control API."""
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, g, jsonify, request

from emulator.state import EmulatorState

log = logging.getLogger("emulator")


def create_emulator_app(state: EmulatorState) -> Flask:
    """Build the app around one EmulatorState."""
    app = Flask("emulator", template_folder=str(Path(__file__).parent / "templates"))
    app.config["EMULATOR"] = state
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from emulator import control, graph, identity

    app.register_blueprint(identity.bp)
    app.register_blueprint(graph.bp)
    app.register_blueprint(control.bp)

    @app.before_request
    def _stamp():
        g.request_id = str(uuid.uuid4())
        state.count("requests")

    @app.after_request
    def _headers(response):
        response.headers["request-id"] = g.get("request_id", "")
        response.headers["client-request-id"] = request.headers.get("client-request-id", g.get("request_id", ""))
        response.headers["x-ms-ags-diagnostic"] = '{"ServerInfo":{"DataCenter":"Loopback","Slice":"E"}}'
        return response

    @app.errorhandler(404)
    def _not_found(_):
        if request.path.startswith(("/v1.0", "/beta")):
            return graph_error(400, "Request_BadRequest", f"Invalid request: unsupported path {request.path}")
        return jsonify(error="not_found", error_description=f"No emulated endpoint at {request.path}"), 404

    @app.errorhandler(405)
    def _not_allowed(_):
        return graph_error(405, "Request_BadRequest", f"Method {request.method} is not supported on this resource.")

    return app


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


def state() -> EmulatorState:
    """The running emulator's state (from the app config)."""
    from flask import current_app

    return current_app.config["EMULATOR"]
