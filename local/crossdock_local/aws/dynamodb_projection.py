"""DynamoDB projections of top-level scalar attributes, picked from the item instead of from its whole copy.

moto 5.2 projects an item (`Item.project`: a `ProjectionExpression`, and a secondary index's projected attributes
for every item a Query of the index returns) by turning the whole item into plain Python, deep copies included,
once per projected path, and serializing what it found back. A connection item's settings are most of its size;
reading its state and settings version for every event (`store.connections.load_connection`) paid for copying the
settings three times, and each Query of a keys-only index for every item it returned: about 5 % of the busy time
of a chaos run (issue 12's third profile).

When every projected path is one top-level name whose value is a string, number, boolean or null, the projection
is those attributes, taken as they are stored; a number is normalised exactly as moto's round trip through
`Decimal` does. Anything else (a nested path, a list index, a map, list, set or binary value) goes to moto as
before. `tests/component/test_dynamodb_projection.py` holds the answers equal to moto's own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from moto.dynamodb.models.dynamo_type import Item

_AS_STORED = frozenset({"S", "BOOL", "NULL"})  # what moto's round trip gives back unchanged

Project = Callable[[Any, list[list[str]]], Any]


def _picked(item: Any, projection_expressions: list[list[str]]) -> dict[str, Any] | None:
    """The projected attributes in moto's wire form, or None where moto must project itself."""
    picked: dict[str, Any] = {}
    for path in projection_expressions:
        if len(path) != 1 or "[" in path[0]:
            return None
        value = item.attrs.get(path[0])
        if value is None:
            continue  # a projected attribute the item does not have is left out
        if value.type in _AS_STORED:
            picked[path[0]] = {value.type: value.value}
        elif value.type == "N":
            # moto: Decimal (TypeDeserializer), then str(Decimal) (TypeSerializer), both in DynamoDB's context
            picked[path[0]] = {"N": str(DYNAMODB_CONTEXT.create_decimal(DYNAMODB_CONTEXT.create_decimal(value.value)))}
        else:
            return None
    return picked


def projecting_scalars_directly(original: Project) -> Project:
    def project(item: Any, projection_expressions: list[list[str]]) -> Any:
        picked = _picked(item, projection_expressions)
        if picked is None:
            return original(item, projection_expressions)
        return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=picked)

    return project


def project_scalars_directly(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(Item, "project", projecting_scalars_directly(Item.project)))
