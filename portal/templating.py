"""Jinja helpers: dates people can read, the navigation role, and asset URLs."""
from datetime import UTC, datetime

from flask import Flask
from flask_login import current_user
from jinja2 import FileSystemBytecodeCache
from markupsafe import Markup

from portal import ticket_progress


def humanize_time(value: datetime | None) -> str:
    """'3 minutes ago' style text for timestamps; absolute time goes in the title attribute."""
    if value is None:
        return "never"
    seconds = int((datetime.now(UTC) - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def utc_format(value: datetime | None) -> str:
    """ISO-like UTC time for tables and titles."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def local_time(value: datetime | None) -> Markup:
    """A <time> that shows UTC without JavaScript and the reader's own time zone with it (static/js/app.js)."""
    if not value:
        return Markup("—")
    iso = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Markup('<time datetime="{}" data-local>{}</time>').format(iso, utc_format(value))


def iso_utc(value: datetime | None) -> str:
    """ISO 8601 in UTC, for data-utc attributes that app.js turns into local-time tooltips."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


def register_template_helpers(app: Flask) -> None:
    """Filters and globals every template can use."""
    # Compiled templates survive a worker restart (gunicorn recycles workers every ~5,000 requests); the cache
    # is keyed by each template's source checksum, in a private per-user directory.
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache()
    app.jinja_env.filters["ago"] = humanize_time
    app.jinja_env.filters["utc"] = utc_format
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["iso"] = iso_utc
    app.jinja_env.filters["status_label"] = ticket_progress.label
    app.jinja_env.filters["extract"] = lambda key, mapping: mapping.get(key, key)
    app.jinja_env.filters["dict_without"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys}

    @app.context_processor
    def _role():
        role = current_user.principal_type if current_user.is_authenticated else None
        return {"role": role, "product_name": "Frontdesk"}
