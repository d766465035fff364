"""Requester sign-in pages: the Microsoft sign-in choice and the signed-out page."""
import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, session, url_for
from flask_login import logout_user

from portal.extensions import db
from portal.models import Integration

bp = Blueprint("auth", __name__)


@bp.route("/login")
def login():
    """One 'Sign in with Microsoft' button per verified integration."""
    integrations = db.session.scalars(
        sa.select(Integration).where(Integration.status == "verified").order_by(Integration.name)).all()
    return render_template("auth/login.html", integrations=integrations)


@bp.route("/signed-out")
def signed_out():
    """Where sign-out lands after Microsoft's end-session endpoint."""
    return render_template("auth/signed_out.html")


@bp.route("/logout", methods=["POST"])
def logout():
    """Requester sign-out: clear the server-side session, then show the signed-out page."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.signed_out"))
