"""Outgoing mail over SMTP (MAIL_* settings), with admin-editable templates rendered in a Jinja sandbox."""
import secrets
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
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


SLOT = "temporary_password"  # noqa: S105 (the name of the template variable, not a password)
SAMPLE = {"name": "Alex", "ticket": 1, "portal_url": "https://portal.example/", "organisation": "Contoso"}
# What may share a word with the password: punctuation around it, never a letter, digit or URL character, so no
# mail client or link scanner can read it as part of an address.
AROUND_PASSWORD = set("()[]\"'.,;:!*_-")
NOT_SENT = "The template would put the temporary password"


def validate_template(template: dict) -> None:
    """Refuse a template that does not parse, or that would not show the password, or would put it anywhere but the
    plain text of the message (a link, an image address, an attribute, the subject)."""
    from jinja2 import TemplateSyntaxError

    for part in ("subject", "text", "html"):
        try:
            SANDBOX.parse(template.get(part) or "")
        except TemplateSyntaxError as exc:
            raise ValidationError(f"The {part} template has an error on line {exc.lineno}: {exc.message}") from exc
    try:
        render(template, dict(SAMPLE, **{SLOT: "Sample-Password-1"}))
    except MailError as exc:
        raise ValidationError(exc.message) from exc


def render(template: dict, values: dict) -> tuple[str, str, str]:
    """Subject, text and HTML bodies. The password never reaches the template: it renders an unguessable marker,
    and only a marker that comes out unchanged in plain text is swapped for the password (filters, URLs and
    attributes therefore never see it)."""
    values = dict(values)
    nonce = secrets.token_hex(8)
    password, marker = values.pop(SLOT, None), f"\ue000{nonce}\ue001"
    values[SLOT] = marker
    subject, text, html = _fill(template, values)
    if marker in subject:
        raise MailError(f"{NOT_SENT} in the subject line. Move {{{{ {SLOT} }}}} into the message body.")
    leftovers = [part.replace(marker, "") for part in (subject, text, html)]
    if any(nonce in part.lower() or "\ue000" in part or "\ue001" in part for part in leftovers):
        raise MailError(f"{NOT_SENT} through a filter or a slice. Write {{{{ {SLOT} }}}} plainly.")
    _check_plain(text, marker)
    _check_html(html, marker)
    return subject, text.replace(marker, password or ""), html.replace(marker, escape(password or ""))


def _fill(template: dict, values: dict) -> tuple[str, str, str]:
    """Render the three parts; a template that fails while being filled in is a MailError, never a crash."""
    try:
        return (SANDBOX.from_string(template["subject"]).render(values).strip().replace("\n", " "),
                SANDBOX.from_string(template["text"]).render(values),
                HTML_SANDBOX.from_string(template["html"]).render(values))
    except Exception as exc:  # sandbox refusals, undefined names, arithmetic: all the admin's to fix
        raise MailError(f"The template fails when it is filled in ({exc.__class__.__name__}: {str(exc)[:200]}). "
                        "Use only the variables listed on this page.", code="mail_template_broken") from exc


def _check_plain(text: str, marker: str, where: str = "text body") -> None:
    """The password must show at least once, each time as a word of its own: only punctuation may touch it."""
    if marker not in text:
        raise MailError(f"The template does not show the temporary password in the {where}: write "
                        f"{{{{ {SLOT} }}}} on its own there.")
    for word in text.split():
        if marker in word and not set(word.replace(marker, "")) <= AROUND_PASSWORD:
            raise MailError(f"{NOT_SENT} inside a link or a longer word in the {where}. Put {{{{ {SLOT} }}}} on its "
                            "own, with a space before and after.")


class _PasswordPlaces(HTMLParser):
    """Where the marker lands in rendered HTML: visible text is fine, attributes, comments, scripts and styles
    are not."""

    def __init__(self, marker: str):
        super().__init__(convert_charrefs=True)
        self.marker, self.visible, self.hidden, self.inside, self.texts = marker, 0, [], [], []

    def handle_starttag(self, tag, attrs):
        self.inside.append(tag)
        if any(self.marker in (value or "") for _, value in attrs):
            self.hidden.append(f"an attribute of <{tag}>")

    def handle_endtag(self, tag):
        if tag in self.inside:
            del self.inside[len(self.inside) - 1 - self.inside[::-1].index(tag):]

    def handle_data(self, data):
        if self.marker in data:
            if {"script", "style", "title", "head"} & set(self.inside):
                self.hidden.append("a script or style")
            else:
                self.visible += data.count(self.marker)
                self.texts.append(data)

    def handle_comment(self, data):
        if self.marker in data:
            self.hidden.append("a comment")


def _check_html(html: str, marker: str) -> None:
    places = _PasswordPlaces(marker)
    places.feed(html)
    places.close()
    if places.hidden:
        raise MailError(f"{NOT_SENT} in {places.hidden[0]} of the HTML body. Show it only as text.")
    if places.visible != html.count(marker) or not places.visible:
        raise MailError(f"The template does not show the temporary password as text in the HTML body: write "
                        f"{{{{ {SLOT} }}}} on its own in a paragraph.")
    for text in places.texts:
        _check_plain(text, marker, "HTML body")


def is_portal_url(value: str) -> bool:
    """An absolute http(s) address with a host and nothing a link in an email should not carry (credentials,
    query, fragment, spaces or control characters)."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (value.isprintable() and " " not in value and parts.scheme in ("http", "https") and bool(parts.hostname)
            and port_ok and not (parts.username or parts.password or parts.query or parts.fragment))


def single_recipient(to) -> str:
    """Exactly one valid address, or MailError: a synced 'a@x, b@y' or a header break never reaches SMTP."""
    try:
        return validate_email(to, check_deliverability=False).normalized if isinstance(to, str) else _no(to)
    except EmailNotValidError as exc:
        raise MailError(f"The recipient is not one valid email address ({exc}); nothing was sent.",
                        code="invalid_recipient") from exc


def _no(to):
    raise EmailNotValidError(f"a {to.__class__.__name__} is not an address")


def send(config, to: str, subject: str, text: str, html: str | None = None, attempts: int = 3) -> str:
    """Send one message to one checked recipient, retrying connection and transient SMTP errors; returns the
    Message-ID."""
    to = single_recipient(to)
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
