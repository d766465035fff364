"""Admin-editable policy values: the Setting row if an admin changed it, else the config default."""
import time

import sqlalchemy as sa
from flask import current_app

from portal import signals
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Setting


def defaults() -> dict:
    """The defaults from config.py, which also define which keys exist and their types."""
    return current_app.config["POLICY_DEFAULTS"]


def get(key: str):
    """Current value of one policy key (from the same cache as `all_values`: pages read several keys)."""
    if key not in defaults():
        raise KeyError(key)
    return all_values()[key]


def all_values() -> dict:
    """Every policy key with its current value; kept for POLICY_CACHE_SECONDS, as every request reads it."""
    ttl = current_app.config.get("POLICY_CACHE_SECONDS", 0)
    cached = current_app.extensions.get("policy_cache")
    if ttl and cached and cached[0] > time.monotonic():
        return dict(cached[1])
    stored = {s.key: s.value for s in db.session.scalars(sa.select(Setting))}
    values = {k: stored.get(k, v) for k, v in defaults().items()}
    if ttl:
        current_app.extensions["policy_cache"] = (time.monotonic() + ttl, values)
    return dict(values)


def mail_identity() -> tuple[str, str]:
    """Organisation name and portal URL for emails: the Settings page's, else ORGANISATION_NAME and PORTAL_URL."""
    values, config = all_values(), current_app.config
    return (values.get("organisation_name") or config.get("ORGANISATION_NAME") or "your organisation",
            values.get("portal_url") or config.get("PORTAL_URL") or "")


def forget_cached() -> None:
    """After a change in this process: the next read goes to the database (other processes catch up within the TTL)."""
    current_app.extensions.pop("policy_cache", None)


def _check(key: str, value) -> None:
    if key not in defaults():
        raise ValidationError(f"Unknown setting {key!r}.")
    expected = type(defaults()[key])
    if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
        raise ValidationError(f"Setting {key!r} must be a {expected.__name__}.")


def set_values(values: dict, *, actor: signals.Principal) -> list[str]:
    """Validate every value first, then write the changed ones in one transaction, each audited."""
    for key, value in values.items():
        _check(key, value)
    forget_cached()  # compare with what is stored now, not with what this process read a few seconds ago
    changed = []
    for key, value in values.items():
        old = get(key)
        if old == value:
            continue
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value, row.updated_by = value, f"{actor.type}:{actor.id}"
        db.session.add(row)
        signals.setting_changed.send("policy", actor=actor, target=signals.Target("setting", key, key),
                                     detail={"old": old, "new": value})
        changed.append(key)
    db.session.commit()
    forget_cached()
    return changed


def mail_template(name: str) -> dict:
    """The admin-edited mail template, or the built-in one."""
    from portal.mail import DEFAULT_TEMPLATES

    row = db.session.get(Setting, f"mail_template:{name}")
    return row.value if row is not None and isinstance(row.value, dict) else DEFAULT_TEMPLATES[name]


def set_mail_template(name: str, template: dict, *, actor: signals.Principal) -> None:
    """Validate and store a mail template; audited with what changed (never with rendered values)."""
    from portal.mail import validate_template

    validate_template(template)
    old = mail_template(name)
    row = db.session.get(Setting, f"mail_template:{name}") or Setting(key=f"mail_template:{name}")
    row.value, row.updated_by = template, f"{actor.type}:{actor.id}"
    db.session.add(row)
    signals.setting_changed.send("policy", actor=actor, target=signals.Target("setting", f"mail_template:{name}", name),
                                 detail={"old": old, "new": template})
    db.session.commit()
