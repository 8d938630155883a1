"""DynamoDB's item answers, written straight as JSON.

moto 5.2 writes every DynamoDB answer through its generic, shape-driven serializer, which looks up each attribute
of each item through several spellings of its name. For a connection item with its nested settings that cost more
than everything else an order does on the embedded stack (a quarter of a chaos run's time went to it). The answers
to item operations are already DynamoDB JSON once moto has turned its values into dicts (`DynamoResult`): the only
work left is to base64 binary values, which is what the serializer did too. Other answers (tables, errors, anything
the fast path cannot write) keep moto's serializer. `tests/component/test_dynamodb_answers.py` holds the two to the
same output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.dynamodb.responses import DynamoResult

# Operations whose answers hold items, counts, keys and consumed capacity only: no timestamps, nothing renamed.
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


class _NotPlainJson(TypeError):
    pass


def _binary(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise _NotPlainJson(type(value).__name__)


def item_answer_body(operation: str, members: Collection[str], result: object) -> str | None:
    """The JSON body of an item operation's answer, or None when it is not one this path writes. `members` are the
    answer's members in the API model: like the serializer, this leaves out what moto adds beyond them (DeleteItem's
    old `ConsumedCapacityUnits`) and members without a value (items themselves never hold a None)."""
    if operation not in ITEM_OPERATIONS or not isinstance(result, dict):
        return None
    present = {name: value for name, value in result.items() if value is not None and name in members}
    try:
        return json.dumps(present, default=_binary)
    except _NotPlainJson:
        return None


def write_item_answers_directly(stack: ExitStack) -> None:
    original = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: Any) -> Any:
        operation = context.operation_model
        body = item_answer_body(str(operation.name), operation.output_shape.members, self.result)
        if body is None:
            return original(self, context)
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body

    stack.enter_context(mock.patch.object(DynamoResult, "execute_result", execute_result))
