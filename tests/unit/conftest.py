"""Fixtures for the unit tests that need DynamoDB (moto, with the table as template.yaml defines it), and set-up
the shared simulator helpers need."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest

from crossdock_local.aws.template import load_template

# rackbeat_api's helpers assert on status codes; rewriting them keeps pytest's detailed report when one fails.
pytest.register_assert_rewrite("rackbeat_api")

TABLE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]["Table"]["Properties"]


@pytest.fixture
def table() -> Iterator[Any]:
    """The table with the keys and indexes template.yaml gives it, in moto."""
    with moto.mock_aws():
        yield boto3.resource("dynamodb", region_name="eu-west-1").create_table(
            TableName="crossdock",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=TABLE["AttributeDefinitions"],
            KeySchema=TABLE["KeySchema"],
            GlobalSecondaryIndexes=TABLE["GlobalSecondaryIndexes"],
        )
