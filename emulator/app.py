"""The emulator's WSGI app: one Flask app serving identity, Graph and the control API."""
import logging
import uuid
from pathlib import Path

from flask import Flask, g, jsonify, request

from emulator import (
    app_role_reads,
    control,
    delta,
    graph,
    group_control,
    groups,
    groups_delta,
    identity,
    memberships,
    sign_in_control,
    sign_in_logs,
    subscription_control,
    subscriptions,
)
from emulator.common import graph_error
from emulator.state import EmulatorState

log = logging.getLogger("emulator")


def create_emulator_app(state: EmulatorState) -> Flask:
    """Build the app around one EmulatorState."""
    app = Flask("emulator", template_folder=str(Path(__file__).parent / "templates"))
    app.config["EMULATOR"] = state
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.register_blueprint(identity.bp)
    app.register_blueprint(graph.bp)
    app.register_blueprint(delta.bp)
    app.register_blueprint(memberships.bp)
    app.register_blueprint(app_role_reads.bp)
    app.register_blueprint(groups.bp)
    app.register_blueprint(groups_delta.bp)
    app.register_blueprint(group_control.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(sign_in_logs.bp)
    app.register_blueprint(sign_in_control.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(subscription_control.bp)

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

