"""What one page of Graph users changes, decided without a database: sync_plan.plan_page and its helpers."""
from datetime import UTC, datetime

from portal.directory import field_mapping
from portal.directory.sync_plan import (
    DELETED,
    REQUESTER_FIELDS,
    Deactivation,
    KnownRequester,
    exceeds_threshold,
    plan_page,
    vanished_users,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAPPING = field_mapping.default_mapping()
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"


def user(oid=ALICE, **props) -> dict:
    """A Graph user as a full listing sends it."""
    return {"id": oid, "displayName": "Alice Archer", "mail": "Alice@Contoso.example", "department": "Legal",
            "accountEnabled": True, "userType": "Member", **props}


def plan(items, known=None, *, partial=False, seen_before=frozenset()):
    return plan_page(items, known or {}, MAPPING, partial=partial, integration_id=7, now=NOW, seen_before=seen_before)


def stored(item, *, rid=40, status=None) -> KnownRequester:
    """What the database would hold after syncing `item` (with its hash, so an identical user is unchanged)."""
    row = plan([item]).inserts[0]
    return KnownRequester(rid, row["content_hash"], status or row["status"], row["account_enabled"], row["user_type"],
                          {name: row[name] for name in REQUESTER_FIELDS})


def test_a_new_user_is_inserted_with_the_sync_key_and_lower_case_email():
    """Unknown object id: one insert row for this integration, counted as created."""
    changes = plan([user()])
    assert (changes.created, changes.updated, changes.unchanged, changes.reactivated) == (1, 0, 0, 0)
    row = changes.inserts[0]
    assert row["integration_id"] == 7 and row["entra_object_id"] == ALICE and row["email"] == "alice@contoso.example"
    assert row["status"] == "active" and row["department"] == "Legal" and row["created_at"] == NOW
    assert changes.updates == [] and changes.deactivations == [] and changes.seen == {ALICE}


def test_the_same_content_hash_is_unchanged_and_writes_nothing():
    """A user whose stored hash and status match is counted unchanged, with no row to write."""
    changes = plan([user()], {ALICE: stored(user())})
    assert changes.unchanged == 1 and changes.inserts == changes.updates == [] and changes.deactivations == []


def test_a_changed_attribute_is_an_update_of_that_row():
    """A different department gives an update keyed by the stored row id, counted as updated."""
    changes = plan([user(department="Finance")], {ALICE: stored(user())})
    assert changes.updated == 1 and changes.unchanged == changes.created == 0
    assert changes.updates[0]["row_id"] == 40 and changes.updates[0]["department"] == "Finance"


def test_an_inactive_requester_listed_enabled_is_reactivated():
    """A disabled (or deleted) requester whom Graph lists enabled again is an update counted as reactivated."""
    changes = plan([user()], {ALICE: stored(user(accountEnabled=False))})
    assert changes.reactivated == 1 and changes.updated == 0
    assert changes.updates[0]["status"] == "active" and changes.updates[0]["row_id"] == 40


def test_disabling_an_active_user_is_a_held_back_deactivation():
    """accountEnabled false on an active requester is not written now: it waits for the threshold check."""
    changes = plan([user(accountEnabled=False)], {ALICE: stored(user())})
    assert changes.updates == [] and changes.updated == 0
    [going] = changes.deactivations
    assert going.requester_id == 40 and going.was_active and going.values["status"] == "disabled"
    assert going.values["account_enabled"] is False


def test_removed_in_a_delta_deactivates_as_deleted():
    """@removed marks a known requester deleted; a removal of somebody unknown or already deleted is nothing."""
    removed = {"id": ALICE, "@removed": {"reason": "changed"}}
    [going] = plan([removed], {ALICE: stored(user())}, partial=True).deactivations
    assert going == Deactivation(40, DELETED, "active")
    assert plan([removed], {}, partial=True).deactivations == []
    assert plan([removed], {ALICE: stored(user(), status="deleted")}, partial=True).deactivations == []


def test_a_delta_merges_its_changes_over_the_stored_values():
    """A delta item carrying only the department keeps the stored name, email and enabled state."""
    changes = plan([{"id": ALICE, "department": "Finance"}], {ALICE: stored(user())}, partial=True)
    [row] = changes.updates
    assert row["department"] == "Finance" and row["display_name"] == "Alice Archer"
    assert row["email"] == "alice@contoso.example" and row["status"] == "active" and row["user_type"] == "Member"
    assert row["content_hash"] == stored(user(department="Finance")).content_hash  # same as a full listing's


def test_a_delta_repeating_stored_values_is_unchanged():
    """A delta item whose attributes equal what is stored changes nothing."""
    changes = plan([{"id": ALICE, "department": "Legal"}], {ALICE: stored(user())}, partial=True)
    assert changes.unchanged == 1 and changes.updates == []


def test_a_user_listed_twice_in_a_full_listing_keeps_the_first_copy():
    """Within a page or across earlier pages, the second copy is skipped and reported as an error."""
    changes = plan([user(department="First"), user(department="Second")])
    assert [r["department"] for r in changes.inserts] == ["First"]
    assert [(e.user, e.message) for e in changes.errors] == [
        (ALICE, "The same user came twice in one listing; the first copy was kept.")]
    later = plan([user(), user(BOB)], seen_before={ALICE})
    assert [r["entra_object_id"] for r in later.inserts] == [BOB] and len(later.errors) == 1


def test_a_delta_listing_a_user_twice_keeps_the_later_copy():
    """A delta may list a user twice: the later copy wins and nothing is reported."""
    changes = plan([user(department="First"), user(department="Second")], partial=True)
    assert [r["department"] for r in changes.inserts] == ["Second"] and changes.errors == []


def test_users_without_a_valid_id_are_skipped_and_reported():
    """Missing, non-text, too long, non-ASCII or non-printable ids, and non-objects, become errors, not rows."""
    junk = [{"displayName": "No id"}, user(None), user(42), user("x" * 37), user("é" * 10), user("bad\x00id"), "text"]
    changes = plan([*junk, user(BOB)])
    assert [r["entra_object_id"] for r in changes.inserts] == [BOB] and changes.seen == {BOB}
    assert len(changes.errors) == len(junk)
    assert {(e.user, e.message) for e in changes.errors} == {(None, "A user without a valid id was skipped.")}


def test_a_junk_user_type_is_stored_as_none():
    """userType that is not text (or is unstorable) becomes None instead of failing the page."""
    assert plan([user(userType={"x": 1})]).inserts[0]["user_type"] is None
    assert plan([user(userType=["Guest"])]).inserts[0]["user_type"] == "Guest"


def test_a_missing_account_enabled_means_enabled():
    """Graph omits nothing it was asked for, so a user without accountEnabled is active; only False disables."""
    item = user()
    del item["accountEnabled"]
    assert plan([item]).inserts[0]["status"] == "active"
    assert plan([user(accountEnabled=None)]).inserts[0]["status"] == "active"
    assert plan([user(accountEnabled=False)]).inserts[0]["status"] == "disabled"


def test_a_new_disabled_user_is_inserted_disabled_not_deactivated():
    """Nobody is deactivated who was never active here: a disabled newcomer is an insert."""
    changes = plan([user(accountEnabled=False)])
    assert changes.created == 1 and changes.deactivations == [] and changes.inserts[0]["status"] == "disabled"


def test_users_missing_from_a_full_listing_vanish_as_deleted():
    """Every stored row that Graph did not list, and is not deleted already, becomes deleted."""
    rows = [(1, ALICE, "active"), (2, BOB, "disabled"), (3, "gone-already", "deleted")]
    assert vanished_users(rows, {ALICE}) == [Deactivation(2, DELETED, "disabled")]
    assert not vanished_users(rows, {ALICE})[0].was_active


def test_the_threshold_holds_only_more_than_its_share():
    """10% of 100 active may go; the 11th holds the run; nothing going never holds."""
    assert not exceeds_threshold(10, 100, 10)
    assert exceeds_threshold(11, 100, 10)
    assert not exceeds_threshold(0, 0, 10)
    assert exceeds_threshold(1, 0, 10)

