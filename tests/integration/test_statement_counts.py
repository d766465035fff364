"""SQL statements per request on the main pages, counted, so a regression fails by count and not by time.

The policy cache is on, as in production (POLICY_CACHE_SECONDS defaults to 5 there). On SQLite without Redis the
server-side session is a row in the database, read (and written when it changed) by one more statement each.
"""
import pytest
import sqlalchemy as sa

from portal.extensions import db as _db

# Page -> the most statements one request to it may make, session store excluded.
REQUESTER_PAGES = {"/home": 4, "/tickets/new": 2, "/devices": 2}
ADMIN_PAGES = {"/admin/": 12, "/admin/requesters": 2, "/admin/tickets": 5, "/admin/sessions": 3, "/admin/audit": 2}


def statements_of(client, url: str) -> list[str]:
    """The SQL one GET of `url` ran (after a first, warming GET), without the session store's own."""
    assert client.get(url).status_code == 200, url
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    engine = _db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [s for s in seen if " sessions" not in s.split(" WHERE")[0] and "INTO sessions" not in s]


@pytest.mark.settings(POLICY_CACHE_SECONDS=5)
@pytest.mark.parametrize("url, ceiling", REQUESTER_PAGES.items())
def test_requester_pages_stay_within_their_statement_budget(client, login_as, requester, url, ceiling):
    """The requester's pages: device and person in one query, then the page's own queries."""
    login_as(requester)
    ran = statements_of(client, url)
    assert len(ran) <= ceiling, "\n".join(ran)
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in ran), "a page view wrote: " + "\n".join(ran)


@pytest.mark.settings(POLICY_CACHE_SECONDS=5)
@pytest.mark.parametrize("url, ceiling", ADMIN_PAGES.items())
def test_admin_pages_stay_within_their_statement_budget(client, login_as, url, ceiling):
    """The admin's main pages, on an empty directory (counts do not grow with the data: no query per row)."""
    login_as("admin")
    ran = statements_of(client, url)
    assert len(ran) <= ceiling, "\n".join(ran)
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in ran), "a page view wrote: " + "\n".join(ran)
