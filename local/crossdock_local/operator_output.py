"""How operator command results look: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crossdock.operations.events import EventRow

_REASON_WIDTH = 90


def as_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=False, default=str)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: _plain(item) for key, item in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns as wide as their widest cell; the last column is not padded. An empty list says so."""
    if not rows:
        return "(none)"
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[index]) for row in cells)) for index, header in enumerate(headers)]
    lines = [_line(headers, widths), _line(["-" * width for width in widths], widths)]
    lines += [_line(row, widths) for row in cells]
    return "\n".join(lines)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    padded = [value.ljust(width) for value, width in zip(values[:-1], widths[:-1], strict=True)]
    return "  ".join([*padded, values[-1]]).rstrip()


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else " ".join(str(value).split())


def moment(stamp: str | None) -> str | None:
    """An event-log stamp (`2026-05-01T12:00:00.123456Z`) to the second, for tables."""
    return f"{stamp[:19]}Z" if stamp else None


def shorten(text: str | None, width: int = _REASON_WIDTH) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def event_summary(event: EventRow | None) -> str | None:
    if event is None:
        return None
    return f"{moment(event.received_at)} {event.topic} {event.status}"


def failures(by_class: dict[str, int]) -> str:
    total = sum(by_class.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{name} {count}" for name, count in by_class.items()) + ")"
