"""What one page of Graph users changes in the requester table: a pure decision, no database, no Flask, no Graph.

The sync engine loads what the database already holds for the page (`KnownRequester`), asks `plan_page` what
to insert, update and deactivate, and writes the answer. Deactivations wait for the end of the run, where the
threshold check (`exceeds_threshold`) sees the whole listing.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from portal.directory import field_mapping

REQUESTER_FIELDS = tuple(f.name for f in field_mapping.PORTAL_FIELDS if f.name != "manager") + ("manager_object_id",)
DELETED = {"status": "deleted", "account_enabled": False}  # what a deleted or vanished user's row becomes


@dataclass(frozen=True, slots=True)
class KnownRequester:
    """What the database holds for one object id; delta merges also need the stored values (`fields`)."""

    id: int
    content_hash: str | None
    status: str
    account_enabled: bool | None = None
    user_type: str | None = None
    fields: Mapping | None = None  # REQUESTER_FIELDS -> stored value; only for partial (delta) pages


@dataclass(frozen=True, slots=True)
class Deactivation:
    """A requester to make inactive once the whole run is known: its id, the new values, its status before."""

    requester_id: int
    values: dict
    status_before: str

    @property
    def was_active(self) -> bool:
        """Only deactivating an active requester counts as a deactivation (and towards the threshold)."""
        return self.status_before == "active"


@dataclass(frozen=True, slots=True)
class UserError:
    """A Graph user that was skipped, or synced with a value left out (`skipped` False), and why (the object id
    when it had a usable one)."""

    user: str | None
    message: str
    skipped: bool = True


@dataclass
class PageChanges:
    """The outcome of planning one page: rows to write, deactivations to hold back, counts and per-user errors."""

    inserts: list[dict] = field(default_factory=list)  # new requester rows, column -> value
    updates: list[dict] = field(default_factory=list)  # changed rows, column -> value plus row_id
    deactivations: list[Deactivation] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # usable object ids on this page
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    excluded: int = 0
    already_removed: int = 0  # @removed of somebody already deleted here, or never known


def distinct_users(items: Iterable, *, partial: bool, seen_before: set | frozenset = frozenset()) -> tuple[dict, list]:
    """The page's usable users by object id, and an error for each one skipped (no valid id, or listed twice)."""
    users, errors = {}, []
    for item in items:
        oid = item.get("id") if isinstance(item, dict) else None
        if field_mapping.object_id(oid) is None:
            errors.append(UserError(None, "A user without a valid id was skipped."))
            continue
        if not partial and (oid in users or oid in seen_before):
            errors.append(UserError(oid, "The same user came twice in one listing; the first copy was kept."))
            continue  # (a delta may list a user twice: there the later copy wins)
        users[oid] = item
    return users, errors


GUEST_POLICIES = {
    "include": "Include guests like members",
    "with_mail": "Include only guests with a mail address",
    "exclude": "Leave guests out",
}


def plan_page(items: Iterable, known: Mapping[str, KnownRequester], mapping: dict, *, partial: bool,
              integration_id: int, now: datetime, seen_before: set | frozenset = frozenset(),
              guest_policy: str = "include") -> PageChanges:
    """Decide insert, update, unchanged, reactivate or deactivate for every user on one page of a listing; guests the
    policy leaves out are never created, are removed (as deleted) if they were, and are counted as excluded."""
    users, errors = distinct_users(items, partial=partial, seen_before=seen_before)
    changes = PageChanges(errors=errors, seen=set(users))
    for oid, user in users.items():
        kind, record, problem = _decide(user, known.get(oid), mapping, partial, now, guest_policy)
        if kind == "excluded":
            changes.excluded += 1
            kind = "deactivate" if record is not None else "nothing"
        if problem:
            changes.errors.append(UserError(oid, problem, skipped=False))
        if kind == "insert":
            record.update(integration_id=integration_id, entra_object_id=oid, created_at=now,
                          failed_attempts=0, lockout_count=0)
            changes.inserts.append(record)
            changes.created += 1
        elif kind == "unchanged":
            changes.unchanged += 1
        elif kind == "gone":
            changes.already_removed += 1
        elif kind == "deactivate":
            changes.deactivations.append(record)
        elif kind in ("update", "reactivate"):
            record["entra_object_id"] = oid  # the same value, except for a local requester adopted on this page
            changes.updates.append(record)
            changes.reactivated += kind == "reactivate"
            changes.updated += kind == "update"
    return changes


def _decide(user: dict, row: KnownRequester | None, mapping: dict, partial: bool,
            now: datetime, guest_policy: str = "include") -> tuple[str, object, str | None]:
    """One Graph user against its stored row: ("insert" | "update" | "reactivate", row), ("deactivate", Deactivation),
    ("unchanged", None) or ("gone", None) for the removal of somebody already deleted or never known; the third
    item is a problem with the user's data worth telling the admin (a mail value that is not one address)."""
    if "@removed" in user:
        if row is not None and row.status != "deleted":
            return "deactivate", Deactivation(row.id, dict(DELETED), row.status), None
        return "gone", None, None
    record, problem = _requester_values(user, row if partial else None, mapping, partial)
    record.update(last_synced_at=now, updated_at=now)
    if _left_out(record, guest_policy):
        gone = row is not None and row.status != "deleted"
        return "excluded", Deactivation(row.id, dict(DELETED), row.status) if gone else None, None
    if row is None:
        return "insert", record, problem
    if row.content_hash == record["content_hash"] and row.status == record["status"]:
        return "unchanged", None, problem
    if row.status == "active" and record["status"] != "active":
        return "deactivate", Deactivation(row.id, record, row.status), problem
    record["row_id"] = row.id
    return ("reactivate" if row.status != "active" and record["status"] == "active" else "update"), record, problem


def _left_out(record: dict, guest_policy: str) -> bool:
    """Whether the guest policy leaves this user out."""
    if guest_policy == "include" or record.get("user_type") != "Guest":
        return False
    return guest_policy == "exclude" or not record.get("email")


def _requester_values(user: dict, stored: KnownRequester | None, mapping: dict,
                      partial: bool) -> tuple[dict, str | None]:
    """The row sync would write for one user (a delta sends only what changed, so it is merged over `stored`), and
    the problem with its mail value, if any."""
    values, problem = field_mapping.mapped_user(user, mapping, partial)
    if stored is not None:
        merged = {name: stored.fields[name] for name in REQUESTER_FIELDS}
        merged.update(values)
        enabled = user.get("accountEnabled", stored.account_enabled)
        user_type = user.get("userType", stored.user_type)
    else:
        merged = {name: values.get(name) for name in REQUESTER_FIELDS}
        enabled, user_type = user.get("accountEnabled"), user.get("userType")
    enabled = enabled is not False  # missing means enabled, as Graph omits nothing it was asked for
    user_type = field_mapping.as_text(user_type, 20)  # junk types and unstorable text become None
    merged["display_name"] = merged.get("display_name") or merged.get("user_principal_name") or merged.get("email") or ""
    digest = field_mapping.content_hash({k: merged[k] for k in REQUESTER_FIELDS}, enabled, user_type)
    return dict(merged, account_enabled=enabled, user_type=user_type, status="active" if enabled else "disabled",
                content_hash=digest), problem


def vanished_users(stored: Iterable[tuple[int, str, str]], seen: set) -> list[Deactivation]:
    """Full sync: every (id, object id, status) row not listed by Graph and not yet deleted becomes deleted."""
    return [Deactivation(rid, dict(DELETED), status) for rid, oid, status in stored
            if oid not in seen and status != "deleted"]


def exceeds_threshold(going: int, active_before: int, threshold_percent: int) -> bool:
    """True when deactivating `going` of `active_before` active requesters is more than the threshold allows."""
    return going > 0 and going > active_before * threshold_percent / 100


def page_items(page: dict) -> list:
    """The users of one Graph page (nothing when `value` is not a list)."""
    return page.get("value") if isinstance(page.get("value"), list) else []


def usable_ids(items: list) -> set[str]:
    """The page's valid object ids, to look their rows up (junk ids never reach a query)."""
    return {item["id"] for item in items if isinstance(item, dict) and field_mapping.object_id(item.get("id"))}
