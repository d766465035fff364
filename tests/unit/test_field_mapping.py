"""Graph user -> requester fields, without a database: field_mapping.requester_fields and validate_mapping."""
import pytest

from portal.directory import field_mapping
from portal.exceptions import MappingInvalid, ValidationError

MAPPING = field_mapping.default_mapping()
# A user as Microsoft Graph documents it (GET /users?$select=...; onPremisesExtensionAttributes is an object of 15).
GRAPH_USER = {
    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "displayName": "Adele Vance", "givenName": "Adele", "surname": "Vance",
    "mail": "AdeleV@contoso.com", "userPrincipalName": "AdeleV@contoso.com", "businessPhones": ["+1 425 555 0109"],
    "mobilePhone": None, "jobTitle": "Retail Manager", "department": "Retail", "officeLocation": "18/2111",
    "employeeId": None, "city": "Bellevue", "country": "United States", "accountEnabled": True, "userType": "Member",
    "onPremisesExtensionAttributes": {f"extensionAttribute{n}": None for n in range(1, 16)},
    "manager": {"@odata.type": "#microsoft.graph.user", "id": "5bde3e51-d13b-4db1-9948-fe4b109d11a7"},
}


def test_a_documented_graph_user_maps_to_its_fields():
    """Text fields come across, the first business phone is used, email is lower-cased, the manager is an id."""
    fields = field_mapping.requester_fields(GRAPH_USER, MAPPING)
    assert fields["display_name"] == "Adele Vance" and fields["given_name"] == "Adele"
    assert fields["email"] == "adelev@contoso.com" and fields["department"] == "Retail"
    assert fields["manager_object_id"] == "5bde3e51-d13b-4db1-9948-fe4b109d11a7"
    assert fields["mobile_phone"] is None


def test_a_delta_leaves_out_what_it_did_not_send():
    """A delta round with only jobTitle changes only job_title; the caller merges over the stored row."""
    fields = field_mapping.requester_fields({"id": GRAPH_USER["id"], "jobTitle": "Director"}, MAPPING, partial=True)
    assert fields == {"job_title": "Director"}


def test_wrong_types_and_unstorable_text_become_none_or_clean_text():
    """Booleans, objects and NUL bytes from a broken payload never reach the database as such."""
    user = dict(GRAPH_USER, jobTitle=True, department={"x": 1}, city="Bell\x00evue", surname="\ud800")
    fields = field_mapping.requester_fields(user, MAPPING)
    assert fields["job_title"] is None and fields["department"] is None and fields["city"] == "Bellevue"
    assert fields["surname"] == "?"


def test_a_name_at_the_documented_maximum_is_kept_whole():
    """displayName may be 256 characters in Graph; the portal's 255-character column keeps every one it can hold,
    and a name that fits is never shortened."""
    name = "N" * 255
    assert field_mapping.requester_fields(dict(GRAPH_USER, displayName=name), MAPPING)["display_name"] == name


def test_mapping_rules_are_explained_per_field():
    """Each broken rule names its field, and the error is a ValidationError the web layer shows beside it."""
    broken = dict(MAPPING, display_name=None, department="notAGraphAttribute", job_title="givenName")
    with pytest.raises(MappingInvalid) as err:
        field_mapping.validate(broken)
    assert isinstance(err.value, ValidationError)
    assert set(err.value.errors) == {"display_name", "department", "job_title"}
    assert err.value.errors["job_title"] == "'givenName' is already mapped to First name; map each attribute once."
