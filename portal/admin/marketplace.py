"""Marketplace: install Microsoft Entra ID, see each installation's health, verify and replace the secret."""
from flask import current_app, flash, redirect, render_template, url_for

from portal import integrations, live_updates
from portal.admin import bp, kept_secret
from portal.admin.forms import ActionForm, InstallForm, SecretForm
from portal.admin.views_common import actor, ms_settings
from portal.exceptions import Conflict, EntraError, ValidationError


@bp.route("/marketplace")
def marketplace():
    """Available integrations and the state of each installation."""
    items = [(i, integrations.expiry_state(i)) for i in integrations.all_integrations()]
    return render_template("admin/marketplace.html", items=items)


@bp.route("/marketplace/entra/install", methods=["GET", "POST"], endpoint="install")
def install_page():
    """Verify the credentials with Microsoft, then save; every failure says what to fix."""
    form, failure = InstallForm(), None
    kept_secret.use_for(form.client_secret)
    if form.validate_on_submit():
        try:
            integration = integrations.install(integrations.InstallRequest(
                form.name.data, form.tenant_id.data, form.client_id.data, form.client_secret.data,
                form.secret_expires_on.data, form.cloud.data), ms_settings(), actor=actor())
        except ValidationError as exc:
            _attach(form, exc.detail.get("errors", {}))
        except (EntraError, Conflict) as exc:
            failure = exc
        else:
            kept_secret.forget_secret()
            ok = integration.status == "verified"
            flash("Verified and installed. Now map the fields." if ok else
                  "Installed, but Microsoft Graph access is not working yet: see the checklist.", "success" if ok else "warning")
            return redirect(url_for("admin.integration", integration_id=integration.id))
    status = 422 if form.errors or failure else 200
    if status == 422:
        kept_secret.keep_after_failure(form.client_secret, failure)
    return render_template("admin/install.html", form=form, failure=failure, kept=kept_secret.kept_hint()), status


def _attach(form, errors: dict) -> None:
    for name, message in errors.items():
        getattr(form, name).errors = [message]


@bp.route("/integrations/<int:integration_id>")
def integration(integration_id):
    """One installation: health, permission checklist, secret expiry and the next steps."""
    item = integrations.integration_or_404(integration_id)
    return render_template("admin/integration.html", integration=item, checklist=integrations.permission_checklist(item),
                           expiry=integrations.expiry_state(item), form=ActionForm(),
                           live=live_updates.status_for(item.id, current_app.config.get("PUBLIC_URL")))


@bp.route("/integrations/<int:integration_id>/verify", methods=["POST"], endpoint="verify")
def verify_page(integration_id):
    """Run Verify again and show the result."""
    item = integrations.integration_or_404(integration_id)  # CSRFProtect has already checked the token of this POST
    try:
        integrations.verify(item, ms_settings(), actor=actor())
    except EntraError as exc:
        flash(f"Verify failed: {exc.message}", "danger")
    else:
        _flash_verified(item)
    return redirect(url_for("admin.integration", integration_id=item.id))


def _flash_verified(item) -> None:
    if item.status == "verified":
        flash("Verified: Frontdesk can read users from Microsoft Graph.", "success")
    else:
        flash(f"Verify found a problem: {item.status_reason}", "warning")


@bp.route("/integrations/<int:integration_id>/secret", methods=["GET", "POST"], endpoint="replace_secret")
def replace_secret_page(integration_id):
    """Replace the client secret: checked with Microsoft before the old one is dropped."""
    item, form, failure = integrations.integration_or_404(integration_id), SecretForm(), None
    if form.validate_on_submit():
        try:
            integrations.replace_secret(item, form.client_secret.data, form.secret_expires_on.data, ms_settings(),
                                        actor=actor())
        except ValidationError as exc:
            _attach(form, {k: v for k, v in exc.detail.get("errors", {}).items() if k in ("client_secret", "secret_expires_on")})
        except EntraError as exc:
            failure = exc
        else:
            flash("The new secret works and replaced the old one.", "success")
            return redirect(url_for("admin.integration", integration_id=item.id))
    return render_template("admin/secret.html", integration=item, form=form, failure=failure), (422 if failure else 200)
