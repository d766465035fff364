"""Names the requester an audit row is about, so "disable for requester 148" reads as a person, linked."""
from dataclasses import dataclass

import sqlalchemy as sa

from portal.database import db
from portal.models import ActionRun, AuditEvent, Requester

RUN_LABEL_SUFFIX = " for requester "  # how workflows.engine labels an action run's target


@dataclass(frozen=True)
class TargetPerson:
    """What the row did to the person (the stored label without its id; None for a requester target) and who."""

    doing: str | None
    requester: Requester


def _ids(events: list[AuditEvent], kind: str) -> set[int]:
    return {int(e.target_id) for e in events if e.target_type == kind and (e.target_id or "").isdigit()}


def target_people(events: list[AuditEvent]) -> dict[int, TargetPerson]:
    """Event id -> the requester its target names, for one page of rows in one query (stored rows stay as written)."""
    requester_ids, run_ids = _ids(events, "requester"), _ids(events, "action_run")
    if not requester_ids and not run_ids:
        return {}
    rows = db.session.execute(sa.select(Requester, ActionRun.id).outerjoin(ActionRun, sa.and_(
        ActionRun.target_requester_id == Requester.id, ActionRun.id.in_(run_ids))).where(
        sa.or_(Requester.id.in_(requester_ids), ActionRun.id.isnot(None)))).all()
    people = {requester.id: requester for requester, _ in rows}
    runs = {run_id: requester for requester, run_id in rows if run_id is not None}
    found = {}
    for event in events:
        if not (event.target_id or "").isdigit():
            continue
        if event.target_type == "requester" and int(event.target_id) in people:
            found[event.id] = TargetPerson(None, people[int(event.target_id)])
        elif event.target_type == "action_run" and int(event.target_id) in runs:
            doing = (event.target_label or "").split(RUN_LABEL_SUFFIX)[0] or "action"
            found[event.id] = TargetPerson(doing, runs[int(event.target_id)])
    return found
