"""Field mapping: the portal fields on three tabs, the Graph attribute catalogue, validation and apply."""
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from portal.exceptions import MappingInvalid

EXTENSION_PREFIX = "onPremisesExtensionAttributes.extensionAttribute"
# Lower-case dot-atom local part @ LDH labels (none with "--" in 3rd-4th place: IDNA refuses those, and punycode goes to
# the validator) with an alphabetic TLD: every match is an address email-validator accepts (a unit test checks).
PLAIN_ADDRESS = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                           r"@(?:(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAIL_PROBLEM_LIMIT = 300  # characters of a mail problem kept for the run's errors


@dataclass(frozen=True)
class PortalField:
    """A requester field that can be filled from Graph."""

    name: str
    label: str
    tab: str
    default: str | None
    max_length: int


# Any attribute may be mapped onto any text field, and Graph's longest user attributes (streetAddress, the
# onPremisesExtensionAttributes) hold 1024 characters, so every mapped text column holds 1024: a value is stored
# whole or, if even longer, reported on the run and left empty, never cut.
GRAPH_TEXT_MAX = 1024
PORTAL_FIELDS = tuple(PortalField(name, label, tab, default, GRAPH_TEXT_MAX) for name, label, tab, default in (
    ("display_name", "Name", "requester", "displayName"),
    ("given_name", "First name", "requester", "givenName"),
    ("surname", "Last name", "requester", "surname"),
    ("email", "Email", "requester", "mail"),
    ("user_principal_name", "User principal name (UPN)", "requester", "userPrincipalName"),
    ("business_phone", "Phone", "requester", "businessPhones"),
    ("mobile_phone", "Mobile", "requester", "mobilePhone"),
    ("employee_id", "Employee ID", "requester", "employeeId"),
    ("job_title", "Job title", "work", "jobTitle"),
    ("department", "Department", "work", "department"),
    ("company_name", "Company", "work", "companyName"),
    ("office_location", "Office location", "work", "officeLocation"),
    ("employee_type", "Employee type", "work", "employeeType"),
    ("manager", "Reports to (manager)", "work", "manager"),
    ("street_address", "Street", "address", "streetAddress"),
    ("city", "City", "address", "city"),
    ("state", "State or province", "address", "state"),
    ("postal_code", "Postal code", "address", "postalCode"),
    ("country", "Country or region", "address", "country"),
))
FIELDS = {f.name: f for f in PORTAL_FIELDS}
TABS = (("requester", "Requester"), ("work", "Work"), ("address", "Address"))

GRAPH_ATTRIBUTES = (
    "displayName", "givenName", "surname", "mail", "userPrincipalName", "mailNickname", "otherMails",
    "businessPhones", "mobilePhone", "faxNumber", "employeeId", "employeeType", "employeeHireDate", "jobTitle",
    "department", "companyName", "officeLocation", "streetAddress", "city", "state", "postalCode", "country",
    "usageLocation", "preferredLanguage", "manager",
) + tuple(f"{EXTENSION_PREFIX}{n}" for n in range(1, 16))
# Always fetched, whatever the mapping: the sync key and the account state.
ALWAYS_SELECT = ("id", "accountEnabled", "userType")


def default_mapping() -> dict:
    """The sensible starting mapping: every field to its natural Graph attribute."""
    return {f.name: f.default for f in PORTAL_FIELDS}


def validate(mapping: dict) -> dict:
    """Check a {portal_field: graph_attribute or None} mapping; return it normalised or raise MappingInvalid."""
    errors = {}
    clean = {}
    for name in FIELDS:
        value = mapping.get(name) or None
        if value is not None and value not in GRAPH_ATTRIBUTES:
            errors[name] = f"'{value}' is not a Microsoft Graph user attribute Frontdesk can read."
        elif value == "manager" and name != "manager":
            errors[name] = "The manager can only be mapped to 'Reports to'."
        elif name == "manager" and value not in (None, "manager"):
            errors[name] = "'Reports to' can only come from the manager attribute."
        clean[name] = value
    if not clean["display_name"]:
        errors["display_name"] = "Name must be mapped: every requester needs a name."
    if not (clean["email"] or clean["user_principal_name"]):
        errors["email"] = "Map Email or User principal name: requesters are matched and reached by one of them."
    seen: dict[str, str] = {}
    for name, value in clean.items():
        if value and value in seen and name not in errors:
            errors[name] = f"'{value}' is already mapped to {FIELDS[seen[value]].label}; map each attribute once."
        seen.setdefault(value, name)
    if errors:
        raise MappingInvalid(errors)
    return clean


def select_for(mapping: dict) -> list[str]:
    """The $select list: the identity and state attributes plus every mapped top-level attribute."""
    wanted = list(ALWAYS_SELECT)
    for value in mapping.values():
        if value and value != "manager":
            top = value.split(".", 1)[0]
            if top not in wanted:
                wanted.append(top)
    return wanted


def read_attribute(user: dict, attribute: str):
    if attribute.startswith(EXTENSION_PREFIX):
        return _extensions(user).get(attribute.split(".", 1)[1])
    return user.get(attribute)


def _extensions(user: dict) -> dict:
    """onPremisesExtensionAttributes, or {} when Graph sent null or something that is not an object."""
    value = user.get("onPremisesExtensionAttributes")
    return value if isinstance(value, dict) else {}


def as_text(value, limit: int) -> str | None:
    """Graph values as text: lists give their first item; junk types and text longer than `limit` become None (never
    cut: `too_long` tells the caller, which reports it)."""
    if type(value) is str:  # the common case, first: sync calls this about 20 times per user
        text = value.strip()
        return (storable(text) or None) if len(text) <= limit else None
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return (storable(text) or None) if len(text) <= limit else None


def too_long(value, limit: int) -> int | None:
    """The length of a value as_text refused for being too long, else None (only asked when as_text gave None)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    length = len(value.strip()) if isinstance(value, str) else 0
    return length if length > limit else None


def storable(text: str) -> str:
    """Text every database accepts: no NUL (PostgreSQL refuses it) and no lone surrogates (not UTF-8)."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _present(user: dict, attribute: str) -> bool:
    if attribute == "manager":
        return "manager" in user or "manager@delta" in user
    return attribute.split(".", 1)[0] in user


@lru_cache(maxsize=64)
def _compiled_mapping(items: tuple) -> tuple:
    """The mapping as (field, attribute, top-level key, extension key, limit) rows, worked out once per mapping."""
    rows = []
    for name, attribute in items:
        extension = attribute.split(".", 1)[1] if attribute and attribute.startswith(EXTENSION_PREFIX) else None
        top = attribute.split(".", 1)[0] if attribute else None
        rows.append((name, attribute, top, extension, FIELDS[name].max_length))
    return tuple(rows)


def requester_fields(user: dict, mapping: dict, partial: bool = False) -> dict:
    """The requester fields for one Graph user, as the mapping preview shows them (see `mapped_user`)."""
    return mapped_user(user, mapping, partial)[0]


def mapped_user(user: dict, mapping: dict, partial: bool = False) -> tuple[dict, str | None]:
    """The requester fields of one Graph user and what was left out and why (an email that is not one address, a
    value longer than Frontdesk keeps); partial (delta) skips absent ones."""
    out, problem = {}, None
    for name, attribute, top, extension, limit in _compiled_mapping(tuple(mapping.items())):
        if partial and (not attribute or not _present(user, attribute)):
            continue
        if name == "manager":
            out["manager_object_id"] = _manager_id(user) if attribute else None
        elif not attribute:
            out[name] = None
        else:
            value = _extensions(user).get(extension) if extension else user.get(top)
            if type(value) is str and name != "email":  # the common case, inline (about 2 million values a sync)
                text = value.strip()
                if len(text) <= limit and text.isascii() and "\x00" not in text:
                    out[name] = text or None  # exactly what as_text gives for it
                    continue
            if name == "email":
                out[name], mail_problem = synced_mail(value, attribute)
                problem = _join(problem, mail_problem)
            else:
                out[name] = as_text(value, limit)
                length = too_long(value, limit) if out[name] is None else None
                if length:
                    problem = _join(problem, f"The {attribute} value has {length} characters, more than the {limit} "
                                             f"Frontdesk keeps for {FIELDS[name].label}; it was stored as empty.")
    if not partial:
        out["display_name"] = out.get("display_name") or out.get("user_principal_name") or out.get("email") or ""
    return out, problem


def _join(first: str | None, second: str | None) -> str | None:
    return f"{first} {second}" if first and second else (first or second)


def synced_mail(value, attribute: str = "mail") -> tuple[str | None, str | None]:
    """Exactly one valid address, trimmed and lower-case, never cut or cleaned, or (None, why): no injected recipient."""
    text = _mail_text(value)
    if text is None:
        return None, None
    address = text.lower()  # as sync always stored it: stored values, and so content hashes, stay as they were
    if _plain_address(address):
        return address, None
    try:  # default options, as mail.single_recipient uses: .local/.test and other special-use domains are refused
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        why = f"The {attribute} value {text[:80]!r} is not one valid email address ({exc}); it was stored as empty."
        return None, why[:MAIL_PROBLEM_LIMIT]
    return address, None


def _mail_text(value) -> str | None:
    """The text an email attribute holds (a list's first non-blank string), trimmed; other types hold none."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return (value.strip() or None) if isinstance(value, str) else None


def _plain_address(value: str) -> bool:
    """The common case without the validator's cost (about 30 µs a call at 100,000 users): a subset of what
    email-validator accepts, on a domain that is not special-use."""
    if len(value) > 254 or not PLAIN_ADDRESS.fullmatch(value):
        return False
    local, domain = value.rsplit("@", 1)
    return len(local) <= 64 and not _special_use(domain)


@lru_cache(maxsize=4096)
def _special_use(domain: str) -> bool:
    """Whether the domain is, or is under, a special-use name (a tenant has few domains: each is worked out once)."""
    return any(domain == d or domain.endswith("." + d) for d in SPECIAL_USE_DOMAIN_NAMES)


def _manager_id(user: dict) -> str | None:
    manager = user.get("manager")
    if isinstance(manager, dict):
        return object_id(manager.get("id"))
    delta = user.get("manager@delta")
    if isinstance(delta, list):
        live = [m for m in delta if isinstance(m, dict) and "@removed" not in m and object_id(m.get("id"))]
        return object_id(live[0]["id"]) if live else None
    return None


def manager_name(user: dict) -> str | None:
    """The expanded manager's display name, so the mapping preview shows a person rather than a GUID."""
    manager = user.get("manager")
    return as_text(manager.get("displayName"), 256) if isinstance(manager, dict) else None


def object_id(value) -> str | None:
    """A Graph object id (a GUID: printable ASCII, at most 36 characters), or None."""
    ok = isinstance(value, str) and 0 < len(value) <= 36 and value.isascii() and value.isprintable()
    return value if ok else None


def content_hash(fields: dict, account_enabled: bool, user_type) -> str:
    """Change detection: a hash of exactly what sync would write."""
    canonical = _CANONICAL.encode([fields, bool(account_enabled), user_type if isinstance(user_type, str) else None])
    return hashlib.sha256(canonical.encode()).hexdigest()


# One encoder for every hash: json.dumps with options builds a new one per call (about 20% of the hash's cost).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
