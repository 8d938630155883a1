"""The embedded stack finds a Query's items by bisecting the partition's sort keys (`aws_dynamodb_tables`); every
answer must be the one moto gives without it, through writes, overwrites, deletes and pages."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from crossdock_local.aws.dynamodb_tables import SortedPartition
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
PREFIXES = ("EVT#", "MAP#order#", "STOCKDIRTY#", "CUR#", "META", "SETTINGS#", "ÆØÅ#", "evt#")


def _workload(table: Any) -> list[Any]:
    """Writes a partition in random order, changes it, and pages through it with every key condition; returns what
    each query answered."""
    rng = random.Random(7)
    keys = [f"{prefix}{n:04d}" for prefix in PREFIXES for n in range(25)]
    rng.shuffle(keys)
    for sk in keys:
        table.put_item(Item={"pk": "CONN#a", "sk": sk, "n": rng.randrange(100), "pad": "x" * rng.randrange(40_000)})
        table.put_item(Item={"pk": "CONN#b", "sk": sk})
    for sk in keys[::3]:
        table.delete_item(Key={"pk": "CONN#a", "sk": sk})
    for sk in keys[1::5]:
        table.put_item(Item={"pk": "CONN#a", "sk": sk, "n": -1})  # overwritten, not added
    conditions = [
        Key("pk").eq("CONN#a"),
        Key("pk").eq("CONN#a") & Key("sk").begins_with("EVT#"),
        Key("pk").eq("CONN#a") & Key("sk").begins_with("MAP#"),
        Key("pk").eq("CONN#a") & Key("sk").begins_with("ÆØÅ#"),
        Key("pk").eq("CONN#a") & Key("sk").begins_with("ZZZ"),
        Key("pk").eq("CONN#a") & Key("sk").eq("META0003"),
        Key("pk").eq("CONN#a") & Key("sk").lt("EVT#0030"),
        Key("pk").eq("CONN#a") & Key("sk").lte("EVT#0030"),
        Key("pk").eq("CONN#a") & Key("sk").gt("STOCKDIRTY#0010"),
        Key("pk").eq("CONN#a") & Key("sk").gte("STOCKDIRTY#0010"),
        Key("pk").eq("CONN#a") & Key("sk").between("CUR#0005", "MAP#order#0040"),
        Key("pk").eq("CONN#nobody"),
    ]
    answers = []
    for condition in conditions:
        for forward in (True, False):
            for limit in (None, 25):
                request: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": forward}
                if limit:
                    request["Limit"] = limit
                    request["FilterExpression"] = Attr("n").gte(0)
                while True:
                    page = table.query(**request)
                    answers.append(([item["sk"] for item in page["Items"]], page["Count"], page["ScannedCount"]))
                    if "LastEvaluatedKey" not in page:
                        break
                    answers.append(page["LastEvaluatedKey"])
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return answers


def test_queries_answer_as_moto_does_and_partitions_keep_their_keys_in_order() -> None:
    # GIVEN the same workload on plain moto and on the embedded stack
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="eu-west-1")
        plain = dynamodb.create_table(
            TableName="plain",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        expected = _workload(plain)
    with EmbeddedAws(template=APP) as aws:
        name = aws.table_name("Table")
        answered = _workload(boto3.resource("dynamodb").Table(name))
        partition = dynamodb_backends[aws.account_id][aws.region].get_table(name).items
        partitions = list(partition.values())
    # THEN every page, count and start key is moto's, and each partition holds its sort keys in order
    assert len(expected) > 80  # pages, counts and start keys
    assert answered == expected
    assert all(isinstance(each, SortedPartition) for each in partitions)
    for each in partitions:
        assert [key.cast_value for key in each.ordered] == sorted(key.cast_value for key in each)
    copied = copy.deepcopy(partitions[0])
    assert copied.ordered == partitions[0].ordered and dict(copied) == dict(partitions[0])
