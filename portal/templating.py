"""Jinja helpers: dates people can read, the navigation role, and asset URLs."""
from datetime import UTC, datetime

from flask import Flask
from flask_login import current_user


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


def register_template_helpers(app: Flask) -> None:
    """Filters and globals every template can use."""
    app.jinja_env.filters["ago"] = humanize_time
    app.jinja_env.filters["utc"] = utc_format
    app.jinja_env.filters["extract"] = lambda key, mapping: mapping.get(key, key)
    app.jinja_env.filters["dict_without"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys}

    @app.context_processor
    def _role():
        role = current_user.principal_type if current_user.is_authenticated else None
        return {"role": role, "product_name": "Frontdesk"}
