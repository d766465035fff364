"""Admin Settings page: the policy values that live in the database."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal import policy, sign_in, signals
from portal.admin import bp
from portal.admin.forms import PolicyForm


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Show and change policy; each change is audited with its old and new value."""
    form = PolicyForm(data=policy.all_values())
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in policy.defaults()}
        changed = policy.set_values(values, actor=signals.Principal.of(current_user))
        flash(f"Settings saved ({len(changed)} changed)." if changed else "Nothing changed.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, integrations=sign_in.verified_integrations())
