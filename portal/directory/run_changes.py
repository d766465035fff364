"""Who a sync run changed, with the old and new value of each changed field: written with each page (in its
transaction), listed on the run page and exported as CSV; the people it created are read back from the requester
table instead of being written twice."""
from collections import Counter

import sqlalchemy as sa

from portal.database import db
from portal.directory.sync_plan import REQUESTER_FIELDS, PageChanges
from portal.models import Requester, SyncChange, SyncRun

COMPARED = (*REQUESTER_FIELDS, "status")
PER_PAGE = 50


def record_page(run_id: int, changes: PageChanges) -> set[str]:
    """Before the page's rows are written: one change row per updated or reactivated person (created people are read
    back from the requester table by their creation time, so a first sync of 100,000 writes nothing extra); returns
    the names of the fields that changed."""
    rows = _update_rows(run_id, changes.updates)
    _insert(rows)
    return {name for row in rows for name in row["fields"]}


def record_deactivations(run_id: int, deactivations) -> None:
    """After the final pass: the people it deactivated (and status moves of those already inactive)."""
    _insert(_deactivation_rows(run_id, list(deactivations)))


def record_examples(run_id: int, changes: PageChanges, shown: Counter, limit: int) -> None:
    """A preview: the page's first people of each kind (created ones with their values) until `limit` of that kind."""
    created = [{"run_id": run_id, "object_id": r["entra_object_id"], "label": r.get("display_name") or "",
                "kind": "created", "fields": {f: [None, r[f]] for f in COMPARED if r.get(f) not in (None, "")}}
               for r in changes.inserts[:max(limit - shown["created"], 0)]]
    wanted = [r for r in changes.updates if "row_id" in r][:2 * limit]  # enough to find both kinds
    _insert(_first(created + _update_rows(run_id, wanted), shown, limit))


def record_deactivation_examples(run_id: int, deactivations, shown: Counter, limit: int) -> None:
    """A preview: the first `limit` people the final pass would deactivate (or move between inactive states)."""
    _insert(_first(_deactivation_rows(run_id, list(deactivations)[:2 * limit]), shown, limit))


def _first(rows: list[dict], shown: Counter, limit: int) -> list[dict]:
    kept = []
    for row in rows:
        if shown[row["kind"]] < limit:
            shown[row["kind"]] += 1
            kept.append(row)
    return kept


def _update_rows(run_id: int, updates: list[dict]) -> list[dict]:
    rows, old = [], _stored(r["row_id"] for r in updates)
    for record in updates:
        before = old.get(record["row_id"])
        if before is None:
            continue
        diff = {f: [before[f], record.get(f)] for f in COMPARED if f in record and record.get(f) != before[f]}
        kind = "reactivated" if before["status"] != "active" and record.get("status") == "active" else "updated"
        rows.append({"run_id": run_id, "object_id": record.get("entra_object_id") or before["entra_object_id"],
                     "label": record.get("display_name") or before["display_name"] or "", "kind": kind, "fields": diff})
    return rows


def _deactivation_rows(run_id: int, items: list) -> list[dict]:
    old = _stored(item.requester_id for item in items)
    return [{"run_id": run_id, "object_id": old[i.requester_id]["entra_object_id"],
             "label": old[i.requester_id]["display_name"] or "", "kind": "deactivated" if i.was_active else "updated",
             "fields": {"status": [i.status_before, i.values.get("status")]}} for i in items if i.requester_id in old]


def _insert(rows: list[dict]) -> None:
    if rows:
        db.session.execute(SyncChange.__table__.insert(), rows)


def _stored(ids) -> dict[int, dict]:
    ids = list(ids)
    if not ids:
        return {}
    columns = [Requester.id, Requester.entra_object_id, *(getattr(Requester, f) for f in COMPARED)]
    rows = db.session.execute(sa.select(*columns).where(Requester.id.in_(ids)))
    return {row[0]: dict(zip(("entra_object_id", *COMPARED), row[1:], strict=True)) for row in rows}


def _created(run: SyncRun):
    """The requesters this run created: the integration's rows created while it ran (none for a preview)."""
    end = run.finished_at or run.heartbeat_at or run.started_at
    return (sa.select(Requester).where(Requester.integration_id == run.integration_id,
                                       sa.true() if run.proposed is None else sa.false(),
                                       Requester.created_at >= run.started_at, Requester.created_at <= end)
            .order_by(Requester.id))


def page_of(run: SyncRun, page: int) -> dict:
    """One page of the people a run created, and one of those it changed otherwise."""
    page = max(page, 1)
    changed = sa.select(SyncChange).where(SyncChange.run_id == run.id).order_by(SyncChange.id)
    return {"created": db.paginate(_created(run), page=page, per_page=PER_PAGE, error_out=False),
            "changed": db.paginate(changed, page=page, per_page=PER_PAGE, error_out=False)}


def change_rows(run: SyncRun):
    """Everyone the run created or changed, for the CSV, streamed in chunks."""
    for person in db.session.scalars(_created(run).execution_options(yield_per=500)):
        yield {"object_id": person.entra_object_id, "name": person.display_name, "change": "created", "fields": ""}
    query = sa.select(SyncChange).where(SyncChange.run_id == run.id).order_by(SyncChange.id)
    for change in db.session.scalars(query.execution_options(yield_per=500)):
        yield {"object_id": change.object_id, "name": change.label, "change": change.kind,
               "fields": "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in (change.fields or {}).items())}
