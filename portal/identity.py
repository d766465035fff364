"""Loads the signed-in principal (admin or requester) for Flask-Login from its prefixed id."""
from portal.database import db
from portal.models import Admin, Requester


def load_principal(user_id: str):
    """Admins must be enabled; requesters must be active, so disabled people lose access at once."""
    kind, _, raw = (user_id or "").partition(":")
    if not raw.isdigit():
        return None
    if kind == "admin":
        admin = db.session.get(Admin, int(raw))
        return admin if admin and admin.is_enabled else None
    if kind == "requester":
        requester = db.session.get(Requester, int(raw))
        return requester if requester and requester.status == "active" else None
    return None


def register_loader(login_manager) -> None:
    """Wire the loader and the sign-in redirect messages."""
    login_manager.user_loader(load_principal)
    login_manager.login_view = "auth.login"
    login_manager.blueprint_login_views = {"admin": "admin.login"}
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
