"""A page of rows with an exact total, shaped as the pager macro reads it, for lists that count before they fetch."""
from dataclasses import dataclass


@dataclass(frozen=True)
class CountedPage:
    """What Flask-SQLAlchemy's Pagination offers the templates, for a query the service ran itself."""

    items: list
    page: int
    per_page: int
    total: int

    pages = property(lambda self: -(-self.total // self.per_page))
    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)
