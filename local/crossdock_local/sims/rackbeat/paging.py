"""Rackbeat's lists: `simple_filter[<field>]`, `search=`, `updated_at_from/_to`, `order_by`, and paging answered as
HTTP 206 with the plural envelope `{"<plural>": [...], "total", "pages", "limit", "page"}` (fact sheet)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.state import Errors, Record
from crossdock_local.sims.rackbeat.wire import STAMP, decimal, integer, invalid, label, raise_if, truthy

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
# Lists of reference data (and others shaped like them) filter and search on number and name.
REFERENCE_FILTERS = frozenset({"number", "name"})
REFERENCE_SEARCH = ("number", "name")


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return value == truthy(wanted)
    if value is None:
        return wanted == ""
    if isinstance(value, Decimal):
        other = decimal(wanted)
        return other is not None and other == value
    return str(value) == wanted


def _filter_rows(
    request: SimRequest, rows: list[Record], filterable: frozenset[str], searchable: tuple[str, ...]
) -> list[Record]:
    for key, values in request.query.items():
        found = re.fullmatch(r"simple_filter\[(\w+)\]", key)
        if found is None:
            continue
        name = found.group(1)
        if name not in filterable:
            raise invalid({name: [f"Property '{name}' is not filterable"]})
        rows = [row for row in rows if _matches(row.get(name), values[0])]
    needle = (request.arg("search") or "").strip().lower()
    if needle:
        rows = [row for row in rows if any(needle in str(row.get(f) or "").lower() for f in searchable)]
    # Stamps are fixed-width `YYYY-MM-DD HH:MM:SS` text, so comparing the text orders them in time.
    since = _stamp_bound(request, "updated_at_from", "00:00:00")
    until = _stamp_bound(request, "updated_at_to", "23:59:59")
    if since:
        rows = [row for row in rows if str(row.get("updated_at", "")) >= since]
    if until:
        rows = [row for row in rows if str(row.get("updated_at", "")) <= until]
    return rows


def _stamp_bound(request: SimRequest, name: str, day_edge: str) -> str | None:
    """One end of a date range in the sheet's `YYYY-MM-DD HH:MM:SS` format; anything else is a 422 rather than a
    silently wrong text comparison."""
    value = (request.arg(name) or "").strip()
    if not value:
        return None
    if not STAMP.fullmatch(value):
        raise invalid({name: [f"The {label(name)} does not match the format Y-m-d H:i:s."]})
    # Guess: a bare date covers the whole day (from its first second / to its last).
    return value if " " in value else f"{value} {day_edge}"


def _order_rows(request: SimRequest, rows: list[Record]) -> list[Record]:
    by = request.arg("order_by")
    if not by or not rows or by not in rows[0]:
        return rows  # unknown sort fields are ignored (guess), keeping the default order by number/id
    descending = (request.arg("order_direction") or "asc").lower() == "desc"
    present = [row for row in rows if row.get(by) is not None]
    missing = [row for row in rows if row.get(by) is None]
    return sorted(present, key=lambda row: row[by], reverse=descending) + missing


def _paging(request: SimRequest) -> tuple[int, int]:
    errors: Errors = {}
    page, limit = integer(request.arg("page", "1")), integer(request.arg("limit", str(DEFAULT_LIMIT)))
    if page is None or page < 1:
        errors["page"] = ["The page must be at least 1."]
    # Guess: above the (seen) maximum of 1000 answers 422 rather than silently clamping.
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"The limit must be between 1 and {MAX_LIMIT}."]
    raise_if(errors)
    assert page is not None and limit is not None
    return page, limit


def page_response(
    request: SimRequest,
    plural: str,
    rows: list[Record],
    render: Callable[[Record], Any],
    filterable: frozenset[str],
    searchable: tuple[str, ...],
) -> SimResponse:
    page, limit = _paging(request)
    rows = _order_rows(request, _filter_rows(request, rows, filterable, searchable))
    chunk = rows[(page - 1) * limit : page * limit]
    return json_response(
        206,
        {
            plural: [render(row) for row in chunk],
            "total": len(rows),
            "pages": max(1, math.ceil(len(rows) / limit)),  # guess: an empty list still reports one page
            "limit": limit,
            "page": page,
        },
    )
