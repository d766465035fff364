"""Sign-in history as admins read it: one person's attempts at Microsoft and at Frontdesk, the Sign-ins page with
filters and CSV export, and failures at Microsoft by reason for the dashboard."""
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.database import contains_text, db
from portal.entra.sign_in_logs import plain_reason
from portal.models import AuditEvent, SignInEvent

PAGE_SIZE = 50
PORTAL_ACTIONS = ("requester.sign_in", "requester.sign_in_failed")
EXPORT_FIELDS = ("created_at", "user_principal_name", "user_display_name", "result", "error_code", "reason",
                 "failure_reason", "ip_address", "browser", "operating_system", "city", "country", "client_app",
                 "correlation_id", "microsoft_id")


@dataclass(frozen=True)
class HistoryRow:
    """One attempt, wherever it happened, as the requester page lists it."""

    when: datetime
    source: str
    ok: bool
    reason: str
    device: str
    ip_address: str | None
    location: str


def history(requester_id: int, limit: int = 20) -> list[HistoryRow]:
    """The person's newest attempts at Microsoft (from Entra's logs) and at Frontdesk (from the audit log)."""
    microsoft = db.session.scalars(sa.select(SignInEvent).where(SignInEvent.requester_id == requester_id)
                                   .order_by(SignInEvent.created_at.desc()).limit(limit)).all()
    portal = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.target_type == "requester", AuditEvent.target_id == str(requester_id),
        AuditEvent.action.in_(PORTAL_ACTIONS)).order_by(AuditEvent.id.desc()).limit(limit)).all()
    rows = [_from_microsoft(e) for e in microsoft] + [_from_portal(e) for e in portal]
    return sorted(rows, key=lambda r: r.when, reverse=True)[:limit]


def _from_microsoft(e: SignInEvent) -> HistoryRow:
    device = " on ".join(x for x in (e.browser, e.operating_system) if x)
    return HistoryRow(e.created_at, "Microsoft", e.error_code == 0, plain_reason(e.error_code, e.failure_reason),
                      device, e.ip_address, ", ".join(x for x in (e.city, e.country) if x))


def _from_portal(e: AuditEvent) -> HistoryRow:
    ok = e.action == "requester.sign_in"
    return HistoryRow(e.occurred_at, "Frontdesk", ok, "Signed in" if ok else (e.reason or "refused").replace("_", " "),
                      (e.user_agent or "")[:80], e.ip_address, "")


@dataclass(frozen=True)
class SignInFilters:
    """The Sign-ins page's filters: result, an AADSTS code, a name/UPN text, and a time range."""

    result: str | None = None
    code: int | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query):
        """The WHERE clauses these filters mean."""
        if self.result == "failure":
            query = query.where(SignInEvent.error_code != 0)
        elif self.result == "success":
            query = query.where(SignInEvent.error_code == 0)
        if self.code is not None:
            query = query.where(SignInEvent.error_code == self.code)
        if self.text:
            query = query.where(sa.or_(contains_text(SignInEvent.user_principal_name, self.text),
                                       contains_text(SignInEvent.user_display_name, self.text)))
        if self.since:
            query = query.where(SignInEvent.created_at >= self.since)
        if self.until:
            query = query.where(SignInEvent.created_at <= self.until)
        return query


def sign_in_page(filters: SignInFilters, before_id: int | None = None) -> tuple[list[SignInEvent], int | None]:
    """Newest first, PAGE_SIZE a page, keyset-paged by id; returns the rows and the next cursor."""
    query = filters.apply(sa.select(SignInEvent)).order_by(SignInEvent.id.desc()).limit(PAGE_SIZE + 1)
    if before_id:
        query = query.where(SignInEvent.id < before_id)
    rows = db.session.scalars(query).all()
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)


def export_rows(filters: SignInFilters):
    """Every matching row for the CSV export, in chunks, so memory stays flat."""
    query = filters.apply(sa.select(SignInEvent)).order_by(SignInEvent.id.desc())
    for event in db.session.scalars(query.execution_options(yield_per=500)):
        row = {f: getattr(event, f, None) for f in EXPORT_FIELDS}
        row.update(result="success" if event.error_code == 0 else "failure",
                   reason=plain_reason(event.error_code, event.failure_reason))
        yield row


def failures_by_reason(days: int = 14) -> list[dict]:
    """Failures at Microsoft in the last `days`, counted by plain reason, most frequent first."""
    since = datetime.now(UTC) - timedelta(days=days)
    rows = db.session.execute(sa.select(SignInEvent.error_code, sa.func.count()).where(
        SignInEvent.error_code != 0, SignInEvent.created_at >= since).group_by(SignInEvent.error_code)).all()
    counts = Counter()
    for code, n in rows:
        counts[plain_reason(code)] += n
    return [{"reason": reason, "count": n} for reason, n in counts.most_common()]
