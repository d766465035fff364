"""Deterministic, realistic tenants: names from many languages, gaps, guests, disabled users, managers."""
import functools
import json
import random
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

from emulator.directory import ALL_APP_ROLES, AppRegistration, Tenant, User
from emulator.seed_groups import add_seeded_groups, load_app_extras, load_groups

GIVEN = ["Adele", "Alex", "Zoë", "José", "Łukasz", "Søren", "François", "Ólafur", "Aiko", "Chloé", "Mateus",
         "Priya", "Björn", "Nuñez", "Fatima", "Wei", "Olga", "Siobhán", "Kwame", "Dmitri", "Isabel", "Jürgen",
         "Mia", "Noah", "Amélie", "Hiroshi", "Ingrid", "Tomás", "Yara", "Lars", "Anaïs", "Grace"]
SURNAMES = ["Vance", "Wilber", "Müller", "García", "Kowalski", "Østergaard", "Lefèvre", "Guðmundsson", "山田",
            "Nakamura", "Silva", "Patel", "Andersson", "O'Brien", "Al-Hassan", "Zhang", "Ivanova", "Ní Bhriain",
            "Mensah", "Smirnov", "Fernández", "Schäfer", "Johnson", "Brown", "Dubois", "Tanaka", "Berg",
            "Núñez", "Haddad", "Nilsen", "Moreau", "Hopper"]
DEPARTMENTS = ["Finance", "Sales", "Engineering", "Human Resources", "Legal", "Operations", "Marketing", "IT"]
TITLES = ["Analyst", "Manager", "Engineer", "Consultant", "Director", "Specialist", "Coordinator", "Associate"]
CITIES = [("Redmond", "WA", "98052", "United States"), ("Zürich", None, "8001", "Switzerland"),
          ("München", "Bayern", "80331", "Germany"), ("São Paulo", "SP", "01310-000", "Brazil"),
          ("Kraków", None, "30-001", "Poland"), ("東京", None, "100-0001", "Japan"),
          ("Dublin", None, "D02 XY45", "Ireland"), ("Lyon", None, "69001", "France")]
DEMO_PASSWORD = "Frontdesk-Demo-1!"  # noqa: S105 (the emulator's published demo password)
GLOBAL = "https://graph.microsoft.com"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@functools.cache
def _ascii(text: str) -> str:
    """Mail-safe nickname part: accents dropped, letters without an ASCII form transliterated or removed."""
    text = text.translate(str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "ð": "d", "'": ""}))
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in plain if c.isalnum() or c == "-") or "user"


def make_tenant(seed: int = 1, users: int = 250, domain: str | None = None, name: str = "Contoso") -> Tenant:
    """Build a tenant with `users` users and three app registrations, deterministically from `seed`."""
    rng = random.Random(seed)
    tenant_id = _uuid(rng)
    domain = domain or f"{name.lower()}{'' if seed == 1 else seed}.onmicrosoft.com"
    tenant = Tenant(tenant_id, domain, name)
    _add_apps(tenant, rng)
    _add_users(tenant, rng, users)
    add_seeded_groups(tenant)
    return tenant


def _add_apps(tenant: Tenant, rng: random.Random) -> None:
    """Full permissions, read-only, and no admin consent: enough to show every checklist state."""
    specs = [("Frontdesk", {"User.Read.All", "User-PasswordProfile.ReadWrite.All", "User.EnableDisableAccount.All",
                            "User.RevokeSessions.All", "Directory.Read.All", "AuditLog.Read.All"}),
             ("Frontdesk (read only)", {"User.Read.All"}),
             ("Frontdesk (no admin consent)", set())]
    for name, roles in specs:
        client_id = _uuid(rng)
        secret = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789~._-") for _ in range(40))
        tenant.apps[client_id] = AppRegistration(client_id, name, secret, roles=set(roles))


def _user_props(rng: random.Random, i: int, domain: str, created: datetime) -> dict:
    given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
    nickname = f"{_ascii(given)}.{_ascii(surname)}{i}"
    city = rng.choice(CITIES)
    guest = rng.random() < 0.04
    upn = f"{nickname}_fabrikam.com#EXT#@{domain}" if guest else f"{nickname}@{domain}"
    props = {
        "id": _uuid(rng), "displayName": f"{given} {surname}", "givenName": given, "surname": surname,
        "userPrincipalName": upn, "mail": f"{nickname}@fabrikam.com" if guest else f"{nickname}@{domain}",
        "mailNickname": nickname, "accountEnabled": rng.random() > 0.03, "userType": "Guest" if guest else "Member",
        "createdDateTime": (created - timedelta(days=rng.randrange(2000))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "businessPhones": [f"+1 425 555 {rng.randrange(10000):04d}"] if rng.random() < 0.7 else [],
        "mobilePhone": f"+44 7700 9{rng.randrange(100000):05d}" if rng.random() < 0.5 else None,
        "jobTitle": f"{rng.choice(TITLES)}" if rng.random() < 0.9 else None,
        "department": rng.choice(DEPARTMENTS) if rng.random() < 0.9 else None,
        "companyName": "Contoso Ltd" if rng.random() < 0.8 else None,
        "officeLocation": f"Building {rng.randrange(1, 40)}" if rng.random() < 0.6 else None,
        "employeeId": f"E{100000 + i}" if not guest and rng.random() < 0.85 else None,
        "employeeType": rng.choice(["Employee", "Contractor", None]),
        "streetAddress": f"{rng.randrange(1, 999)} Main Street" if rng.random() < 0.6 else None,
        "city": city[0] if rng.random() < 0.8 else None, "state": city[1], "postalCode": city[2],
        "country": city[3], "usageLocation": "US", "preferredLanguage": rng.choice(["en-US", "de-DE", "fr-FR", None]),
        "onPremisesExtensionAttributes": {f"extensionAttribute{n}": None for n in range(1, 16)},
    }
    props["onPremisesExtensionAttributes"]["extensionAttribute1"] = f"CC-{rng.randrange(100, 999)}"
    return props


def _add_users(tenant: Tenant, rng: random.Random, count: int) -> None:
    """Users are loaded in bulk (no change log: they exist before any delta round starts)."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    demo = [("Adele", "Vance", "Retail Manager", "Sales"), ("Alex", "Wilber", "Marketing Assistant", "Marketing"),
            ("Megan", "Bowen", "Auditor", "Finance"), ("Isaiah", "Langer", "Sales Rep", "Sales")]
    users = []
    managers: list[str] = []
    for i in range(count):
        props = _user_props(rng, i, tenant.domain, created)
        if i < len(demo):
            given, surname, title, dept = demo[i]
            nick = f"{given.lower()}.{surname.lower()}"
            props.update(displayName=f"{given} {surname}", givenName=given, surname=surname, jobTitle=title,
                         department=dept, userPrincipalName=f"{nick}@{tenant.domain}", mail=f"{nick}@{tenant.domain}",
                         mailNickname=nick, accountEnabled=True, userType="Member")
        user = User(props=props)
        created_at = datetime.strptime(props["createdDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        user.set_password(DEMO_PASSWORD, changed_at=created_at.timestamp())
        if managers and i >= len(demo):
            user.manager_id = rng.choice(managers)
        if i % 50 == 0:
            managers.append(user.id)
        users.append(user)
    if users:
        users[0].directory_roles = ["Global Administrator"]
    for user in users:
        tenant.users[user.id] = user
        tenant.by_upn[user.props["userPrincipalName"].lower()] = user.id
    tenant.sorted_ids = sorted(tenant.users)


def load_seed_file(path: str) -> list[Tenant]:
    """Read tenants, apps and users from JSON (see emulator/README.md for the format)."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    tenants = []
    for spec in data["tenants"]:
        tenant = Tenant(spec["id"], spec["domain"], spec.get("displayName", spec["domain"]))
        tenant.premium = bool(spec.get("premium", True))
        for app in spec.get("apps", []):
            tenant.apps[app["clientId"]] = AppRegistration(
                app["clientId"], app.get("displayName", "App"), app["clientSecret"],
                roles=set(app.get("roles", ALL_APP_ROLES)), redirect_uris=app.get("redirectUris", []))
            load_app_extras(tenant, tenant.apps[app["clientId"]], app)
        for entry in spec.get("users", []):
            props = {k: v for k, v in entry.items() if k not in ("password", "managerId", "directoryRoles",
                                                                   "forceChangePasswordNextSignIn")}
            tenant.add_user(props, entry.get("password"), log=False,
                            force_change_password=entry.get("forceChangePasswordNextSignIn", False),
                            directory_roles=entry.get("directoryRoles", []), manager_id=entry.get("managerId"))
        load_groups(tenant, spec)
        tenants.append(tenant)
    return tenants
