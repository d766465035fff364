"""Outgoing mail over SMTP (MAIL_* settings), with admin-editable templates rendered in a Jinja sandbox."""
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from jinja2.sandbox import SandboxedEnvironment

from portal.exceptions import MailError, ValidationError

SANDBOX = SandboxedEnvironment(autoescape=False)
HTML_SANDBOX = SandboxedEnvironment(autoescape=True)

DEFAULT_TEMPLATES = {
    "password_reset": {
        "subject": "Your temporary password for {{ organisation }}",
        "text": ("Hello {{ name }},\n\nAs requested in ticket #{{ ticket }}, your Microsoft account password was reset.\n\n"
                 "Temporary password: {{ temporary_password }}\n\nSign in at {{ portal_url }} with it. Microsoft will ask "
                 "you to choose a new password straight away. If you did not ask for this, contact IT now.\n"),
        "html": ("<p>Hello {{ name }},</p><p>As requested in ticket #{{ ticket }}, your Microsoft account password was "
                 "reset.</p><p>Temporary password: <strong><code>{{ temporary_password }}</code></strong></p><p>Sign in at "
                 "<a href=\"{{ portal_url }}\">{{ portal_url }}</a> with it. Microsoft will ask you to choose a new password "
                 "straight away. If you did not ask for this, contact IT now.</p>"),
    },
}
TEMPLATE_VARIABLES = ("name", "ticket", "temporary_password", "portal_url", "organisation")


def validate_template(template: dict) -> None:
    """Refuse templates that do not parse, or that would not include the temporary password."""
    from jinja2 import TemplateSyntaxError

    for part in ("subject", "text", "html"):
        try:
            SANDBOX.parse(template.get(part) or "")
        except TemplateSyntaxError as exc:
            raise ValidationError(f"The {part} template has an error on line {exc.lineno}: {exc.message}") from exc
    if "temporary_password" not in template.get("text", "") or "temporary_password" not in template.get("html", ""):
        raise ValidationError("Both the text and HTML bodies must include {{ temporary_password }}.")


def render(template: dict, values: dict) -> tuple[str, str, str]:
    """Subject, text and HTML bodies."""
    return (SANDBOX.from_string(template["subject"]).render(values).strip().replace("\n", " "),
            SANDBOX.from_string(template["text"]).render(values),
            HTML_SANDBOX.from_string(template["html"]).render(values))


def send(config, to: str, subject: str, text: str, html: str | None = None, attempts: int = 3) -> str:
    """Send one message, retrying connection and transient SMTP errors; returns the Message-ID."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_DEFAULT_SENDER"], to, subject
    message["Message-ID"] = make_msgid(domain="frontdesk")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    last = None
    for attempt in range(attempts):
        try:
            with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
                if config.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if config.get("MAIL_USERNAME"):
                    smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
                smtp.send_message(message)
            return message["Message-ID"]
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
            time.sleep(min(2 ** attempt * config.get("MAIL_RETRY_BASE", 0.5), 5))
    raise MailError(f"The email could not be sent ({last.__class__.__name__}).")
