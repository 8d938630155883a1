"""Rendering a stored record for the wire: a JSON-ready deep copy without its `_private` keys.

Shared because the simulators keep what the platform never shows (`_id`, `_listed_at`, links to other records)
under keys that start with `_` in the same records they answer with; this is the one place that strips them.
"""

from __future__ import annotations

from typing import Any


def render(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready deep copy of a record without its `_private` keys."""
    return {k: _render_value(v) for k, v in record.items() if not k.startswith("_")}


def _render_value(value: Any) -> Any:
    if isinstance(value, dict):
        return render(value)
    if isinstance(value, list):
        return [_render_value(item) for item in value]
    return value
