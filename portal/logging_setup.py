"""Structured logging: JSON lines in production, readable lines on a laptop, request id on both."""
import json
import logging
import sys
import unicodedata
from datetime import UTC, datetime

from flask import g, has_request_context


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id so error pages and logs can be matched."""

    def filter(self, record):
        record.request_id = getattr(g, "request_id", "-") if has_request_context() else "-"
        return True


def escape_controls(text: str) -> str:
    """Control and line-separator characters become visible escapes, so a value can never start a forged line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if unicodedata.category(ch) not in ("Cc", "Zl", "Zp", "Cf") and ch != "\x7f":
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class PlainFormatter(logging.Formatter):
    """The readable development format, with the message's control characters escaped (tracebacks stay multi-line)."""

    def formatMessage(self, record):
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers and SIEMs."""

    EXTRA = ("status", "code", "audit", "sync", "action_run")

    def format(self, record):
        body = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "msg": escape_controls(record.getMessage()),
                "request_id": getattr(record, "request_id", "-")}
        body.update({k: getattr(record, k) for k in self.EXTRA if hasattr(record, k)})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def configure_logging(json_lines: bool, level: str) -> None:
    """Install one handler on the root logger (idempotent, so test apps do not stack handlers)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_frontdesk", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._frontdesk = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
