"""How many rows a list shows at once.

One figure for every paginated list (issue 19): a page costs about as much as the rows it
renders, and 20 rows is what the officials' other systems show ("每页 20 条"). Filters and
exports still cover every row; only the screen is paged.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

ROWS = 20


def page_read_late(queryset: QuerySet[Any], number: str | None,
                   read: Callable[[list[Any]], Iterable[Any]], *,
                   per_page: int = ROWS) -> Page[Any]:
    """One page of `queryset`, counted and cut on its bare ids; only the page's rows are then
    read, by `read(ids)` (the same model with its annotations and joins), in the page's order.

    An annotation that aggregates per row (a count of related rows) makes the database
    group every row of the table before it can cut a page: done on the page's ids it costs
    the page whatever the table holds (issue 19, P2 at 3,100 units).
    """
    page = Paginator(queryset.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = {row.pk: row for row in read(ids)}
    page.object_list = [rows[pk] for pk in ids]
    return page
