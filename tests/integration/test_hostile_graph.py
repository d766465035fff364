"""Property tests: whatever Graph sends in a user object, a sync never crashes and never stores half a requester."""
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.directory import field_mapping
from portal.models import Requester
from tests.integration.test_sync import live_users, requester_writes, sync, synced, tenant  # noqa: F401 (fixtures)
from tests.unit.test_synced_mail import FINE_MAIL, HOSTILE_MAIL

JUNK_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=40), st.builds(lambda piece, times: piece * times, st.sampled_from(["é字😀a\x00", "x", "\x00"]),
                                   st.integers(1000, 6000)),
                         st.just("\ud800 lone surrogate"), st.just("NUL\x00inside"))
JUNK_VALUES = st.one_of(JUNK_SCALARS, st.lists(JUNK_SCALARS, max_size=3),
                        st.dictionaries(st.text(max_size=8), JUNK_SCALARS, max_size=3))
ATTRIBUTES = ["displayName", "givenName", "surname", "mail", "userPrincipalName", "businessPhones", "mobilePhone",
              "jobTitle", "department", "accountEnabled", "userType", "manager", "onPremisesExtensionAttributes",
              "@odata.type", "@odata.unexpected", "@removed", "manager@delta"]
IDS = st.one_of(st.builds(lambda: str(uuid.uuid4())), st.none(), st.integers(), st.just(""), st.just("x" * 37),
                st.just("bad\x00id"), st.just("é" * 10))


@st.composite
def graph_users(draw):
    """A user object as a broken or hostile Graph might send it, or not an object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JUNK_VALUES)
    user = {key: draw(JUNK_VALUES) for key in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=8, unique=True))}
    user["id"] = draw(IDS)
    return user


def _valid(oid) -> bool:
    return field_mapping.object_id(oid) is not None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(graph_users(), max_size=6))
def test_malformed_users_never_break_a_sync(app, db, synced, tenant, junk):  # noqa: F811
    """Every example runs a real full sync over HTTPS with the junk appended to Graph's last page."""
    tenant.set_raw_users(junk)
    try:
        run = sync(app, synced, mode="full")
    finally:
        tenant.set_raw_users([])
    assert run.status == "succeeded", run.message
    rows = db.session.execute(sa.select(Requester.entra_object_id, Requester.display_name, Requester.status,
                                        Requester.content_hash).where(Requester.integration_id == synced.id)).all()
    assert all(_valid(r.entra_object_id) and isinstance(r.display_name, str) and r.content_hash for r in rows)
    listed = {u["id"] for u in junk if isinstance(u, dict) and _valid(u.get("id")) and "@removed" not in u}
    stored = {r.entra_object_id for r in rows if r.status != "deleted"}
    live = {u.id for u in live_users(tenant)}
    assert live | listed <= {r.entra_object_id for r in rows}  # nobody Graph listed with a usable id is lost
    assert stored <= live | listed  # and nobody appears from nowhere
    usable = [u["id"] for u in junk if isinstance(u, dict) and _valid(u.get("id"))]
    repeated = len(usable) - len(set(usable))  # a full listing keeps a user's first copy and reports the others
    assert run.failed == len(junk) - len(usable) + repeated


def _mail_rows(db, integration) -> dict:
    """Every requester of the integration as object id -> (email, content hash, updated at)."""
    rows = db.session.execute(sa.select(Requester.entra_object_id, Requester.email, Requester.content_hash,
                                        Requester.updated_at).where(Requester.integration_id == integration.id))
    return {oid: tuple(rest) for oid, *rest in rows}




def test_mail_values_that_are_not_one_address_are_synced_empty(app, db, synced, tenant):  # noqa: F811
    """Through a real sync over HTTPS: users whose 'mail' is not one address (two, a header break, a display name, a
    NUL, a special-use domain, over 254 characters...) are stored with no email and named in the run's errors; valid
    ones (+ tags, apostrophes, IDN, the longest) are kept; the tenant's other users are not touched; and the next
    full and delta syncs, with nothing changed, write no requester row."""
    sync(app, synced, mode="full")
    before = _mail_rows(db, synced)
    oids = [str(uuid.uuid4()) for _ in HOSTILE_MAIL + FINE_MAIL]
    hostile, fine = oids[:len(HOSTILE_MAIL)], oids[len(HOSTILE_MAIL):]
    tenant.set_raw_users([{"id": oid, "displayName": f"Person {n}", "mail": value, "accountEnabled": True,
                           "userType": "Member"} for n, (oid, value) in enumerate(zip(oids, HOSTILE_MAIL + FINE_MAIL,
                                                                                        strict=True))])
    try:
        run = sync(app, synced, mode="full")
        after = _mail_rows(db, synced)
        assert run.status == "succeeded" and run.failed == 0 and run.created == len(oids) and run.updated == 0
        assert [after[oid][0] for oid in hostile] == [None] * len(hostile)
        assert [after[oid][0] for oid in fine] == [value.strip().lower() for value in FINE_MAIL]
        assert sorted(e["user"] for e in run.errors) == sorted(hostile)
        assert all("is not one valid email address" in e["error"] for e in run.errors)
        assert {oid: after[oid] for oid in before} == before  # same email, hash and updated_at: not rewritten
        with requester_writes(db) as writes:
            full, delta = sync(app, synced, mode="full"), sync(app, synced)
        assert writes == [] and full.unchanged == len(after) and full.created == full.updated == 0
        assert delta.status == "succeeded" and delta.created == delta.updated == delta.deactivated == 0
        assert sorted(e["user"] for e in full.errors) == sorted(hostile)  # still reported while Graph sends them
    finally:
        tenant.set_raw_users([])
