"""Settings as an operator writes them: a JSON or YAML document, and `key=value` pairs with dotted keys on top of it.

A value is read as JSON when it is JSON (`true`, `5`, `null`, `"0042"`, `[1, 2]`, `{"DK": "L1"}`) and as text
otherwise (`FRAGT`), so `stock_sync.enabled=true` sets a boolean and `shipping_product_number=FRAGT` a string.
YAML (`.yaml`/`.yml`) is read as YAML 1.2's core schema would read it, not PyYAML's default 1.1: `NO`, `no`, `on`
and `off` stay text — otherwise `country_locations: {NO: L2}` would key Norway's location by `false` — and dates
stay text for the settings model to read. A key given twice, in either format, is refused rather than the last one
silently winning. Every problem is a `ValueError` naming the key or the document.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any

YAML_SUFFIXES = (".yaml", ".yml")


def read_document(text: str, name: str) -> dict[str, Any]:
    """The settings document in `text` (read from `name`, for the messages)."""
    if name.lower().endswith(YAML_SUFFIXES):
        document, format_name = _yaml_document(text, name), "YAML mapping"
    else:
        try:
            document = json.loads(text, object_pairs_hook=_unique_keys)
        except ValueError as wrong:
            raise ValueError(f"{name}: not JSON ({wrong})") from None
        format_name = "JSON object"
    if not isinstance(document, dict):
        raise ValueError(f"{name}: the settings must be a {format_name}, not {type(document).__name__}")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"{key!r} is given twice")
        document[key] = value
    return document


def _yaml_document(text: str, name: str) -> Any:
    # Imported here: only an operator's YAML file needs it, never a function.
    import yaml

    class CoreSchemaLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML's loaders are untyped
        """SafeLoader with YAML 1.2's booleans (true/false only), no timestamps and no duplicate keys."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"{key!r} is given twice", key_node.start_mark)
                seen.add(key)
            return dict(super().construct_mapping(node, deep=deep))

    CoreSchemaLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_YAML_BOOL, _YAML_TIMESTAMP)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    CoreSchemaLoader.add_implicit_resolver(_YAML_BOOL, _YAML_12_BOOL, list("tTfF"))
    try:
        return yaml.load(text, Loader=CoreSchemaLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as wrong:
        raise ValueError(f"{name}: not YAML ({wrong})") from None


_YAML_BOOL = "tag:yaml.org,2002:bool"
_YAML_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_YAML_12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


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
