"""The rule that turns a ticket's action runs into its status."""
import pytest

from portal.ticket_progress import derived_status


@pytest.mark.parametrize("runs, status", [
    ([], None),
    (["succeeded"], "resolved"),
    (["succeeded", "succeeded"], "resolved"),
    (["failed"], "needs_attention"),
    (["failed", "pending"], "needs_attention"),  # IT hears of a failure at once, not when the rest are done
    (["succeeded", "running"], None),
    (["succeeded", "awaiting_approval"], None),
    (["blocked"], None),
    (["cancelled", "cancelled"], "closed"),
    (["succeeded", "cancelled"], "closed"),
    (["failed", "cancelled"], "needs_attention"),
])
def test_status_follows_the_runs(runs, status):
    """Any failure needs attention; anything unfinished changes nothing; all succeeded resolves; a cancel closes."""
    assert derived_status(runs) == status
