"""Who a sync run changed, with the old and new value of each changed field: written with each page (in its
transaction), listed on the run page and exported as CSV."""
import sqlalchemy as sa

from portal.database import db
from portal.directory.sync_plan import REQUESTER_FIELDS, PageChanges
from portal.models import Requester, SyncChange

COMPARED = (*REQUESTER_FIELDS, "status")
PER_PAGE = 50


def record_page(run_id: int, changes: PageChanges) -> None:
    """Before the page's rows are written: one change row per created, updated or reactivated person."""
    rows = [{"run_id": run_id, "object_id": r["entra_object_id"], "label": r.get("display_name") or "",
             "kind": "created", "fields": {}} for r in changes.inserts]
    old = _stored(r["row_id"] for r in changes.updates)
    for record in changes.updates:
        before = old.get(record["row_id"])
        if before is None:
            continue
        diff = {f: [before[f], record.get(f)] for f in COMPARED if f in record and record.get(f) != before[f]}
        kind = "reactivated" if before["status"] != "active" and record.get("status") == "active" else "updated"
        rows.append({"run_id": run_id, "object_id": before["entra_object_id"],
                     "label": record.get("display_name") or before["display_name"] or "", "kind": kind, "fields": diff})
    if rows:
        db.session.execute(SyncChange.__table__.insert(), rows)


def record_deactivations(run_id: int, deactivations) -> None:
    """After the final pass: the people it deactivated (and status moves of those already inactive)."""
    items = list(deactivations)
    old = _stored(item.requester_id for item in items)
    rows = [{"run_id": run_id, "object_id": old[i.requester_id]["entra_object_id"],
             "label": old[i.requester_id]["display_name"] or "", "kind": "deactivated" if i.was_active else "updated",
             "fields": {"status": [i.status_before, i.values.get("status")]}} for i in items if i.requester_id in old]
    if rows:
        db.session.execute(SyncChange.__table__.insert(), rows)


def _stored(ids) -> dict[int, dict]:
    ids = list(ids)
    if not ids:
        return {}
    columns = [Requester.id, Requester.entra_object_id, *(getattr(Requester, f) for f in COMPARED)]
    rows = db.session.execute(sa.select(*columns).where(Requester.id.in_(ids)))
    return {row[0]: dict(zip(("entra_object_id", *COMPARED), row[1:], strict=True)) for row in rows}


def page_of(run_id: int, page: int):
    """One page of a run's changes, in the order they were made."""
    query = sa.select(SyncChange).where(SyncChange.run_id == run_id).order_by(SyncChange.id)
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def change_rows(run_id: int):
    """Every change of a run, for the CSV, streamed in chunks."""
    query = sa.select(SyncChange).where(SyncChange.run_id == run_id).order_by(SyncChange.id)
    for change in db.session.scalars(query.execution_options(yield_per=500)):
        yield {"object_id": change.object_id, "name": change.label, "change": change.kind,
               "fields": "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in (change.fields or {}).items())}
