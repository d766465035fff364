"""An email's HTML part shown inside a portal page (the template preview, the demo's Mail page): only text tags and
http(s) or mailto links survive, with no attribute but href, so no template or message can run script, load
anything or trip the page's CSP."""
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

KEPT_TAGS = frozenset({"p", "br", "hr", "strong", "b", "em", "i", "u", "code", "pre", "ul", "ol", "li", "blockquote",
                       "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "div", "table", "thead", "tbody", "tr", "td",
                       "th"})
VOID_TAGS = frozenset({"br", "hr"})
# Their content is not text a reader sees (or is another document): dropped with the tag.
HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template", "iframe", "object", "noscript", "svg",
                         "math", "textarea", "select"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})


class _AllowlistHtml(HTMLParser):
    """Re-emits kept tags bare (links keep a checked href), escapes every piece of text, drops everything else."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.open, self.hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_TAGS:
            self.hidden += 1
        elif not self.hidden and tag in KEPT_TAGS:
            self.out.append(_link_tag(attrs) if tag == "a" else f"<{tag}>")
            if tag not in VOID_TAGS:
                self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag in VOID_TAGS and not self.hidden:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif not self.hidden and tag in self.open:
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(escape(data))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def _link_tag(attrs) -> str:
    href = (dict(attrs).get("href") or "").strip()
    if href and urlsplit(href).scheme.lower() in LINK_SCHEMES:
        return f'<a href="{escape(href, quote=True)}" rel="noopener noreferrer">'
    return "<a>"


def clean_mail_html(html: str) -> Markup:
    """Safe markup for an email's HTML part, to show inside a page."""
    parser = _AllowlistHtml()
    parser.feed(html or "")
    return Markup(parser.result())  # noqa: S704 (built above from escaped text and fixed tags only)
