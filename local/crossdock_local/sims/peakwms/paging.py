"""Keyset pages (seen P1, P3): `?LastId=<id>&PageSize=<n>` → `{"page", "pageSize", "totalRecords", "data"}`.

The next `LastId` is the largest internal `id` on the page; a client stops on an empty page (P1) or a short one
(P3). Seen P3: `lastId`/`pageSize` work too; guess (rules.case_insensitive_params): any casing does. Records are
read in id order at the moment of the call, so a record added or removed between pages shows up or vanishes the
way it would on a real keyset: nothing is repeated or skipped that existed throughout.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms.rules import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PeakwmsRules
from crossdock_local.sims.peakwms.state import Record
from crossdock_local.sims.peakwms.wire import invalid, render


def param(request: SimRequest, rules: PeakwmsRules, name: str) -> str | None:
    """A query parameter by its documented name (`LastId`), its lower-camel one (`lastId`), or — when the rule
    says names are case-insensitive — any casing."""
    lower_camel = name[0].lower() + name[1:]
    for spelling in (name, lower_camel):
        found = request.arg(spelling)
        if found is not None:
            return found
    if rules.case_insensitive_params:
        for key, values in request.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
    return None


def keyset(
    request: SimRequest,
    rules: PeakwmsRules,
    records: dict[int, Record],
    shown: Callable[[Record], Record] = render,
) -> SimResponse:
    """One page of `records` (by internal id, inserted in id order as ids are handed out) after `LastId`, each as
    `shown` renders it; only the page's rows are rendered, so a walk of 30,000 rows costs no scan a page."""
    last_id = _whole(param(request, rules, "LastId"), "LastId", 0)
    size = _whole(param(request, rules, "PageSize"), "PageSize", DEFAULT_PAGE_SIZE)
    if size < 1:
        raise invalid("PageSize", "must be at least 1")
    if size > MAX_PAGE_SIZE:
        if not rules.clamp_page_size:
            raise invalid("PageSize", f"must be at most {MAX_PAGE_SIZE}")
        size = MAX_PAGE_SIZE
    ids = list(records)
    before = bisect_right(ids, last_id)
    data = [shown(records[i]) for i in ids[before : before + size]]
    return json_response(200, {"page": before // size + 1, "pageSize": size, "totalRecords": len(ids), "data": data})


def _whole(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be a whole number") from None
    if value < 0:
        raise invalid(name, "must not be negative")
    return value
