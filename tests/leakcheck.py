"""What the secrets sweep needs: every page, log line and database row the suite produced, and every secret.

The suite writes pages (test-client responses), log records and a text dump of every table before each test's
truncation into one capture file; the emulators that ran are remembered so that their client secrets and every
token they issued can be collected; the mailbox fixture remembers temporary passwords. The last test
(tests/zz_final) greps the capture for all of them.
"""
import logging
import re
from pathlib import Path

import sqlalchemy as sa

CAPTURE: dict = {"file": None}
EMULATORS: list = []
SECRETS: set[str] = set()
PASSWORD_RE = re.compile(r"Temporary password: (\S+)")


def start(path: Path) -> None:
    CAPTURE["file"] = path.open("a", encoding="utf-8", errors="replace")
    handler = logging.StreamHandler(CAPTURE["file"])
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # The test SMTP server's wire log is the recipient's mailbox, where the temporary password belongs.
    handler.addFilter(lambda record: not record.name.startswith("mail.log"))
    logging.getLogger().addHandler(handler)


def record(text: str) -> None:
    if CAPTURE["file"] is not None and text:
        CAPTURE["file"].write(text)
        CAPTURE["file"].write("\n")


def record_response(response) -> None:
    if response.is_streamed:  # reading would buffer it (exports); their rows come from the table dumps anyway
        return
    if response.mimetype and (response.mimetype.startswith("text/") or "json" in response.mimetype):
        record(response.get_data(as_text=True))
        record(str(response.headers))


def dump_tables(connection, tables: list[str]) -> None:
    """Every row of every table as text (the truncation that follows would otherwise erase the evidence)."""
    if CAPTURE["file"] is None:
        return
    for name in tables:
        for row in connection.execute(sa.text(f"SELECT * FROM {name}")):  # noqa: S608 (names from our metadata)
            record(" | ".join(str(v) for v in row))


def watch(running_emulator) -> None:
    EMULATORS.append(running_emulator)


def remember_mail(message) -> None:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            SECRETS.update(PASSWORD_RE.findall(part.get_payload(decode=True).decode("utf-8", "replace")))


def collect() -> dict:
    """Every client secret and every token the emulators issued, and the temporary passwords mailed."""
    found = {"client secret": set(), "token": set(), "temporary password": set(SECRETS)}
    for running in EMULATORS:
        for tenant in running.state.directory.tenants.values():
            for app in tenant.apps.values():
                found["client secret"].update(s for s in [app.client_secret, *app.retired_secrets] if s)
        for token in running.state.tokens.issued:
            found["token"].add(token)
            found["token"].add(token.rsplit(".", 1)[-1])  # the signature alone is as good as the token
    return found
