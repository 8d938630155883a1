"""Lists as Webshipper answers them: `filter[...]` in two forms, fixed pages of 30, `included`, paging links.

Doc W1: `filter[<field>]=<value>`, `page[number]=N` from 1, 30 rows a page and no page-size parameter (a
`page[size]` is ignored, as an unknown parameter is). Seen W4: `filter[f][value]=v&filter[f][operator]=op`;
Guess: the operators are `eq, gt, gte, lt, lte` and the plain form is `eq`. Guess: a filter on a field the
resource does not filter by is a 400 naming it (a typo must not silently list everything). Guess: `links.next`
while more pages exist (`rules.paging_links`); the spec shows no paging links, so a client stops on a short page.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.rules import PAGE_SIZE
from crossdock_local.sims.webshipper.session import Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import resource
from crossdock_local.sims.webshipper.wire import jsonapi, refuse, to_id

FILTER_KEY = re.compile(r"^filter\[(\w+)\](?:\[(value|operator)\])?$")
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
Getter = Callable[[Record], Any]
# field → (how to read it from a record, how to read the filter's value); `sku` matches any line's.
Filterable = dict[str, tuple[Getter, Callable[[str], Any]]]


def parse_time(raw: str) -> datetime | None:
    """ISO 8601 read leniently: `…T14:01:18.000Z` (spec), `…T08:00:08.0Z` (seen live), a date alone."""
    value = raw.strip().replace("Z", "+00:00") if raw else ""
    # An offset's `+` sent unencoded in a query string arrives as a space.
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value)
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", value)
    if match:  # fromisoformat wants 3 or 6 fraction digits in 3.11
        value = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # no zone: UTC, as Webshipper writes


def by_id(key: str) -> tuple[Getter, Callable[[str], Any]]:
    return (lambda record: record.get(key)), to_id


def by_text(key: str) -> tuple[Getter, Callable[[str], Any]]:
    return (lambda record: record.get(key)), str


def by_time(key: str) -> tuple[Getter, Callable[[str], Any]]:
    return (lambda record: parse_time(str(record.get(key) or ""))), parse_time


Filter = tuple[str, str, Any]


def filters(request: SimRequest, allowed: Filterable) -> list[Filter]:
    """(field, operator, parsed value) of every `filter[...]`; 400 naming an unknown field, operator or value."""
    raw: dict[str, dict[str, str]] = {}
    for key, values in request.query.items():
        match = FILTER_KEY.match(key)
        if match is None:
            if key.startswith("filter"):
                raise refuse(400, f"{key} is not a filter", key)
            continue
        raw.setdefault(match[1], {})[match[2] or "value"] = values[0] if values else ""
    chosen: list[Filter] = []
    for name, parts in raw.items():
        if name not in allowed:
            raise refuse(400, f"filter[{name}] is not a filter of this resource", f"filter[{name}]")
        op = parts.get("operator", "eq").lower()
        if op not in OPERATORS:
            raise refuse(400, f"filter[{name}][operator] must be one of {', '.join(OPERATORS)}", f"filter[{name}]")
        value = allowed[name][1](parts.get("value", ""))
        if value is None:
            raise refuse(400, f"filter[{name}] has a value it cannot compare", f"filter[{name}]")
        chosen.append((name, op, value))
    return chosen


def matches(record: Record, chosen: list[Filter], allowed: Filterable) -> bool:
    for name, op, wanted in chosen:
        got = allowed[name][0](record)
        candidates = got if isinstance(got, list) else [got]
        if not any(_compare(op, value, wanted) for value in candidates):
            return False
    return True


def _compare(op: str, value: Any, wanted: Any) -> bool:
    if value is None:
        return False
    try:
        return bool(OPERATORS[op](value, wanted))
    except TypeError:
        return False


def page_number(request: SimRequest) -> int:
    raw = request.arg("page[number]", "1") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise refuse(400, "page[number] must be a whole number from 1", "page[number]")
    return int(raw)


def listing(
    session: Session,
    request: SimRequest,
    kind: str,
    rows: list[Record],
    allowed: Filterable,
    *,
    included: Callable[[list[Record]], list[Record]] | None = None,
) -> SimResponse:
    """One page of `rows` (oldest id first) that pass the request's filters, as a JSON:API collection."""
    chosen = filters(request, allowed)
    number = page_number(request)
    kept = sorted((row for row in rows if matches(row, chosen, allowed)), key=lambda row: int(row["_id"]))
    start = (number - 1) * PAGE_SIZE
    page = kept[start : start + PAGE_SIZE]
    document: Record = {"data": [resource(session, kind, row) for row in page]}
    if included is not None:
        document["included"] = included(page)
    if session.rules.paging_links:
        document["links"] = _links(session, request, number, has_next=start + PAGE_SIZE < len(kept))
    return jsonapi(200, document)


def _links(session: Session, request: SimRequest, number: int, *, has_next: bool) -> Record:
    def at(page: int) -> str:
        query = [(k, v) for k, values in request.query.items() if k != "page[number]" for v in values]
        return f"{session.base}{request.path}?{urlencode([*query, ('page[number]', str(page))])}"

    links: Record = {"self": at(number), "first": at(1)}
    if number > 1:
        links["prev"] = at(number - 1)
    if has_next:
        links["next"] = at(number + 1)
    return links
