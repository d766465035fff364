"""Admin Audit log: filters, keyset pages, event detail, and streamed CSV / JSON Lines export."""
import json
from datetime import UTC, datetime

from flask import Response, render_template, request, stream_with_context

from portal import audit, audit_csv, audit_people
from portal.admin import bp
from portal.admin.views_common import bounded_int
from portal.csv_export import csv_chunks
from portal.database import get_or_404
from portal.exceptions import NotFound, ValidationError
from portal.models import AuditEvent


def when_arg(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        value.astimezone(UTC)  # year 1 or 9999 with an offset overflows: refuse it here, not in the database
    except (ValueError, OverflowError) as exc:
        raise ValidationError(f"'{raw}' is not a date or time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from exc
    return value


def _audit_filters() -> audit.Filters:
    args = request.args
    clean = {k: (args.get(k) or "").strip()[:200] or None for k in ("actor", "action", "outcome", "target", "text")}
    return audit.Filters(since=when_arg("since"), until=when_arg("until"), **clean)


@bp.route("/audit")
def audit_log():
    """Newest first, 50 a page; `before` is the keyset cursor, so deep pages stay fast."""
    events, next_cursor = audit.page(_audit_filters(), request.args.get("before", type=bounded_int))
    return render_template("admin/audit.html", events=events, next_cursor=next_cursor, args=request.args,
                           actions=sorted(audit.ACTIONS), vocabulary=audit.ACTIONS,
                           people=audit_people.target_people(events))


@bp.route("/audit/<int:event_id>")
def audit_event(event_id):
    """One event with every field and its hashes."""
    event = get_or_404(AuditEvent, event_id, "There is no such audit event (it may have been archived).")
    return render_template("admin/audit_event.html", event=event, meaning=audit.ACTIONS.get(event.action))


@bp.route("/audit/export.<fmt>")
def audit_export(fmt):
    """The current filter as CSV or JSON Lines, streamed in chunks."""
    if fmt not in ("csv", "jsonl"):
        raise NotFound("Export as .csv or .jsonl.")
    filters = _audit_filters()
    if fmt == "csv":
        body = csv_chunks(audit.EXPORT_FIELDS, audit_csv.export_batches(filters))
    else:
        body = (json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in audit.stream(filters))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"'})
