"""Microsoft's error answers on the sign-in redirect map to the failure page that tells the person what to do."""
import pytest

from portal.auth.sso import microsoft_error
from portal.exceptions import FAILURES, SignInFailed

# Descriptions as Microsoft words them on the redirect (trace and correlation ids shortened).
ANSWERS = [
    ({"error": "access_denied", "error_description": "AADSTS65004: User declined to consent to access the app.\r\n"
      "Trace ID: 0a1b\r\nCorrelation ID: 9f8e\r\nTimestamp: 2026-11-28 10:00:00Z"}, "cancelled"),
    ({"error": "access_denied", "error_description": "AADSTS50105: Your administrator has configured the application "
      "Frontdesk to block users unless they are specifically granted ('assigned') access."}, "not_assigned"),
    ({"error": "invalid_request", "error_description": "AADSTS50057: The user account is disabled."}, "disabled_at_microsoft"),
    ({"error": "invalid_grant", "error_description": "AADSTS50053: The account is locked, you've tried to sign in too "
      "many times with an incorrect user ID or password."}, "locked_at_microsoft"),
    ({"error": "consent_required", "error_description": "AADSTS65001: The user or administrator has not consented to use "
      "the application."}, "consent_required"),
    ({"error": "interaction_required", "error_description": "AADSTS50076: Due to a configuration change made by your "
      "administrator, or because you moved to a new location, you must use multi-factor authentication."},
     "interaction_required"),
    ({"error": "login_required", "error_description": "AADSTS50058: A silent sign-in request was sent but no user is "
      "signed in."}, "interaction_required"),
    ({"error": "access_denied", "error_description": ""}, "cancelled"),
    ({"error": "server_error", "error_description": "AADSTS90033: A transient error has occurred."}, "microsoft_error"),
    # Seven digits whose first five match a known code must not be read as that code.
    ({"error": "invalid_request", "error_description": "AADSTS500571: The guest user account is disabled."},
     "microsoft_error"),
    ({"error": "temporarily_unavailable"}, "microsoft_error"),
]


@pytest.mark.parametrize(("params", "kind"), ANSWERS, ids=[kind for _, kind in ANSWERS])
def test_each_answer_gets_its_page(params, kind):
    """The AADSTS number wins over the OAuth error word; unknown answers get the general page."""
    failure = microsoft_error(params)
    assert isinstance(failure, SignInFailed)
    assert failure.code == kind and failure.failure is FAILURES[kind]
    assert failure.reason.startswith(params["error"][:80])


def test_no_error_means_no_failure():
    """A normal answer with a code is not an error."""
    assert microsoft_error({"code": "abc", "state": "xyz"}) is None


def test_hostile_values_are_bounded():
    """A huge description is cut for the log, and a non-string error does not crash the mapping."""
    failure = microsoft_error({"error": ["x"] * 3, "error_description": "AADSTS50057: " + "A" * 10_000})
    assert failure.code == "disabled_at_microsoft"
    assert len(failure.reason) <= 80 + 2 + 500
