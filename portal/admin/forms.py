"""WTForms for the admin pages; CSRF comes from Flask-WTF on every form."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, ValidationError

from portal import mail
from portal.entra.cloud import choices as cloud_choices
from portal.exceptions import MailError


class SmallIntegerField(IntegerField):
    """An integer field that refuses absurdly long input before WTForms' range check overflows on it."""

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip()) > 9:
            self.data = None
            raise ValueError(self.gettext("Enter a smaller number."))
        super().process_formdata(valuelist)


class AdminLoginForm(FlaskForm):
    """Email and password for a local admin."""

    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class StepUpForm(FlaskForm):
    """The signed-in admin's password, again, before a security change."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Confirm and continue")


class PolicyForm(FlaskForm):
    """Session, lockout, sync and retention policy."""

    lockout_threshold = SmallIntegerField("Failed sign-ins before lockout", validators=[NumberRange(3, 50)])
    lockout_window_minutes = SmallIntegerField("Counting window (minutes)", validators=[NumberRange(1, 1440)])
    lockout_base_minutes = SmallIntegerField("First lockout (minutes)", validators=[NumberRange(1, 1440)])
    lockout_max_minutes = SmallIntegerField("Longest lockout (minutes)", validators=[NumberRange(1, 10080)])
    session_idle_minutes = SmallIntegerField("Idle timeout (minutes)", validators=[NumberRange(5, 1440)])
    session_absolute_hours = SmallIntegerField("Absolute session lifetime (hours)", validators=[NumberRange(1, 72)])
    session_max_devices = SmallIntegerField("Devices per requester", validators=[NumberRange(1, 50)])
    session_limit_mode = SelectField("At the device limit", choices=[
        ("end_oldest", "End the oldest session"), ("refuse", "Refuse the new sign-in")])
    sync_interval_minutes = SmallIntegerField("Sync interval (minutes)", validators=[NumberRange(5, 1440)])
    sync_deactivation_threshold_percent = SmallIntegerField(
        "Stop a sync that would deactivate more than (% of active requesters)", validators=[NumberRange(1, 100)])
    audit_retention_days = SmallIntegerField("Keep audit events (days)", validators=[NumberRange(30, 3650)])
    device_history_days = SmallIntegerField("Keep device history (days)", validators=[NumberRange(7, 3650)])
    approval_expiry_hours = SmallIntegerField("An approval expires after (hours)", validators=[NumberRange(1, 720)])
    microsoft_lockout_mode = SelectField("Wrong passwords typed at Microsoft", choices=[
        ("count", "Lock in Frontdesk after wrong passwords at Microsoft"),
        ("mirror", "Show Microsoft's own lock (no extra lock in Frontdesk)"),
        ("off", "Off: count only sign-ins that reach Frontdesk")])
    microsoft_lockout_threshold = SmallIntegerField("Wrong passwords at Microsoft before a lock",
                                                    validators=[NumberRange(3, 50)])
    microsoft_lockout_window_minutes = SmallIntegerField("Within (minutes)", validators=[NumberRange(1, 1440)])
    microsoft_lockout_seconds = SmallIntegerField("Microsoft's lockout duration (seconds)",
                                                  validators=[NumberRange(10, 86400)])
    sign_in_history_days = SmallIntegerField("Keep sign-in history from Microsoft (days)",
                                             validators=[NumberRange(7, 3650)])
    it_notify_email = StringField("IT notification email", validators=[Length(max=254)], filters=[
        lambda v: (v or "").strip()], description="Told when a ticket needs attention. Leave empty to tell nobody.")
    organisation_name = StringField("Organisation name", validators=[Length(max=120)], filters=[
        lambda v: (v or "").strip()], description="Shown in emails, e.g. 'Contoso'. Leave empty to use "
        "ORGANISATION_NAME from the environment.")
    portal_url = StringField("Portal address", validators=[Length(max=500)], filters=[lambda v: (v or "").strip()],
                             description="The address people open; links in emails point here. Leave empty to use "
                             "PORTAL_URL from the environment.")
    submit = SubmitField("Save settings")

    def validate_organisation_name(self, field):
        """One line of ordinary characters: it goes into the subject line of emails."""
        if field.data and not field.data.isprintable():
            raise ValidationError("Use one line of letters, digits and punctuation.")

    def validate_portal_url(self, field):
        """A full http(s) address, so every link in every email works."""
        if field.data and not mail.is_portal_url(field.data):
            raise ValidationError("Enter the full address people open, starting with https:// (http:// on a "
                                  "laptop), e.g. https://help.contoso.com/.")

    def validate_it_notify_email(self, field):
        """One valid address (the same check every outgoing mail makes), or empty."""
        if field.data:
            try:
                mail.single_recipient(field.data)
            except MailError as exc:
                raise ValidationError("Enter one valid email address, or leave it empty.") from exc


class AdminCommentForm(FlaskForm):
    """An admin's comment on a ticket: to the requester, or an internal note only admins see."""

    body = TextAreaField("Comment", validators=[DataRequired(message="Write a comment."), Length(max=5000)])
    internal = BooleanField("Internal note (only IT sees it)")
    submit = SubmitField("Add comment")


class InstallForm(FlaskForm):
    """Entra ID install: the app registration's ids, secret, expiry and national cloud."""

    name = StringField("Display name", validators=[DataRequired(), Length(max=120)],
                       description="How admins will recognise this tenant, e.g. 'Contoso staff'.")
    tenant_id = StringField("Directory (tenant) ID", validators=[DataRequired(), Length(max=255)],
                            description="A GUID, or a verified domain such as contoso.onmicrosoft.com.")
    client_id = StringField("Application (client) ID", validators=[DataRequired(), Length(max=36)],
                            description="From the app registration's Overview page.")
    client_secret = PasswordField("Client secret value", validators=[DataRequired(), Length(max=1024)],
                                  description="The secret's Value, not its Secret ID. It is encrypted and never shown again.")
    secret_expires_on = DateField("Secret expires on", validators=[DataRequired()],
                                  description="Frontdesk warns 30 and 7 days before this date.")
    cloud = SelectField("National cloud", choices=cloud_choices())
    submit = SubmitField("Verify and install")


class SecretForm(FlaskForm):
    """Replace the client secret; the new one is checked before it is kept."""

    client_secret = PasswordField("New client secret value", validators=[DataRequired(), Length(max=1024)])
    secret_expires_on = DateField("New secret expires on", validators=[DataRequired()])
    submit = SubmitField("Check and replace secret")


class AccountActionForm(FlaskForm):
    """An admin's action on one person's Entra account, with the reason the audit log keeps."""

    action = SelectField("Action", choices=[])
    reason = StringField("Reason", validators=[DataRequired(message="Give a reason."), Length(min=5, max=500)],
                         description="Kept on the ticket and in the audit log, for admins only.")
    submit = SubmitField("Run action")


class ActionForm(FlaskForm):
    """A bare form for POST buttons (CSRF only)."""

    submit = SubmitField("Go")


def mapping_form(attributes, initial: dict):
    """A form with one select per portal field, choices from the Graph attribute catalogue."""
    from portal.directory.field_mapping import PORTAL_FIELDS
    from portal.directory.sync_plan import GUEST_POLICIES
    from portal.sync_scope import SCOPES

    class MappingForm(FlaskForm):
        submit = SubmitField("Save mapping and sync")
        preview = SubmitField("Preview 5 users")
        dry_run = SubmitField("Preview changes")
        guest_policy = SelectField("Guests (userType Guest)", choices=list(GUEST_POLICIES.items()),
                                   default=initial.get("guest_policy") or "include")
        scope = RadioField("Who is synced", choices=list(SCOPES.items()), default=initial.get("scope") or "tenant",
                           validate_choice=False)  # sync_scope.clean_scope says what is wrong, in words

    for field in PORTAL_FIELDS:
        choices = [("", "Not mapped")] + [(a, a) for a in attributes if (a == "manager") == (field.name == "manager")]
        setattr(MappingForm, field.name, SelectField(field.label, choices=choices, default=initial.get(field.name) or ""))
    return MappingForm()
