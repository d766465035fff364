"""Small helpers shared by admin views: the actor, Microsoft settings, and kicking background syncs."""
from flask import current_app
from flask_login import current_user

from portal import jobs, signals
from portal.entra import clients
from portal.models._types import MAX_ID


def actor() -> signals.Principal:
    """The signed-in admin as an audit actor."""
    return signals.Principal.of(current_user)


def ms_settings() -> clients.MicrosoftSettings:
    """Microsoft endpoints and retry policy from the app config."""
    return clients.MicrosoftSettings.from_config(current_app.config)


def kick_sync() -> None:
    """Start queued syncs now, as SYNC_KICK says: a background thread, inline, or leave them to the scheduler."""
    mode, app = current_app.config.get("SYNC_KICK", "thread"), current_app._get_current_object()
    if mode == "thread":
        jobs.kick(app)
    elif mode == "inline":
        jobs.run_queued_syncs(app)


def bounded_int(value: str) -> int:
    """For request.args.get(type=...): a number a database column can hold; anything else counts as absent."""
    number = int(value)  # ValueError (junk, "²", "1e9") makes werkzeug return the default
    if not 0 <= number <= MAX_ID:
        raise ValueError("out of range")
    return number


def plural(count: int, noun: str) -> str:
    """'1 session', '3 sessions': flash messages count things."""
    return f"{count} {noun}{'s' if count != 1 else ''}"
