"""The install form's client secret survives a failed submit without going back into the page: it waits in the
server-side session, encrypted with ENCRYPTION_KEY, for a few minutes, and only its last four characters are shown."""
import time

from flask import current_app, request, session

from portal.crypto import SecretBox, secret_hint

SESSION_KEY = "install_secret"
LIFETIME_SECONDS = 15 * 60
SECRET_IS_WRONG = {"invalid_secret", "secret_expired"}  # Microsoft refused the secret itself: keeping it helps nobody


def _box() -> SecretBox:
    return SecretBox(current_app.config["ENCRYPTION_KEY"])


def forget_secret() -> None:
    """Drop the kept secret: it was used, Microsoft refused it, or the form was opened afresh."""
    session.pop(SESSION_KEY, None)


def kept_hint() -> str | None:
    """The last four characters of the kept secret ('' for a short one), or None when nothing is kept."""
    entry = session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("until", 0) < time.time():
        return None
    return entry.get("hint", "")


def use_for(field) -> None:
    """A fresh visit forgets an old secret; a submit that leaves the field empty gets the kept one back."""
    if request.method != "POST":
        forget_secret()
        return
    if field.data or kept_hint() is None:
        return
    try:
        field.data = _box().decrypt(session[SESSION_KEY]["token"].encode())
    except RuntimeError:  # ENCRYPTION_KEY changed since: ask for the secret again
        forget_secret()


def keep_after_failure(field, failure=None) -> None:
    """Keep the secret for the next try, unless it is the part that was wrong."""
    if not field.data or field.errors or getattr(failure, "code", None) in SECRET_IS_WRONG:
        forget_secret()
        return
    session[SESSION_KEY] = {"token": _box().encrypt(field.data).decode(), "hint": secret_hint(field.data),
                            "until": time.time() + LIFETIME_SECONDS}
