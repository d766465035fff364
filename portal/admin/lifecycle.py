"""Admin: pause, resume and uninstall an integration (each after a fresh password, each audited)."""
from flask import flash, redirect, request, url_for

from portal import integration_lifecycle, integrations
from portal.admin import bp
from portal.admin.views_common import actor, plural
from portal.exceptions import ValidationError


@bp.route("/integrations/<int:integration_id>/pause", methods=["POST"], endpoint="pause_integration")
def pause_integration(integration_id):
    """Stop syncs and actions; sign-in goes on only if the admin ticked it."""
    item = integrations.integration_or_404(integration_id)
    keep = request.form.get("keep_sign_in") == "on"
    integration_lifecycle.pause(item, keep, actor=actor())
    flash(f"{item.name} is paused: no sync and no account action runs until you resume it. Microsoft sign-in "
          f"{'goes on' if keep else 'is off'}.", "warning")
    return redirect(url_for("admin.integration", integration_id=item.id))


@bp.route("/integrations/<int:integration_id>/resume", methods=["POST"], endpoint="resume_integration")
def resume_integration(integration_id):
    """Start syncs, actions and sign-in again."""
    item = integrations.integration_or_404(integration_id)
    integration_lifecycle.resume(item, actor=actor())
    flash(f"{item.name} is running again; waiting actions go ahead.", "success")
    return redirect(url_for("admin.integration", integration_id=item.id))


@bp.route("/integrations/<int:integration_id>/uninstall", methods=["POST"], endpoint="uninstall_integration")
def uninstall_integration(integration_id):
    """Uninstall after the admin typed the name; requesters stay, deactivated and detached."""
    item = integrations.integration_or_404(integration_id)
    try:
        count = integration_lifecycle.uninstall(item, request.form.get("confirm_name", ""), actor=actor())
    except ValidationError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("admin.integration", integration_id=item.id))
    flash(f"{item.name} is uninstalled. {plural(count, 'requester')} stay with their tickets and history, "
          "deactivated.", "success")
    return redirect(url_for("admin.marketplace"))
