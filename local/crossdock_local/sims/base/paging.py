"""The two ways the platforms page a list: numbered pages (`page`, `limit`) and opaque cursors."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    limit: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit)) if self.limit else 1


class BadPaging(ValueError):
    """A page or limit the platform would refuse; the message names the parameter."""


def numbered_page(
    items: list[T], page: str | None, limit: str | None, *, default_limit: int, max_limit: int
) -> Page[T]:
    """The `page`-th slice of `limit` items (1-based); a missing value takes the default, a bad one is refused."""
    number = _positive("page", page, 1)
    size = _positive("limit", limit, default_limit)
    if size > max_limit:
        raise BadPaging(f"limit must be at most {max_limit}")
    start = (number - 1) * size
    return Page(items[start : start + size], number, size, len(items))


def _positive(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadPaging(f"{name} must be an integer") from None
    if value < 1:
        raise BadPaging(f"{name} must be at least 1")
    return value


def encode_cursor(index: int) -> str:
    """An opaque cursor for the position after `index`; clients must not read meaning into it."""
    return base64.urlsafe_b64encode(f"cursor:{index}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The position a cursor from `encode_cursor` stands for; a cursor it did not make is refused."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadPaging("cursor is not valid") from None
    prefix, _, number = text.partition(":")
    if prefix != "cursor" or not number.isdigit():
        raise BadPaging("cursor is not valid")
    return int(number)
