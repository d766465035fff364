"""Nothing is cut silently: values at Graph's documented maximum lengths are stored exactly (on SQLite and on
PostgreSQL), an extension attribute of 1024 characters fits any field it is mapped onto, and a longer value is
reported on the run with the user and the field, and stored empty."""
import sqlalchemy as sa

from portal import integrations, jobs, signals
from portal.directory.runs import start_run
from portal.models import Requester, SyncRun

# Graph's documented maximum lengths for user attributes (the user resource type), with non-ASCII text in them.
MAXIMA = {"displayName": 256, "givenName": 64, "surname": 64, "jobTitle": 128, "department": 64, "companyName": 64,
          "officeLocation": 128, "streetAddress": 1024, "city": 128, "state": 128, "postalCode": 40, "country": 128,
          "mobilePhone": 64, "employeeId": 16}
COLUMN = {"displayName": "display_name", "givenName": "given_name", "surname": "surname", "jobTitle": "job_title",
          "department": "department", "companyName": "company_name", "officeLocation": "office_location",
          "streetAddress": "street_address", "city": "city", "state": "state", "postalCode": "postal_code",
          "country": "country", "mobilePhone": "mobile_phone", "employeeId": "employee_id"}


def text_of(length: int, seed: str) -> str:
    return (seed * length)[:length]


def full_sync(app, integration):
    start_run(integration, "full", "manual")
    jobs.run_queued_syncs(app)


def test_documented_maximum_lengths_are_stored_exactly(app, db, synced, new_user):
    """Every attribute at its maximum, plus a 1024-character extension attribute mapped onto Employee type."""
    mapping = dict(integrations.mapping_of(synced), employee_type="onPremisesExtensionAttributes.extensionAttribute1")
    integrations.save_mapping(synced, mapping, actor=signals.SYSTEM)
    values = {attribute: text_of(length, "Zoë-字-") for attribute, length in MAXIMA.items()}
    extension = text_of(1024, "Ω1")
    user = new_user(**values, onPremisesExtensionAttributes={"extensionAttribute1": extension})
    full_sync(app, synced)
    db.session.expire_all()
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    for attribute, column in COLUMN.items():
        assert getattr(person, column) == values[attribute], attribute
    assert person.employee_type == extension and len(person.employee_type) == 1024


def test_a_longer_value_is_reported_and_stored_empty(app, db, synced, new_user):
    """1025 characters mapped onto Department: the run names the user, the attribute and the field; no cut copy."""
    mapping = dict(integrations.mapping_of(synced), department="onPremisesExtensionAttributes.extensionAttribute2")
    integrations.save_mapping(synced, mapping, actor=signals.SYSTEM)
    user = new_user(onPremisesExtensionAttributes={"extensionAttribute2": "d" * 1025})
    full_sync(app, synced)
    db.session.expire_all()
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    assert person.department is None
    run = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
    reported = [e for e in run.errors if e.get("user") == user["id"]]
    assert len(reported) == 1 and "extensionAttribute2" in reported[0]["error"]
    assert "1025 characters" in reported[0]["error"] and "Department" in reported[0]["error"]
