"""The embedded stack parses each DynamoDB update expression once and builds each validator's node map once
(`aws/dynamodb_expressions.py`); every UpdateItem must still answer, write and refuse as moto does without it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import moto
from botocore.exceptions import ClientError
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    ExpressionAttributeValueProcessor,
)

from crossdock_local.aws.dynamodb_expressions import copy_tree
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
KEY = {"pk": {"S": "p"}, "sk": {"S": "s"}}

# (UpdateExpression, names, values, condition): each run twice, so the second one meets the kept tree.
UPDATES: list[tuple[str, dict[str, str], dict[str, Any], str | None]] = [
    ("SET #n = if_not_exists(#n, :zero) + :one", {"#n": "count"}, {":zero": {"N": "0"}, ":one": {"N": "1"}}, None),
    (
        "SET #l = list_append(if_not_exists(#l, :empty), :more)",
        {"#l": "log"},
        {":empty": {"L": []}, ":more": {"L": [{"S": "x"}]}},
        None,
    ),
    (
        "ADD #s :tags SET #m.#k = :v",
        {"#s": "tags", "#m": "map", "#k": "a"},
        {":tags": {"SS": ["t"]}, ":v": {"S": "v"}},
        None,
    ),
    ("SET #m = :map", {"#m": "map"}, {":map": {"M": {"a": {"S": "1"}}}}, None),
    ("SET #m.#k = :v", {"#m": "map", "#k": "a"}, {":v": {"S": "2"}}, None),
    ("REMOVE #l[0]", {"#l": "log"}, {}, None),
    ("SET #n = #n - :one", {"#n": "count"}, {":one": {"N": "1"}}, "#n > :one"),  # fails once the count is 1
    ("SET #t = :v", {"#t": "text"}, {":v": {"S": "text"}}, None),
    ("SET #t = #t + :one", {"#t": "text"}, {":one": {"N": "1"}}, None),  # a string plus a number: refused
    ("SET #a = :v, #a = :w", {"#a": "twice"}, {":v": {"S": "1"}, ":w": {"S": "2"}}, None),  # overlapping paths
    ("SET pk = :v", {}, {":v": {"S": "other"}}, None),  # a key attribute: refused
    ("SET #n = :missing", {"#n": "count"}, {}, None),  # a value not given: refused
    ("SET SET = :v", {}, {":v": {"S": "1"}}, None),  # not an expression: refused
    ("REMOVE #gone", {"#gone": "gone"}, {}, None),
    # The same expressions with other names: what passed the checks of the expression alone with one set of names is
    # refused with another (a key attribute, two actions on one path), and the other way round.
    ("SET #a = :v", {"#a": "free"}, {":v": {"S": "1"}}, None),
    ("SET #a = :v", {"#a": "pk"}, {":v": {"S": "1"}}, None),  # a key attribute through a name: refused
    ("SET #a = :v, #b = :w", {"#a": "x", "#b": "y"}, {":v": {"S": "1"}, ":w": {"S": "2"}}, None),
    ("SET #a = :v, #b = :w", {"#a": "x", "#b": "x"}, {":v": {"S": "1"}, ":w": {"S": "2"}}, None),  # one path twice
    ("SET #a = :v, #b = :w", {"#a": "sk", "#b": "y"}, {":v": {"S": "1"}, ":w": {"S": "2"}}, None),  # the sort key
]


def _run_updates() -> list[Any]:
    client = boto3.client("dynamodb", region_name="eu-west-1")
    client.create_table(
        TableName="expressions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    answers: list[Any] = []
    for expression, names, values, condition in UPDATES * 2:
        request: dict[str, Any] = {"TableName": "expressions", "Key": KEY, "UpdateExpression": expression}
        request["ReturnValues"] = "ALL_NEW"
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = values
        if condition:
            request["ConditionExpression"] = condition
        try:
            answers.append(client.update_item(**request).get("Attributes"))
        except ClientError as refused:
            answers.append((refused.response["Error"]["Code"], refused.response["Error"]["Message"]))
        answers.append(client.get_item(TableName="expressions", Key=KEY, ConsistentRead=True).get("Item"))
    client.delete_table(TableName="expressions")
    return answers


def test_update_expressions_answer_as_motos_own() -> None:
    # GIVEN what moto itself answers to a run of updates (valid, failing their condition, refused for each reason)
    with moto.mock_aws():
        motos_own = _run_updates()
    # WHEN the embedded stack answers the same run, with its expressions parsed once
    with EmbeddedAws(template=APP):
        assert vars(UpdateExpressionParser)["make"].__func__.__module__ == "crossdock_local.aws.dynamodb_expressions"
        embedded = _run_updates()
    # THEN every answer, item and refusal is moto's own
    assert embedded == motos_own
    assert any(isinstance(answer, tuple) and answer[0] == "ConditionalCheckFailedException" for answer in embedded)
    assert sum(isinstance(answer, tuple) and answer[0] == "ValidationException" for answer in embedded) >= 10


def test_a_kept_tree_is_shared_and_left_as_parsed() -> None:
    # GIVEN the embedded stack, and an expression parsed once
    with EmbeddedAws(template=APP):
        first = UpdateExpressionParser.make("SET #a = :a, #b = if_not_exists(#b, :zero) + :one")
        text = repr(vars(first))
        # WHEN it is parsed again after requests validated copies of it
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="kept",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(3):
            client.update_item(
                TableName="kept",
                Key={"pk": {"S": str(n)}},
                UpdateExpression="SET #a = :a, #b = if_not_exists(#b, :zero) + :one",
                ExpressionAttributeNames={"#a": "a", "#b": "b"},
                ExpressionAttributeValues={":a": {"S": "x"}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
            )
        again = UpdateExpressionParser.make("SET #a = :a, #b = if_not_exists(#b, :zero) + :one")
        # THEN it is the same tree, unchanged by the validations (they work on copies)
        assert again is first
        assert repr(vars(again)) == text
        # AND a traverser builds its node map once
        traverser = DepthFirstTraverser.__new__(DepthFirstTraverser)
        built: list[int] = []

        def processing_map() -> dict[type, Any]:
            built.append(1)
            return {}

        traverser._processing_map = processing_map
        traverser.nodes_to_be_processed()
        traverser.nodes_to_be_processed()
        assert built == [1]


def test_the_checks_of_the_expression_alone_walk_a_kept_tree_once_per_names() -> None:
    """GIVEN the embedded stack; WHEN one expression is sent three times with the same names, then with other names,
    then with names that make it update the key; THEN moto's validators of the expression alone (clause counts,
    overlapping paths, key attributes) walk it once per set of names that passed them, and every time for the
    refused one, while the validators that read the item and the values walk it for every request."""
    walked: list[str] = []
    values = ExpressionAttributeValueProcessor
    originals: dict[type, Any] = {cls: cls.traverse for cls in (ActionCountValidator, values)}

    def counting(cls: type) -> Any:
        def traverse(traverser: Any, node: Any) -> Any:
            walked.append(cls.__name__)
            return originals[cls](traverser, node)

        return traverse

    with EmbeddedAws(template=APP):
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="walks",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="walks", Item={"pk": {"S": "p"}})
        with (
            mock.patch.object(ActionCountValidator, "traverse", counting(ActionCountValidator)),
            mock.patch.object(values, "traverse", counting(values)),
        ):
            refused = []
            for names in [{"#a": "a"}] * 3 + [{"#a": "b"}] + [{"#a": "pk"}] * 2:
                try:
                    client.update_item(
                        TableName="walks",
                        Key={"pk": {"S": "p"}},
                        UpdateExpression="SET #a = :v",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues={":v": {"S": "1"}},
                    )
                except ClientError as error:
                    refused.append(error.response["Error"]["Code"])

    assert refused == ["ValidationException"] * 2
    assert walked.count("ActionCountValidator") == 1 + 1 + 2  # #a=a once, #a=b once, #a=pk each time
    assert walked.count("ExpressionAttributeValueProcessor") == 4  # every request that got past the key check


def _shape(node: Any, parent: Any = None) -> Any:
    """A tree as nested tuples, checking on the way that each node's parent is the node it hangs under."""
    assert node.parent is parent
    children = [_shape(c, node) if hasattr(c, "children") else c for c in node.children or []]
    return (type(node).__name__, node.type, sorted(vars(node)), children)


def _nodes(node: Any) -> list[Any]:
    found = [node]
    for child in node.children or []:
        if hasattr(child, "children"):
            found += _nodes(child)
    return found


def test_a_trees_copy_is_deepcopys_own() -> None:
    # GIVEN parsed update expressions of every clause and function the application uses, and a plain value
    expressions = [expression for expression, *_ in UPDATES if expression != "SET SET = :v"]
    expressions.append("SET #a.b[2] = list_append(if_not_exists(#x, :e), :v) REMOVE y ADD z :one DELETE s :set")
    for expression in expressions:
        tree = UpdateExpressionParser.make(expression)
        # WHEN the tree is copied node by node
        copied = copy_tree(tree)
        # THEN it has deepcopy's shape, parent links inside the copy, and shares no node with the original
        assert _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
        assert not {id(n) for n in _nodes(copied)} & {id(n) for n in _nodes(tree)}
    value = {"L": [{"S": "x"}]}
    assert copy_tree(value) == value and copy_tree(value) is not value
