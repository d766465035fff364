"""Which application permissions each Frontdesk feature needs, and a checklist from a token's roles."""
from dataclasses import dataclass

GRANT_HOW = ("In the Microsoft Entra admin center open App registrations > your app > API permissions > "
             "Add a permission > Microsoft Graph > Application permissions, add {perms}, then press "
             "'Grant admin consent'.")


@dataclass(frozen=True)
class Feature:
    """A feature and the permission sets that enable it (any one set is enough)."""

    key: str
    label: str
    any_of: tuple[frozenset, ...]

    def describe_need(self) -> str:
        return " or ".join(" + ".join(sorted(s)) for s in self.any_of)


FEATURES = (
    Feature("sync", "Directory sync (read users)", (frozenset({"User.Read.All"}), frozenset({"User.ReadWrite.All"}),
                                                     frozenset({"Directory.Read.All"}), frozenset({"Directory.ReadWrite.All"}))),
    Feature("reset_password", "Force Password Reset on Next Login",
            (frozenset({"User-PasswordProfile.ReadWrite.All"}), frozenset({"User.ReadWrite.All"}))),
    Feature("enable_disable", "Unlock / Disable (Lock) User Account",
            (frozenset({"User.EnableDisableAccount.All", "User.Read.All"}), frozenset({"User.ReadWrite.All"}))),
    Feature("revoke_sessions", "Revoke Microsoft sign-in sessions",
            (frozenset({"User.RevokeSessions.All"}), frozenset({"User.ReadWrite.All"}),
             frozenset({"Directory.ReadWrite.All"}))),
    # Read before acting, so an Entra admin is refused up front; GroupMember/Group.Read.All list a role without its name.
    Feature("read_roles", "Check for Entra admin roles before acting",
            tuple(frozenset({p}) for p in ("Directory.Read.All", "Directory.ReadWrite.All", "RoleManagement.Read.Directory",
                                           "RoleManagement.ReadWrite.Directory", "GroupMember.Read.All", "Group.Read.All"))),
    Feature("group_sync", "Group-scoped directory sync (sync only members of chosen groups)",
            tuple(frozenset({p}) for p in ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"))),
    Feature("admin_roles", "Admins from Entra: each Microsoft admin's app role and groups checked again after every "
            "sync (whoever lost them is signed out); at sign-in the ID token alone decides, unless groups overflow it",
            tuple(frozenset({p}) for p in ("Directory.Read.All", "Directory.ReadWrite.All"))),
    Feature("sign_in_logs", "Sign-in history and lockout from wrong passwords typed at Microsoft (also needs Entra ID "
            "P1 or P2; without it, only sign-ins that reach Frontdesk are counted)",
            (frozenset({"AuditLog.Read.All"}),)),
)
BY_KEY = {f.key: f for f in FEATURES}


def feature_enabled(feature: Feature, roles) -> bool:
    """True when the granted roles include one of the feature's permission sets."""
    granted = set(roles or ())
    return any(needed <= granted for needed in feature.any_of)


def checklist(roles) -> list[dict]:
    """One row per feature: enabled or not, what it needs, and how to grant it."""
    rows = []
    for feature in FEATURES:
        ok = feature_enabled(feature, roles)
        rows.append({"key": feature.key, "label": feature.label, "ok": ok, "needs": feature.describe_need(),
                     "how": None if ok else GRANT_HOW.format(perms=" + ".join(sorted(feature.any_of[0])))})
    return rows


def missing_features(feature_keys, roles) -> list[str]:
    """Labels of the named features that the granted roles do not enable (callers, such as actions, name the keys)."""
    return [BY_KEY[key].label for key in feature_keys if not feature_enabled(BY_KEY[key], roles)]
