"""Settings as an operator writes them: a JSON document, and `key=value` pairs with dotted keys on top of it.

A value is read as JSON when it is JSON (`true`, `5`, `null`, `"0042"`, `[1, 2]`, `{"DK": "L1"}`) and as text
otherwise (`FRAGT`), so `stock_sync.enabled=true` sets a boolean and `shipping_product_number=FRAGT` a string.
YAML is not read: PyYAML is not among the runtime dependencies the CLI installs with (it is in the local extra
only), and a document the deployed stack's operator cannot read on every machine is worse than JSON everywhere.
Every problem is a `ValueError` naming the key or the document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

YAML_SUFFIXES = (".yaml", ".yml")


def read_document(text: str, name: str) -> dict[str, Any]:
    """The settings document in `text` (read from `name`, for the messages)."""
    if name.lower().endswith(YAML_SUFFIXES):
        raise ValueError(f"{name}: YAML is not read (PyYAML is not a runtime dependency); give the settings as JSON")
    try:
        document = json.loads(text)
    except ValueError as wrong:
        raise ValueError(f"{name}: not JSON ({wrong})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{name}: the settings must be a JSON object, not {type(document).__name__}")
    return document


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """`a.b=value` as (["a", "b"], value)."""
    key, equals, raw = text.partition("=")
    path = key.strip().split(".")
    if not equals or not all(part.strip() for part in path):
        raise ValueError(f"{text!r}: give a setting as key=value, with dotted keys (stock_sync.enabled=true)")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return [part.strip() for part in path], value


def apply_assignments(document: dict[str, Any], assignments: Iterable[str]) -> dict[str, Any]:
    """A copy of `document` with each `key=value` set; groups named by a dotted key that are not there yet are
    made (the settings model then says whether such a setting exists)."""
    result = copy.deepcopy(document)
    for text in assignments:
        path, value = parse_assignment(text)
        group = result
        for depth, name in enumerate(path[:-1]):
            inner = group.setdefault(name, {})
            if not isinstance(inner, dict):
                dotted = ".".join(path[: depth + 1])
                raise ValueError(f"{text!r}: {dotted} is a setting, not a group of settings")
            group = inner
        group[path[-1]] = value
    return result


def changes(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """`key: old → new` for every setting that differs, by dotted key."""
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        dotted = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            found += changes(old, new, dotted + ".")
        elif old != new:
            found.append(f"{dotted}: {json.dumps(old, default=str)} → {json.dumps(new, default=str)}")
    return found
