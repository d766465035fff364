"""The mail template page's Preview and Send test: the template filled with sample values and a sample password
(never a real one), shown rendered or sent to the signed-in admin through the normal mail path."""
from flask import current_app

from portal import mail, policy, signals
from portal.database import db
from portal.exceptions import PortalError
from portal.mail_html import clean_mail_html

SAMPLE_PASSWORD = "Xy7-sample"  # noqa: S105 (a visible placeholder, never a real password)


def sample_values() -> dict:
    """What a real reset would fill in, with this portal's organisation and address and a sample password."""
    organisation, portal_url = policy.mail_identity()
    return {"name": "Alex", "ticket": 1234, "portal_url": portal_url, "organisation": organisation,
            mail.SLOT: SAMPLE_PASSWORD}


def preview_mail(template: dict) -> dict:
    """Subject, text and safe HTML of the template as a requester would receive it (a PortalError if it is refused)."""
    mail.validate_template(template)
    subject, text, html = mail.render(template, sample_values())
    return {"subject": subject, "text": text, "html": clean_mail_html(html)}


def send_test_mail(name: str, template: dict, actor: signals.Principal, to: str) -> str:
    """Send the template with sample values to the admin's own address; audited, sent or not."""
    config = current_app.config
    target = signals.Target("mail_template", name, name)
    try:
        mail.validate_template(template)
        subject, text, html = mail.render(template, sample_values())
        mail.send(config, to, f"[Test] {subject}", text, html, attempts=config.get("MAIL_ATTEMPTS", 3))
    except PortalError as exc:
        signals.mail_test_sent.send("mail", actor=actor, target=target, outcome="failure", reason=exc.message,
                                    detail={"to": to})
        db.session.commit()
        raise
    signals.mail_test_sent.send("mail", actor=actor, target=target, outcome="success", detail={"to": to})
    db.session.commit()
    return to
