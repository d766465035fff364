"""The in-memory directory: tenants, app registrations, users, and the change log behind delta."""
import bisect
import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from emulator.group_store import GroupStore

# Properties Graph returns on GET /users when no $select is given.
DEFAULT_PROPERTIES = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                      "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")
USER_PROPERTIES = frozenset({
    "id", "accountEnabled", "businessPhones", "city", "companyName", "country", "createdDateTime",
    "department", "displayName", "employeeId", "employeeType", "givenName", "jobTitle", "mail",
    "mailNickname", "mobilePhone", "officeLocation", "onPremisesExtensionAttributes", "postalCode",
    "preferredLanguage", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName",
    "userType", "employeeHireDate", "otherMails", "faxNumber", "lastPasswordChangeDateTime",
})
WRITABLE_PROPERTIES = USER_PROPERTIES - {"id", "createdDateTime", "userType", "lastPasswordChangeDateTime"}
READ_ROLES = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
ALL_APP_ROLES = ("User.Read.All", "User.ReadWrite.All", "User-PasswordProfile.ReadWrite.All",
                 "User.EnableDisableAccount.All", "User.RevokeSessions.All", "Directory.Read.All",
                 "Directory.ReadWrite.All", "AuditLog.Read.All")


def _hash_password(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def password_complexity_ok(password: str) -> bool:
    """Entra's rule: 8-256 characters and three of four character classes (Graph PATCH and the sign-in pages)."""
    classes = [any(c.islower() for c in password), any(c.isupper() for c in password),
               any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    return 8 <= len(password) <= 256 and sum(classes) >= 3


@dataclass
class User:
    """A directory user: Graph properties plus the sign-in state Entra keeps about them."""

    props: dict
    password_hash: str = ""
    force_change_password: bool = False
    directory_roles: list = field(default_factory=list)
    manager_id: str | None = None
    soft_deleted: bool = False
    failed_sign_ins: int = 0
    locked_until: float = 0.0
    sessions_revoked_at: float | None = None
    password_changed_at: float | None = None

    @property
    def id(self) -> str:
        return self.props["id"]

    def set_password(self, password: str, force_change: bool = False, changed_at: float | None = None) -> None:
        """changed_at lets a seeded user's password date from the account's creation, so seeds are deterministic."""
        self.password_hash = _hash_password(password, self.id)
        self.force_change_password = force_change
        self.password_changed_at = time.time() if changed_at is None else changed_at
        self.props["lastPasswordChangeDateTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.password_changed_at))

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and self.password_hash == _hash_password(password, self.id)


@dataclass
class AppRegistration:
    """An app registration with one client secret and the application permissions an admin consented to."""

    client_id: str
    display_name: str
    client_secret: str
    secret_expires_at: float | None = None
    roles: set = field(default_factory=set)
    directory_roles: set = field(default_factory=set)
    redirect_uris: list = field(default_factory=list)
    assignment_required: bool = False
    assigned_user_ids: set = field(default_factory=set)
    user_consent: str = "granted"  # or "consent_required" / "interaction_required"
    retired_secrets: list = field(default_factory=list)  # replaced through the control API (kept for leak checks)
    app_roles: list = field(default_factory=list)  # appRole objects the app declares (emulator/app_roles.py)
    role_assignments: list = field(default_factory=list)  # appRoleAssignment objects: users or groups given a role
    group_membership_claims: str | None = None  # the manifest's groupMembershipClaims: None, SecurityGroup, All...

    allow_any_loopback_redirect: bool = True

    def accepts_redirect(self, uri: str) -> bool:
        """Registered URIs match exactly; any loopback URI is accepted when allowed (local development)."""
        if uri in self.redirect_uris:
            return True
        parts = urlsplit(uri)
        return self.allow_any_loopback_redirect and parts.scheme in ("http", "https") and \
            parts.hostname in ("localhost", "127.0.0.1", "::1")


@dataclass
class Change:
    """One entry of the change log: which user changed, and which properties (None = whole object)."""

    seq: int
    user_id: str
    kind: str  # "upsert", "soft_delete", "hard_delete"
    properties: frozenset | None


class Tenant:
    """One tenant's users and apps. All mutations go through here so delta can see them."""

    def __init__(self, tenant_id: str, domain: str, display_name: str):
        self.id, self.domain, self.display_name = tenant_id, domain, display_name
        self.users: dict[str, User] = {}
        self.sorted_ids: list[str] = []
        self.by_upn: dict[str, str] = {}
        self.apps: dict[str, AppRegistration] = {}
        self.changes: list[Change] = []
        self.seq = 0
        self.delta_epoch = 1  # bumping it invalidates every delta token issued before
        self.premium = True  # Entra ID P1/P2: Graph serves sign-in logs only to premium tenants
        self.lock = threading.RLock()
        self.groups = GroupStore(self.lock)
        self.listeners: list = []  # called with (tenant, change) for every logged user change (notifications)

    # -- reads -----------------------------------------------------------------
    def find_user(self, key: str, include_deleted: bool = False) -> User | None:
        """By object id or UPN (case-insensitive), as Graph's /users/{id | userPrincipalName}."""
        user = self.users.get(key) or self.users.get(self.by_upn.get(key.lower(), ""))
        if user and user.soft_deleted and not include_deleted:
            return None
        return user

    # -- writes ----------------------------------------------------------------
    def _log(self, user_id: str, kind: str, properties=None) -> None:
        self.seq += 1
        change = Change(self.seq, user_id, kind, frozenset(properties) if properties else None)
        self.changes.append(change)
        for listener in self.listeners:
            listener(self, change)

    def add_user(self, props: dict, password: str | None = None, *, log: bool = True, **state) -> User:
        """Create a user; the id is generated when not given."""
        with self.lock:
            props = dict(props)
            props.setdefault("id", str(uuid.uuid4()))
            upn = props["userPrincipalName"]
            if upn.lower() in self.by_upn:
                raise ValueError(f"Another object with the same value for property userPrincipalName already exists: {upn}")
            user = User(props=props, **state)
            if password:
                user.set_password(password, state.get("force_change_password", False))
            self.users[user.id] = user
            self.by_upn[upn.lower()] = user.id
            self._insert_sorted(user.id)
            if log:
                self._log(user.id, "upsert")
            return user

    def _insert_sorted(self, user_id: str) -> None:
        bisect.insort(self.sorted_ids, user_id)

    def update_user(self, user: User, changes: dict) -> None:
        """Apply property changes and log which properties changed."""
        with self.lock:
            changed = {k for k, v in changes.items() if user.props.get(k) != v}
            if "userPrincipalName" in changed:
                del self.by_upn[user.props["userPrincipalName"].lower()]
                self.by_upn[changes["userPrincipalName"].lower()] = user.id
            user.props.update(changes)
            if changed:
                self._log(user.id, "upsert", changed)

    def set_manager(self, user: User, manager_id: str | None) -> None:
        """Change the manager navigation property (tracked as 'manager' in delta)."""
        with self.lock:
            if user.manager_id != manager_id:
                user.manager_id = manager_id
                self._log(user.id, "upsert", {"manager"})

    def soft_delete(self, user: User) -> None:
        """Move to deleted items (restorable for 30 days in Entra)."""
        with self.lock:
            user.soft_deleted = True
            self._log(user.id, "soft_delete")

    def restore(self, user: User) -> None:
        """Bring a soft-deleted user back."""
        with self.lock:
            user.soft_deleted = False
            self._log(user.id, "upsert")

    def hard_delete(self, user: User) -> None:
        """Delete permanently."""
        with self.lock:
            del self.users[user.id]
            del self.by_upn[user.props["userPrincipalName"].lower()]
            index = bisect.bisect_left(self.sorted_ids, user.id)
            if index < len(self.sorted_ids) and self.sorted_ids[index] == user.id:
                self.sorted_ids.pop(index)
            self.groups.forget(user.id)
            self._log(user.id, "hard_delete")

    def changes_since(self, seq: int) -> list[Change]:
        """Log entries after `seq`; the log is append-only and entry i has seq i + 1."""
        return self.changes[seq:]


class Directory:
    """Every tenant the emulator serves, found by id or verified domain."""

    def __init__(self):
        self.tenants: dict[str, Tenant] = {}

    def add_tenant(self, tenant: Tenant) -> Tenant:
        self.tenants[tenant.id] = tenant
        return tenant

    def find_tenant(self, key: str) -> Tenant | None:
        """Entra accepts the tenant GUID or any verified domain in the authority path."""
        key = key.lower()
        for tenant in self.tenants.values():
            if key in (tenant.id, tenant.domain.lower()):
                return tenant
        return None

    def find_app(self, client_id: str) -> tuple[Tenant, AppRegistration] | tuple[None, None]:
        for tenant in self.tenants.values():
            if client_id in tenant.apps:
                return tenant, tenant.apps[client_id]
        return None, None
