"""Shopbox's list envelope and its numbered pages: `page` (1-based) and `per-page`, where `-1` means everything.

`{"data": [...], "meta": {"pagination": {"total", "per_page", "current_page", "total_pages", "links": {"next"?}}}}`
[seen S1]. Product inventories name the page size `num_per_page` [seen S2]; a list may accept several names, the
first one given wins. The slice itself is the shared base's `numbered_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.base.paging import BadPaging, numbered_page
from crossdock_local.sims.shopbox.rules import ShopboxRules
from crossdock_local.sims.shopbox.state import Record
from crossdock_local.sims.shopbox.wire import invalid, render

ALL = -1
PER_PAGE = ("per-page",)


def page_size(request: SimRequest, rules: ShopboxRules, names: Sequence[str] = PER_PAGE) -> int:
    """The page size asked for (the first of `names` given): `ALL`, or 1 to `rules.max_per_page`."""
    for name in names:
        raw = request.arg(name)
        if raw is None or raw == "":
            continue
        try:
            size = int(raw)
        except ValueError:
            raise invalid(name, "must be an integer") from None
        if size == ALL:
            return ALL
        if size < 1:
            raise invalid(name, "must be -1 (everything) or at least 1")
        if size > rules.max_per_page:
            raise invalid(name, f"must be at most {rules.max_per_page}")
        return size
    return rules.default_per_page


def listing(
    request: SimRequest,
    path: str,
    rows: list[Record],
    rules: ShopboxRules,
    view: Callable[[Record], Record] = render,
    names: Sequence[str] = PER_PAGE,
) -> SimResponse:
    """The `page`-th page of `rows` in Shopbox's envelope; `path` makes the `next` link."""
    size = page_size(request, rules, names)
    limit = max(1, len(rows)) if size == ALL else size
    try:
        page = numbered_page(rows, request.arg("page"), str(limit), default_limit=limit, max_limit=limit)
    except BadPaging as bad:
        raise invalid("page", str(bad).removeprefix("page ")) from None
    links: dict[str, Any] = {}
    if page.page < page.pages:
        # Guess: the link carries the page alone, as Laravel's paginator writes it unless told to append more, so
        # no token travels back in a body (the caller adds its own auth and page size to follow it).
        links["next"] = f"{path}?{urlencode({'page': page.page + 1})}"
    pagination = {
        "total": page.total,
        # Guess: `per-page=-1` is echoed as asked, not as the number of rows it turned out to be.
        "per_page": size if size == ALL else page.limit,
        "current_page": page.page,
        "total_pages": page.pages,
        "links": links,
    }
    return json_response(200, {"data": [view(row) for row in page.items], "meta": {"pagination": pagination}})
