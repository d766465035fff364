"""The demo's mail catcher (a real SMTP server on loopback) and its Mail page: every email the portal sent, newest
first, as its recipient reads it. Only `flask demo run` turns it on, never in production."""
import email
import email.policy
from collections import deque
from datetime import datetime

import click
from flask import abort, current_app, render_template, request

from portal.mail_html import clean_mail_html

MAILBOX_SIZE = 200
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def read_message(raw: bytes, recipients) -> dict:
    """One received email decoded: headers, the text part and the HTML part (never the raw MIME)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    return {"from": str(message["From"] or ""), "to": ", ".join(recipients), "subject": str(message["Subject"] or ""),
            "date": str(message["Date"] or "") or f"received {datetime.now():%Y-%m-%d %H:%M:%S}", "text": text.get_content() if text else "",
            "html": html.get_content() if html else ""}


def terminal_text(item: dict) -> str:
    """How the terminal shows a received email: the headers a reader looks at, then the text part."""
    return (f"\n----- email received by the demo SMTP server -----\nTo: {item['to']}\nSubject: {item['subject']}\n\n"
            f"{item['text'][:4000].rstrip()}\n----- end of email -----\n")


class DemoMailHandler:
    """aiosmtpd handler: keep each message for the Mail page and print its text part."""

    def __init__(self, mailbox: deque):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        item = read_message(envelope.content, envelope.rcpt_tos)
        self.mailbox.appendleft(item)
        click.echo(terminal_text(item))
        return "250 Message accepted for delivery"


def enable_demo_mailbox(app) -> deque:
    """Give the app a mailbox and the admin-only Mail page (/admin/demo/mail); refused in production."""
    if app.config.get("ENV_NAME") == "production":
        raise RuntimeError("The demo mailbox is for the local demo only, never production.")
    mailbox = app.extensions.setdefault("demo_mailbox", deque(maxlen=MAILBOX_SIZE))
    app.config["DEMO_MAILBOX"] = True
    if "admin.demo_mail" not in app.view_functions:
        # An "admin." endpoint runs the admin blueprint's guards (admins only, session checks) like its own pages.
        app.add_url_rule("/admin/demo/mail", endpoint="admin.demo_mail", view_func=demo_mail_page)
    return mailbox


def start_mail_catcher(app):
    """A real SMTP server (aiosmtpd) on MAIL_SERVER:MAIL_PORT that fills the demo mailbox."""
    from aiosmtpd.controller import Controller

    handler = DemoMailHandler(enable_demo_mailbox(app))
    controller = Controller(handler, hostname=app.config["MAIL_SERVER"], port=int(app.config["MAIL_PORT"]))
    controller.start()
    return controller


def demo_mail_page():
    """The demo's received emails, rendered; only from this machine, as they hold temporary passwords."""
    if request.remote_addr not in LOOPBACK:
        abort(404)
    messages = [dict(item, body=clean_mail_html(item["html"])) for item in current_app.extensions["demo_mailbox"]]
    return render_template("admin/demo_mail.html", messages=messages)
