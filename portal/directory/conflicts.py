"""What a sync found that an admin should resolve or know: shared mail addresses, renamed sign-in names, and local
requesters whose address two Microsoft accounts have (the first listed adopts the local record; the other does not).

Shared mail stays open until the address is unique again (matching "by email" is ambiguous meanwhile, so a ticket
naming it is refused); a rename is recorded as done (the link stays on the object id, the old name is kept).
"""
from datetime import datetime

import sqlalchemy as sa

from portal.database import db
from portal.directory import requester_store
from portal.models import Requester, SyncConflict, SyncRun

SHARED_MAIL, UPN_CHANGED, TWO_ACCOUNTS = "shared_mail", "upn_changed", "two_accounts"


def record_renames(integration_id: int, run_id: int, updates: list[dict], now: datetime) -> int:
    """Record every userPrincipalName change among a page's updates (before they are written); not committed."""
    renames = requester_store.upn_renames(updates)
    for rid, old, new in renames:
        db.session.add(SyncConflict(integration_id=integration_id, run_id=run_id, kind=UPN_CHANGED, key=new,
                                    requester_ids=[rid], detail={"old": old, "new": new}, found_at=now,
                                    resolved_at=now))
    return len(renames)


def record_clashes(integration_id: int, run_id: int, adoption: requester_store.Adoption, now: datetime) -> int:
    """First sync: record each second account whose address names a local requester another account adopted (after
    the adoption is linked, so the local requester is found by the account it went to); not committed."""
    for email, linked, other in adoption.clashes:
        local = db.session.scalar(sa.select(Requester.id).where(Requester.integration_id == integration_id,
                                                                Requester.entra_object_id == linked))
        db.session.add(SyncConflict(integration_id=integration_id, run_id=run_id, kind=TWO_ACCOUNTS, key=email,
                                    requester_ids=[local] if local else [], detail={"linked": linked, "other": other},
                                    found_at=now, resolved_at=now))
    return len(adoption.clashes)


def record_shared_mail(integration_id: int, run_id: int, now: datetime) -> int:
    """Open a conflict per newly shared address, update the people of open ones, close those now unique; returns
    how many addresses are shared after this run (not committed)."""
    shared = requester_store.shared_mail(integration_id)
    open_ones = {c.key: c for c in db.session.scalars(sa.select(SyncConflict).where(
        SyncConflict.integration_id == integration_id, SyncConflict.kind == SHARED_MAIL,
        SyncConflict.resolved_at.is_(None)))}
    for email, ids in shared.items():
        if email in open_ones:
            open_ones[email].requester_ids = ids
        else:
            db.session.add(SyncConflict(integration_id=integration_id, run_id=run_id, kind=SHARED_MAIL, key=email,
                                        requester_ids=ids, detail={}, found_at=now))
    for email, conflict in open_ones.items():
        if email not in shared:
            conflict.resolved_at = now
    return len(shared)


def open_shared_mail(integration_id: int) -> int:
    """How many addresses are still shared, when a run moved no address or status (nothing to look for again)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(SyncConflict).where(
        SyncConflict.integration_id == integration_id, SyncConflict.kind == SHARED_MAIL,
        SyncConflict.resolved_at.is_(None))) or 0


def for_page(integration_id: int) -> dict:
    """The Conflicts page: open shared addresses, and the 50 latest renames and local requesters two accounts named."""
    base = sa.select(SyncConflict).where(SyncConflict.integration_id == integration_id)
    last = db.session.scalars(sa.select(SyncRun).where(SyncRun.integration_id == integration_id,
                                                       SyncRun.status == "succeeded",
                                                       SyncRun.trigger != "preview").order_by(SyncRun.id.desc())).first()
    return {"last_run": last, "shared": db.session.scalars(base.where(SyncConflict.kind == SHARED_MAIL,
                                                    SyncConflict.resolved_at.is_(None)).order_by(SyncConflict.key)).all(),
            "renames": _latest(base, UPN_CHANGED), "two_accounts": _latest(base, TWO_ACCOUNTS)}


def _latest(base, kind: str) -> list[SyncConflict]:
    return db.session.scalars(base.where(SyncConflict.kind == kind).order_by(SyncConflict.id.desc()).limit(50)).all()


def people_of(page: dict) -> set[int]:
    """The requester ids a Conflicts page (from `for_page`) names."""
    return {rid for c in page["shared"] + page["renames"] + page["two_accounts"] for rid in c.requester_ids}
