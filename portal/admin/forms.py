"""WTForms for the admin pages; CSRF comes from Flask-WTF on every form."""
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, Length, NumberRange


class AdminLoginForm(FlaskForm):
    """Email and password for a local admin."""

    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class PolicyForm(FlaskForm):
    """Session, lockout, sync and retention policy."""

    lockout_threshold = IntegerField("Failed sign-ins before lockout", validators=[NumberRange(3, 50)])
    lockout_window_minutes = IntegerField("Counting window (minutes)", validators=[NumberRange(1, 1440)])
    lockout_base_minutes = IntegerField("First lockout (minutes)", validators=[NumberRange(1, 1440)])
    lockout_max_minutes = IntegerField("Longest lockout (minutes)", validators=[NumberRange(1, 10080)])
    session_idle_minutes = IntegerField("Idle timeout (minutes)", validators=[NumberRange(5, 1440)])
    session_absolute_hours = IntegerField("Absolute session lifetime (hours)", validators=[NumberRange(1, 72)])
    session_max_devices = IntegerField("Devices per requester", validators=[NumberRange(1, 50)])
    session_limit_mode = SelectField("At the device limit", choices=[
        ("end_oldest", "End the oldest session"), ("refuse", "Refuse the new sign-in")])
    sync_interval_minutes = IntegerField("Sync interval (minutes)", validators=[NumberRange(5, 1440)])
    sync_deactivation_threshold_percent = IntegerField(
        "Stop a sync that would deactivate more than (% of active requesters)", validators=[NumberRange(1, 100)])
    audit_retention_days = IntegerField("Keep audit events (days)", validators=[NumberRange(30, 3650)])
    device_history_days = IntegerField("Keep device history (days)", validators=[NumberRange(7, 3650)])
    submit = SubmitField("Save settings")
