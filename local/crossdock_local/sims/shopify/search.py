"""Shopify's search syntax (`query:` arguments) as far as Crossdock needs it.

`field:value`, `field:"quoted \\"value\\""`, `OR`, `AND` (also implicit), `-`/`NOT`, a trailing `*` for a prefix and
`<`, `>` on dates. Unknown fields are ignored as Shopify ignores them; bare words match the given text fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class SearchTerm:
    field: str | None  # None: free text
    value: str
    negate: bool = False
    comparator: str = ""  # "", ">", ">=", "<", "<="
    quoted: bool = False

    @property
    def exact_sku(self) -> bool:
        return self.field == "sku" and not self.negate and not self.comparator and not self._wildcard

    @property
    def _wildcard(self) -> bool:
        return self.value.endswith("*") and not self.quoted


_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*):(>=|<=|>|<)?")


def parse_search(text: str | None) -> list[list[SearchTerm]]:
    """`a:1 b:2 OR c:3` → [[a:1, b:2], [c:3]]: OR of AND-groups, as Shopify reads it (AND binds tighter)."""
    groups: list[list[SearchTerm]] = [[]]
    text = text or ""
    pos = 0
    while pos < len(text):
        if text[pos].isspace() or text[pos] in "()":  # grouping is not modelled; terms stay in order
            pos += 1
            continue
        word = re.match(r"(OR|AND|NOT)(?=\s|$)", text[pos:])
        if word and word.group(1) == "OR":
            groups.append([])
            pos += 2
            continue
        if word and word.group(1) == "AND":
            pos += 3
            continue
        negate = False
        if word and word.group(1) == "NOT":
            negate, pos = True, pos + 3
            while pos < len(text) and text[pos].isspace():
                pos += 1
        elif text[pos] == "-":
            negate, pos = True, pos + 1
        name: str | None = None
        comparator = ""
        match = _FIELD_RE.match(text, pos)
        if match:
            name, comparator, pos = match.group(1).lower(), match.group(2) or "", match.end()
        value, pos, quoted = _search_value(text, pos)
        groups[-1].append(SearchTerm(name, value, negate, comparator, quoted))
    return [group for group in groups if group]


def _search_value(text: str, pos: int) -> tuple[str, int, bool]:
    if pos < len(text) and text[pos] in "\"'":
        quote, pos, chars = text[pos], pos + 1, []
        while pos < len(text) and text[pos] != quote:
            if text[pos] == "\\" and pos + 1 < len(text):
                pos += 1  # backslash escapes the next character: \" → ", \\ → \
            chars.append(text[pos])
            pos += 1
        return "".join(chars), pos + 1, True
    end = pos
    while end < len(text) and not text[end].isspace() and text[end] not in "()":
        end += 1
    return text[pos:end], end, False


Getter = Callable[[Any], Any]


DATE_FIELDS = frozenset({"created_at", "updated_at"})


ID_FIELDS = frozenset({"id", "product_id", "inventory_item_id"})


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(left: Any, comparator: str, right: Any) -> bool:
    if comparator == ">":
        return bool(left > right)
    if comparator == ">=":
        return bool(left >= right)
    if comparator == "<":
        return bool(left < right)
    return bool(left <= right)


def _value_matches(term: SearchTerm, value: Any) -> bool:
    if value is None:
        return False
    wanted, have = term.value.casefold(), str(value).casefold()
    if term.field in ID_FIELDS:
        wanted = wanted.rsplit("/", 1)[-1]  # a GID is accepted where an id is
    if term.comparator:
        if term.field in DATE_FIELDS:
            left, right = _parse_time(str(value)), _parse_time(term.value)
            return left is not None and right is not None and _compare(left, term.comparator, right)
        try:
            return _compare(Decimal(have), term.comparator, Decimal(wanted))
        except InvalidOperation:
            return False
    if wanted.endswith("*") and not term.quoted:
        return have.startswith(wanted[:-1])
    if term.field is None or term.field == "title":
        return wanted in have  # text search: a word of the title is enough
    return have == wanted


def _term_matches(term: SearchTerm, obj: Any, fields: dict[str, Getter], text_fields: tuple[str, ...]) -> bool:
    if term.field is not None and term.field not in fields:
        return True  # Shopify ignores a filter it does not know (with a warning), it does not fail the query
    names = text_fields if term.field is None else (term.field,)
    found = any(_value_matches(term, value) for name in names for value in as_list(fields[name](obj)))
    return found != term.negate


def matching(
    items: Iterable[T], groups: list[list[SearchTerm]], fields: dict[str, Getter], text_fields: tuple[str, ...]
) -> list[T]:
    if not groups:
        return list(items)
    return [
        item
        for item in items
        if any(all(_term_matches(term, item, fields, text_fields) for term in group) for group in groups)
    ]


def exact_skus(groups: list[list[SearchTerm]]) -> list[str] | None:
    """The SKUs of `sku:A OR sku:B ...`, the query stock sync sends; None when the query is anything else."""
    if not groups or any(len(group) != 1 or not group[0].exact_sku for group in groups):
        return None
    return [group[0].value.casefold() for group in groups]
