"""Requester blueprint: the portal's front page and the self-service pages."""
from flask import Blueprint

bp = Blueprint("requester", __name__)

from portal.requester import devices, home, profile, tickets  # noqa: E402,F401  (routes register on import)
