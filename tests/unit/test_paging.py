"""Pages the services count themselves: the requester search's exact total, and the Sessions page's capped count."""
from portal.devices.sessions import COUNT_CAP, PER_PAGE, SessionPage
from portal.paging import CountedPage


def test_a_capped_session_count_reads_as_more_pages():
    """Past the cap the pager says '200+' and always offers the next page; below it, the exact number."""
    first = SessionPage([], 1, COUNT_CAP + 1)
    assert (first.pages_label, first.has_next, first.has_prev) == (f"{COUNT_CAP // PER_PAGE}+", True, False)
    deep = SessionPage([], COUNT_CAP // PER_PAGE + 1, COUNT_CAP + PER_PAGE + 1)  # counted just past the page shown
    assert deep.capped and deep.has_next and deep.pages_label == f"{COUNT_CAP // PER_PAGE + 1}+"
    exact = SessionPage([], 3, 120)
    assert (exact.pages_label, exact.has_next, exact.prev_num, exact.next_num) == ("3", False, 2, 4)
    assert SessionPage([], 1, 0).pages == 1 and not SessionPage([], 1, 0).has_next


def test_a_counted_page_pages_as_flask_sqlalchemy_does():
    """Pages round up, and an empty result has none."""
    page = CountedPage([], 2, 50, 101)
    assert (page.pages, page.has_prev, page.has_next) == (3, True, True)
    assert CountedPage([], 1, 50, 0).pages == 0 and not CountedPage([], 1, 50, 0).has_next
