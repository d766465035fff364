"""The requester table as sync reads and writes it: what is known per object id, adoption, writes, managers.

Nothing here commits: the sync engine commits each page together with its progress and lease renewal.
"""
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.database import db
from portal.directory import field_mapping
from portal.directory.sync_plan import REQUESTER_FIELDS, Deactivation, KnownRequester, PageChanges
from portal.models import Requester

LOOKUP_CHUNK = 500  # object ids per IN (...) list, well inside every database's bound-parameter limit
_STORED_COLUMNS = [getattr(Requester, name) for name in REQUESTER_FIELDS]


def known_requesters(integration_id: int) -> dict[str, KnownRequester]:
    """Full sync: id, content hash and status of every requester of the integration, by object id."""
    # One query for what we already have (about 30 MB at 100,000 users), instead of one per page whose
    # plan degrades while PostgreSQL's statistics still describe the table as it was before the run.
    rows = db.session.execute(sa.select(Requester.entra_object_id, Requester.id, Requester.content_hash,
                                        Requester.status).where(Requester.integration_id == integration_id))
    return {oid: KnownRequester(rid, digest, status) for oid, rid, digest, status in rows}


def known_with_values(integration_id: int, object_ids) -> dict[str, KnownRequester]:
    """Delta sync: the given users' rows including their stored values, which a delta's changes are merged over."""
    ids, found = list(object_ids), {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows = db.session.execute(sa.select(Requester.entra_object_id, Requester.id, Requester.content_hash,
                                            Requester.status, Requester.account_enabled, Requester.user_type,
                                            *_STORED_COLUMNS)
                                  .where(Requester.integration_id == integration_id,
                                         Requester.entra_object_id.in_(ids[start:start + LOOKUP_CHUNK])))
        found.update({row[0]: _known(row) for row in rows})
    return found


def _known(row) -> KnownRequester:
    oid, rid, digest, status, enabled, user_type, *stored = row
    return KnownRequester(rid, digest, status, enabled, user_type, dict(zip(REQUESTER_FIELDS, stored, strict=True)))


@dataclass
class Adoption:
    """First sync: the unlinked local requesters a page's new users name by email (object id -> what is stored), the
    addresses that adopted them, and clashes: (address, object id it went to, another user with that address)."""

    known: dict[str, KnownRequester] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    clashes: list[tuple[str, str, str]] = field(default_factory=list)


def match_by_email(users: list[dict], email_attribute: str | None, taken: Mapping[str, str]) -> Adoption:
    """Read only: which local requester (no integration yet) each new user's email names. The first user listed with
    an address gets it; a later one (on this page, or earlier in the run per `taken`) is a clash and adopts nobody."""
    listed: dict[str, list[str]] = {}
    for user in users:
        if user.get("accountEnabled") is False or user.get("userType") not in (None, "Member"):
            continue  # a disabled account or a guest (who may have been invited with anyone's address) adopts nobody
        # Only an address sync would store: a 'mail' that is not one valid address adopts nobody.
        value = field_mapping.read_attribute(user, email_attribute) if email_attribute else None
        email = field_mapping.synced_mail(value)[0]
        if email:
            listed.setdefault(email.lower(), []).append(user["id"])
    adoption = Adoption(clashes=[(e, taken[e], oid) for e, oids in listed.items() if e in taken for oid in oids])
    wanted = [e for e in listed if e not in taken]
    if not wanted:
        return adoption
    rows = db.session.execute(sa.select(sa.func.lower(Requester.email), Requester.id, Requester.content_hash,
                                        Requester.status, Requester.account_enabled, Requester.user_type,
                                        *_STORED_COLUMNS)
                              .where(Requester.integration_id.is_(None), sa.func.lower(Requester.email).in_(wanted))
                              .order_by(Requester.id))
    for email, *row in rows:
        first, *others = listed[email]
        if first in adoption.known:
            continue  # two local requesters with one address: the older one is adopted
        adoption.known[first], adoption.emails[email] = _known([first, *row]), first
        adoption.clashes.extend((email, first, other) for other in others)
    return adoption


def any_unlinked() -> bool:
    """Whether any local requester with an email waits to be adopted (if none, a first sync skips the matching)."""
    return db.session.scalar(sa.select(Requester.id).where(Requester.integration_id.is_(None),
                                                           Requester.email.is_not(None)).limit(1)) is not None


def link_adopted(integration_id: int, adoption: Adoption) -> None:
    """Link the adopted local requesters to their users, in one executemany (not committed)."""
    if adoption.known:
        table = Requester.__table__
        db.session.execute(table.update().where(table.c.id == sa.bindparam("row_id")),
                           [{"row_id": k.id, "integration_id": integration_id, "entra_object_id": oid}
                            for oid, k in adoption.known.items()])


def write_changes(changes: PageChanges) -> None:
    """Insert and update one page's rows, each kind in one executemany."""
    # Core executemany: the ORM's bulk path costs several times more per row and adds nothing here.
    table = Requester.__table__
    if changes.inserts:
        db.session.execute(table.insert(), changes.inserts)
    if changes.updates:
        db.session.execute(table.update().where(table.c.id == sa.bindparam("row_id")), changes.updates)


def write_deactivations(deactivations: list[Deactivation], now) -> None:
    """Make the held-back deactivations real, one row at a time (there are few, or the run was confirmed)."""
    for item in deactivations:
        db.session.execute(sa.update(Requester).where(Requester.id == item.requester_id).values(
            dict(item.values, updated_at=now, last_synced_at=now)))


def active_count(integration_id: int) -> int:
    """How many of the integration's requesters are active: the base of the deactivation threshold."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(
        Requester.integration_id == integration_id, Requester.status == "active")) or 0


def undeleted_rows(integration_id: int) -> Iterator[tuple[int, str, str]]:
    """(id, object id, status) of every requester not yet deleted: a full sync deletes those Graph did not list.
    Streamed, so 100,000 rows never sit in memory together with the run's set of listed ids."""
    yield from db.session.execute(sa.select(Requester.id, Requester.entra_object_id, Requester.status).where(
        Requester.integration_id == integration_id, Requester.status != "deleted").execution_options(yield_per=2000))


def resolve_managers(integration_id: int, since) -> None:
    """Point manager_id at the manager's requester, by object id, in one statement."""
    manager = sa.orm.aliased(Requester)
    lookup = (sa.select(manager.id).where(manager.integration_id == Requester.integration_id,
                                          manager.entra_object_id == Requester.manager_object_id)
              .scalar_subquery())
    # Only rows this run wrote, and reports still waiting for a manager who may have arrived now.
    touched = sa.or_(Requester.last_synced_at >= since,
                     sa.and_(Requester.manager_id.is_(None), Requester.manager_object_id.is_not(None)))
    db.session.execute(sa.update(Requester).where(Requester.integration_id == integration_id, touched)
                       .values(manager_id=lookup).execution_options(synchronize_session=False))


def refresh_statistics(created: int) -> None:
    """After a bulk load on PostgreSQL, fresh statistics, so the manager UPDATE and the next delta use the
    (integration, oid) index instead of scanning the table once per row."""
    if created > 1000 and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE requesters"))


def upn_renames(updates: list[dict]) -> list[tuple[int, str, str]]:
    """(row id, old UPN, new UPN) for the changed rows whose userPrincipalName changed (only changed rows are read)."""
    new = {u["row_id"]: u.get("user_principal_name") for u in updates if "row_id" in u}
    if not new:
        return []
    rows = db.session.execute(sa.select(Requester.id, Requester.user_principal_name).where(Requester.id.in_(new)))
    return [(rid, old, new[rid]) for rid, old in rows if old and new[rid] and old.lower() != new[rid].lower()]


def shared_mail(integration_id: int) -> dict[str, list[int]]:
    """Mail addresses that several active requesters of the integration share, with their ids."""
    rows = db.session.execute(sa.select(Requester.email, Requester.id).where(
        Requester.integration_id == integration_id, Requester.status == "active", Requester.email.in_(
            sa.select(Requester.email).where(Requester.integration_id == integration_id,
                                             Requester.status == "active", Requester.email.is_not(None))
            .group_by(Requester.email).having(sa.func.count() > 1))).order_by(Requester.id))
    found: dict[str, list[int]] = {}
    for email, rid in rows:
        found.setdefault(email, []).append(rid)
    return found
