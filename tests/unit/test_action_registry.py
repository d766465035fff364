"""The workflow action registry: every action carries what the pages, the permission check and the runner read."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from portal.entra import permissions
from portal.exceptions import UnknownAction
from portal.mail import DEFAULT_TEMPLATES
from portal.workflows.actions import ACTION_TYPES, WorkflowAction, action_type

SINCE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
FULL = ["User.ReadWrite.All", "Directory.Read.All"]
READ_ONLY = ["User.Read.All"]


@dataclass
class Account:
    """Just the requester fields the "already done?" checks read."""

    entra_object_id: str = "00000000-0000-0000-0000-000000000001"
    locked_until: datetime | None = None


class StateOnly:
    """Stands in for GraphClient.get_user: a unit test has no Graph; the emulator tests cover the real calls."""

    def __init__(self, **user):
        self.user, self.calls = user, 0

    def get_user(self, object_id, select):
        self.calls += 1
        return self.user


@pytest.mark.parametrize("key", list(ACTION_TYPES))
def test_every_action_describes_itself(key):
    """Each registered action has the texts the editor, timeline and admin pages show, and permission features."""
    action = ACTION_TYPES[key]
    assert isinstance(action, WorkflowAction) and type(action) is not WorkflowAction
    for text in (action.label, action.description, action.when, action.public):
        assert isinstance(text, str) and text.strip()
    assert action.features and set(action.features) <= set(permissions.BY_KEY)


@pytest.mark.parametrize("key", list(ACTION_TYPES))
def test_registry_key_is_the_class_key(key):
    """The registry is keyed by each class's own key, and action_type returns that same instance."""
    assert type(ACTION_TYPES[key]).key == key and action_type(key) is ACTION_TYPES[key]


def test_registry_holds_the_actions_in_editor_order():
    """The editor offers reset, unlock, disable, revoke sessions in that order; the labels are unique."""
    assert list(ACTION_TYPES) == ["force_password_reset", "unlock", "disable", "revoke_sessions"]
    assert len({a.label for a in ACTION_TYPES.values()}) == len(ACTION_TYPES)


def test_unknown_key_raises_a_clear_error():
    """An unknown key names itself and the keys that exist."""
    with pytest.raises(UnknownAction) as err:
        action_type("delete_everything")
    assert "'delete_everything'" in err.value.message and "force_password_reset" in err.value.message
    assert err.value.code == "unknown_action"


def test_only_actions_with_a_mail_template_send_email():
    """An action that emails names a built-in template and the line shown when the email fails; others do neither."""
    for action in ACTION_TYPES.values():
        if action.sends_email:
            assert action.mail_template in DEFAULT_TEMPLATES and action.mail_failed_public
        else:
            assert action.mail_template is None
    assert [a.key for a in ACTION_TYPES.values() if a.sends_email] == ["force_password_reset"]


def test_missing_features_lists_the_labels_not_covered():
    """missing_features returns the labels of the features the roles do not enable, in the order asked."""
    wanted = ("enable_disable", "revoke_sessions")
    assert permissions.missing_features(wanted, FULL) == []
    assert permissions.missing_features(wanted, None) == [permissions.BY_KEY[k].label for k in wanted]
    # Enable/disable needs User.EnableDisableAccount.All together with User.Read.All: one alone is not enough.
    assert permissions.missing_features(wanted, ["User.EnableDisableAccount.All", "User.RevokeSessions.All"]) == [
        permissions.BY_KEY["enable_disable"].label]
    assert permissions.missing_features(wanted, ["User.EnableDisableAccount.All", "User.Read.All",
                                                 "User.RevokeSessions.All"]) == []
    assert permissions.missing_features((), READ_ONLY) == []


def test_actions_ask_for_their_own_features():
    """A read-only app may run no action; reset needs the password feature, disable also revoke, and every action
    that changes a person's sign-in first reads their Entra admin roles."""
    roles_label = permissions.BY_KEY["read_roles"].label
    for action in ACTION_TYPES.values():
        assert action.missing_permissions(FULL) == []
        assert action.missing_permissions(READ_ONLY) == [permissions.BY_KEY[k].label for k in action.features]
    assert ACTION_TYPES["force_password_reset"].missing_permissions(["User-PasswordProfile.ReadWrite.All"]) == [
        roles_label]
    assert ACTION_TYPES["force_password_reset"].missing_permissions(["User-PasswordProfile.ReadWrite.All",
                                                                     "RoleManagement.Read.Directory"]) == []
    assert ACTION_TYPES["disable"].missing_permissions(["User.EnableDisableAccount.All", "User.Read.All"]) == [
        permissions.BY_KEY["revoke_sessions"].label, roles_label]
    assert ACTION_TYPES["revoke_sessions"].missing_permissions(["User.RevokeSessions.All", "Directory.Read.All"]) == []
    assert ACTION_TYPES["revoke_sessions"].missing_permissions(["User.RevokeSessions.All"]) == [roles_label]
    assert [k for k, a in ACTION_TYPES.items() if "read_roles" in a.features] == [
        "force_password_reset", "disable", "revoke_sessions"]


def test_needs_names_each_feature_and_its_permissions():
    """The editor's permission line names each feature with the permission sets that enable it."""
    needs = ACTION_TYPES["revoke_sessions"].needs()
    assert needs[0] == ("Revoke Microsoft sign-in sessions: User.RevokeSessions.All or User.ReadWrite.All or "
                        "Directory.ReadWrite.All")
    assert needs[1].startswith("Check for Entra admin roles before acting: Directory.Read.All or ")
    assert ACTION_TYPES["revoke_sessions"].needs(exclude=("read_roles",)) == needs[:1]


def test_revoke_cannot_tell_whether_it_was_done_and_asks_graph_nothing():
    """Revoke's "already done?" is None (Graph shows no revocation time) without a Graph request: it simply repeats."""
    graph = StateOnly(accountEnabled=True)
    assert ACTION_TYPES["revoke_sessions"].already_done(graph, Account(), SINCE) is None
    assert graph.calls == 0


@pytest.mark.parametrize(("changed", "expected"), [
    (None, None), ("not a date", None), ((SINCE - timedelta(hours=1)).isoformat(), False),
    ("2026-01-01T09:00:00Z", True), ("2026-01-01T08:59:59.500Z", True)])
def test_reset_already_done_reads_the_password_change_time(changed, expected):
    """Reset counts as done when Entra shows a password change since the attempt (1 s slack); None when unknown."""
    graph = StateOnly(lastPasswordChangeDateTime=changed)
    assert ACTION_TYPES["force_password_reset"].already_done(graph, Account(), SINCE) is expected
    assert graph.calls == 1


@pytest.mark.parametrize(("key", "enabled", "locked", "expected"), [
    ("disable", False, None, True), ("disable", True, None, False),
    ("unlock", True, None, True), ("unlock", False, None, False), ("unlock", True, SINCE, False)])
def test_enable_state_actions_already_done(key, enabled, locked, expected):
    """Disable is done when Entra shows the account disabled; unlock needs it enabled and no portal lock."""
    graph = StateOnly(accountEnabled=enabled)
    assert ACTION_TYPES[key].already_done(graph, Account(locked_until=locked), SINCE) is expected
    assert graph.calls == 1


def test_uncertain_outcome_settles_per_action():
    """A reset seen done after a crash fails (its mail is lost); the others succeed as verified after restart."""
    reset = ACTION_TYPES["force_password_reset"].on_uncertain_done()
    assert reset.status == "failed" and reset.error_code == "mail_not_sent" and reset.error
    for key in ("unlock", "disable", "revoke_sessions"):
        settled = ACTION_TYPES[key].on_uncertain_done()
        assert settled.status == "succeeded" and settled.error is None
        assert settled.public == f"Done: {ACTION_TYPES[key].label}." and settled.detail == {"verified_after_restart": True}
