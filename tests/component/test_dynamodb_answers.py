"""The embedded stack writes DynamoDB's item answers as plain JSON (`aws_dynamodb_answers`); boto3 must read exactly
what moto's own serializer would have written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoResult

from crossdock_local.aws.dynamodb_answers import ITEM_OPERATIONS
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"


@pytest.fixture
def compared() -> Iterator[tuple[EmbeddedAws, list[tuple[str, Any, Any]]]]:
    """Every DynamoDB answer of the test, written both ways: (operation, fast, moto's serializer)."""
    answers: list[tuple[str, Any, Any]] = []
    with EmbeddedAws(template=APP) as aws:
        fast = DynamoResult.execute_result
        assert fast is not ActionResult.execute_result, "the embedded stack writes item answers itself"

        def both(result: DynamoResult, context: Any) -> Any:
            status, headers, body = fast(result, context)
            serializer_status, serializer_headers, serializer_body = ActionResult.execute_result(result, context)
            answers.append(
                (
                    str(context.operation_model.name),
                    (status, headers["Content-Type"], json.loads(body)),
                    (serializer_status, serializer_headers["Content-Type"], json.loads(serializer_body)),
                )
            )
            return status, headers, body

        with mock.patch.object(DynamoResult, "execute_result", both):
            yield aws, answers


def test_item_answers_read_the_same_as_motos_serializer_writes_them(
    compared: tuple[EmbeddedAws, list[tuple[str, Any, Any]]],
) -> None:
    aws, answers = compared
    # GIVEN a table holding every kind of attribute value, nested
    table = boto3.resource("dynamodb").Table(aws.table_name("Table"))
    client = table.meta.client
    item = {
        "pk": "c#1",
        "sk": "META",
        "payload_z": b"\x00\xff\x10binary",
        "count": 7,
        "price": "12.50",
        "settings": {"orders": {"target": "invoice", "lines": [1, "two", None, True, {"deep": b"\x01"}]}},
        "tags": {"a", "b"},
        "numbers": {1, 2},
        "blobs": {b"x", b"y"},
        "empty": "",
    }
    # WHEN it is written, read, updated, queried, scanned and deleted in every way the product does
    table.put_item(Item=item)
    for n in range(30):
        table.put_item(Item={"pk": "c#1", "sk": f"EVT#{n:02d}", "status": "done" if n % 3 else "failed"})
    read = table.get_item(Key={"pk": "c#1", "sk": "META"}, ConsistentRead=True)["Item"]
    missing = table.get_item(Key={"pk": "c#1", "sk": "NOPE"})
    updated = table.update_item(
        Key={"pk": "c#1", "sk": "META"},
        UpdateExpression="SET #c = #c + :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_OLD",
        ReturnConsumedCapacity="TOTAL",
    )
    page = table.query(
        KeyConditionExpression=Key("pk").eq("c#1") & Key("sk").begins_with("EVT#"),
        FilterExpression=Attr("status").eq("failed"),
        Limit=10,
    )
    scanned = table.scan(Limit=5, ReturnConsumedCapacity="INDEXES")
    got = client.batch_get_item(RequestItems={table.name: {"Keys": [{"pk": "c#1", "sk": "META"}]}})
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": table.name, "Item": {"pk": "c#2", "sk": "META"}}}],
        ReturnConsumedCapacity="TOTAL",
    )
    with pytest.raises(ClientError) as refused:
        table.put_item(Item={"pk": "c#1", "sk": "META"}, ConditionExpression="attribute_not_exists(pk)")
    deleted = table.delete_item(Key={"pk": "c#2", "sk": "META"}, ReturnValues="ALL_OLD")
    # THEN boto3 reads back what was written, and every answer is what moto's serializer writes
    assert read == {**item, "count": 7, "price": "12.50"}
    assert "Item" not in missing
    assert updated["Attributes"] == {"count": 7}
    assert [row["status"] for row in page["Items"]] == ["failed"] * 4 and "LastEvaluatedKey" in page
    assert len(scanned["Items"]) == 5
    assert got["Responses"][table.name][0]["payload_z"].value == b"\x00\xff\x10binary"
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert deleted["Attributes"] == {"pk": "c#2", "sk": "META"}
    operations = {operation for operation, _, _ in answers}
    assert {"GetItem", "PutItem", "UpdateItem", "Query", "Scan", "BatchGetItem", "DeleteItem"} <= operations
    assert operations & ITEM_OPERATIONS
    mismatched = [(operation, fast, serializer) for operation, fast, serializer in answers if fast != serializer]
    assert mismatched == []
