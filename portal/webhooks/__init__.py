"""Public endpoints Microsoft calls: Graph change and lifecycle notifications (no session, no CSRF)."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from portal.webhooks import views  # noqa: E402,F401  (registers the routes)
