"""The embedded stack projects top-level scalar attributes straight from the item (`aws/dynamodb_projection.py`);
every projection must come out as moto's own `Item.project` makes it, through the API as well."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from crossdock_local.aws.dynamodb_projection import projecting_scalars_directly
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
MOTOS_OWN = Item.project  # read at import, before any stack patches it
PATCHED = projecting_scalars_directly(MOTOS_OWN)

ITEM = Item(
    hash_key=DynamoType({"S": "CONN#c-1"}),
    range_key=DynamoType({"S": "META"}),
    attrs={
        "pk": {"S": "CONN#c-1"},
        "sk": {"S": "META"},
        "state": {"S": "active"},
        "settings_version": {"N": "3"},
        "price": {"N": "12.50"},
        "big": {"N": "1E+3"},
        "padded": {"N": "007"},
        "negative": {"N": "-0.0"},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "empty": {"S": ""},
        "settings": {"M": {"orders": {"M": {"target": {"S": "booked"}, "lines": {"L": [{"N": "1"}, {"S": "x"}]}}}}},
        "skus": {"SS": ["B", "A", "C"]},
        "blob": {"B": "AAEC"},
        "lines": {"L": [{"M": {"sku": {"S": "A"}}}, {"N": "2"}]},
    },
)


@pytest.mark.parametrize(
    "paths",
    [
        [["state"], ["settings_version"], ["stored_as"]],  # what load_connection asks, one of them missing
        [["pk"]],  # connection_exists
        [["pk"], ["sk"]],  # a keys-only index
        [["price"], ["big"], ["padded"], ["negative"]],  # numbers moto's round trip normalises
        [["flag"], ["nothing"], ["empty"]],
        [["state"], ["state"]],
        [["missing"]],
        [],
        [["settings"]],  # a map: moto's own
        [["settings", "orders", "target"]],  # a nested path: moto's own
        [["lines[0]"]],  # a list element: moto's own
        [["skus"]],  # a set: moto's own
        [["blob"]],  # binary: moto's own
        [["state"], ["settings"]],  # one path moto must project: all of them moto's
    ],
)
def test_a_projection_is_the_one_moto_makes(paths: list[list[str]]) -> None:
    """GIVEN an item holding every kind of value, WHEN a projection of these paths is made, THEN it is the item moto's
    own projection gives, attribute for attribute and in the same order."""
    ours, motos = PATCHED(ITEM, paths), MOTOS_OWN(ITEM, paths)
    assert ours.to_json() == motos.to_json()
    assert list(ours.to_json()["Attributes"]) == list(motos.to_json()["Attributes"])
    assert (ours.hash_key, ours.range_key) == (motos.hash_key, motos.range_key)


def _reads(table: Any) -> list[Any]:
    return [
        table.get_item(
            Key={"pk": "P#1", "sk": "-"},
            ProjectionExpression="#s, settings_version, stored_as",
            ExpressionAttributeNames={"#s": "state"},
        ),
        table.get_item(Key={"pk": "P#1", "sk": "-"}, ProjectionExpression="pk"),
        table.get_item(Key={"pk": "P#1", "sk": "-"}, ProjectionExpression="settings.orders"),
        table.query(KeyConditionExpression=Key("pk").eq("P#1"), ProjectionExpression="sk, price"),
    ]


def test_the_api_answers_projections_as_moto_does() -> None:
    """GIVEN the embedded stack and an item with scalars and a map, WHEN it is read with projections (a GetItem of
    three names, of the key, of a nested path, and a Query), THEN the answers are those moto gives unpatched."""
    with EmbeddedAws(template=APP) as aws:
        assert Item.project is not MOTOS_OWN  # the patch is in place
        table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name("Table"))
        table.put_item(
            Item={
                "pk": "P#1",
                "sk": "-",
                "state": "active",
                "settings_version": 2,
                "price": "12.50",
                "settings": {"orders": {"n": 1}},
            }
        )
        ours = _reads(table)
        with mock.patch.object(Item, "project", MOTOS_OWN):
            motos = _reads(table)
    for answer in (*ours, *motos):
        answer.pop("ResponseMetadata")
    assert ours == motos
    assert ours[0]["Item"] == {"state": "active", "settings_version": 2}
