"""The cost model's arithmetic: DynamoDB item sizes and request units, SQS 64 KB chunks, prices from the dated table,
Express billing and retry waits; and the counter metering those units on moto as DynamoDB and SQS bill them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from bench_modules import bench_module

from crossdock_local.aws.usage import (
    ApiCallCounter,
    attribute_size,
    item_size,
    number_size,
    read_units,
    sqs_billed_requests,
    sqs_message_bytes,
    write_units,
)

BENCH = Path(__file__).resolve().parents[2] / "bench"


cost_model = bench_module("cost_model")


# -- DynamoDB sizes and units ------------------------------------------------------------------------------------


def test_item_size_counts_names_and_values_by_type() -> None:
    item = {
        "pk": {"S": "CONN#1"},  # 2 + 6
        "qty": {"N": "12345"},  # 3 + (3 digit pairs + 1)
        "raw": {"B": "AAEC"},  # 3 + 3 raw bytes (base64 on the wire)
        "ok": {"BOOL": True},  # 2 + 1
        "none": {"NULL": True},  # 4 + 1
        "æ": {"S": "ø"},  # 2 + 2 (UTF-8 bytes)
    }

    assert item_size(item) == 8 + 7 + 6 + 3 + 5 + 4


def test_lists_and_maps_cost_3_bytes_plus_1_per_element() -> None:
    assert attribute_size({"L": [{"S": "xy"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert attribute_size({"M": {"k": {"S": "v"}}}) == 3 + (1 + 1 + 1)
    assert attribute_size({"M": {}}) == 3
    assert attribute_size({"SS": ["a", "bc"]}) == 3


def test_number_size_ignores_leading_and_trailing_zeros() -> None:
    assert number_size("1000") == 2  # one significant digit
    assert number_size("0.00100") == 2
    assert number_size("-123.45") == 4  # five digits: three pairs, plus one
    assert number_size("0") == 2


def test_a_malformed_value_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not a DynamoDB number: 'abc'"):
        number_size("abc")
    with pytest.raises(ValueError, match="unknown DynamoDB attribute type 'X'"):
        attribute_size({"X": "1"})


def test_write_units_round_up_per_kilobyte_at_least_one() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(13_743) == 14
    assert write_units(1025, transactional=True) == 4


def test_read_units_round_up_per_4_kilobytes_and_halve_for_eventual_consistency() -> None:
    assert read_units(0, consistent=True) == 1.0
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(4097, consistent=False) == 1.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(8192, consistent=True, transactional=True) == 4.0


# -- SQS chunks ----------------------------------------------------------------------------------------------------


def test_every_64_kb_chunk_of_a_payload_is_a_request() -> None:
    assert sqs_billed_requests(0) == 1
    assert sqs_billed_requests(64 * 1024) == 1
    assert sqs_billed_requests(64 * 1024 + 1) == 2
    assert sqs_billed_requests(256 * 1024) == 4


def test_message_payload_counts_body_and_attributes() -> None:
    attributes = {"topic": {"DataType": "String", "StringValue": "orders/paid"}, "b": {"DataType": "Binary"}}
    attributes["b"]["BinaryValue"] = b"\x00\x01"

    assert sqs_message_bytes("høj", attributes) == 4 + (5 + 6 + 11) + (1 + 6 + 2)


# -- the price table -----------------------------------------------------------------------------------------------


def test_the_repository_price_table_is_complete_and_dated() -> None:
    prices = cost_model.PriceTable.load()

    assert prices.region == "eu-west-1"
    for price in prices.prices.values():
        assert price.source.startswith("https://"), price.key
        assert price.taken == prices.looked_up
    standard = prices["stepfunctions_standard_transitions"]
    assert standard.eu_west_1 and standard.cost(1000) == Decimal("0.025")


def test_units_per_order_become_dollars_per_1000_orders() -> None:
    prices = cost_model.PriceTable.load()
    usage = cost_model.Usage(orders=200, state_transitions=2000, dynamodb_write_units=27_000, kms_requests=60)

    lines = {(line.service, line.item): line for line in cost_model.cost_lines(usage, prices)}

    transitions = lines[("Step Functions", "Standard state transitions")]
    assert transitions.per_order == 10
    assert transitions.per_1000_orders == Decimal("0.25")
    assert lines[("DynamoDB", "write request units")].per_1000_orders == Decimal("0.084375")
    assert lines[("KMS", "requests")].per_1000_orders == Decimal("0.0009")
    assert cost_model.total_per_1000_orders(list(lines.values())) == Decimal("0.335275")


def test_logs_are_stored_for_the_retention_of_their_log_groups() -> None:
    prices = cost_model.PriceTable.load()
    usage = cost_model.Usage(orders=1, log_bytes=1024**3, log_retention_months=2.0)

    lines = {line.price.key: line for line in cost_model.cost_lines(usage, prices)}

    assert lines["logs_ingestion_gb"].per_order == 1.0
    assert lines["logs_storage_gb_month"].per_order == 2.0
    assert lines["logs_storage_gb_month"].per_1000_orders == Decimal("60")  # 2,000 GB-months at $0.03


def test_a_line_without_a_price_is_listed_not_guessed(tmp_path: Path) -> None:
    table = _table(tmp_path, usd=None)
    usage = cost_model.Usage(orders=10, dynamodb_stored_bytes=10 * 1024**3)

    lines = [line for line in cost_model.cost_lines(usage, table) if line.price.key == "dynamodb_storage_gb_month"]

    assert lines[0].per_order == 1.0
    assert lines[0].per_1000_orders is None
    assert cost_model.unpriced(lines) == lines
    assert cost_model.total_per_1000_orders(lines) == Decimal(0)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"usd": "-1"}, r"prices\.dynamodb_storage_gb_month\.usd: '-1' is not a price"),
        ({"usd": "cheap"}, r"\.usd: 'cheap' is not a number"),
        ({"per": 0}, r"\.per: 0 must be a positive whole number"),
        ({"eu_west_1": "yes"}, r"\.eu_west_1: must be true or false"),
        ({"source": None, "drop": "source"}, r"missing field 'source'"),
    ],
)
def test_a_bad_price_entry_is_refused_naming_the_field(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    with pytest.raises(cost_model.PriceTableError, match=message):
        _table(tmp_path, **entry)


def test_usage_refuses_zero_orders() -> None:
    with pytest.raises(ValueError, match="orders: 0 must be positive"):
        cost_model.Usage(orders=0)


def _table(tmp_path: Path, drop: str | None = None, **overrides: Any) -> Any:
    """The repository's table with one entry changed, written to a file and loaded."""
    document = json.loads((BENCH / "prices_eu_west_1.json").read_text())
    entry = document["prices"]["dynamodb_storage_gb_month"]
    entry.update(overrides)
    if drop:
        del entry[drop]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document))
    return cost_model.PriceTable.load(path)


# -- Express and retries -------------------------------------------------------------------------------------------


def test_express_bills_duration_in_100_ms_steps_and_memory_in_64_mb_chunks() -> None:
    prices = cost_model.PriceTable.load()
    request = Decimal("0.000001")
    per_gb_second = Decimal("0.00001667")

    assert cost_model.express_execution_usd(0.05, 64, prices) == request + Decimal("0.1") * Decimal("0.0625") * (
        per_gb_second
    )
    assert cost_model.express_execution_usd(1.01, 100, prices) == request + Decimal("1.1") * Decimal("0.125") * (
        per_gb_second
    )


def test_retry_waits_follow_the_backoff_up_to_its_cap() -> None:
    definition = {
        "States": {
            "Book": {
                "Type": "Task",
                "Retry": [
                    {
                        "ErrorEquals": ["RateLimited"],
                        "IntervalSeconds": 10,
                        "BackoffRate": 1.5,
                        "MaxAttempts": 10,
                        "MaxDelaySeconds": 60,
                        "JitterStrategy": "FULL",
                    },
                    {"ErrorEquals": ["Lambda.ServiceException"]},
                ],
            }
        }
    }

    rate_limited, lambda_errors = cost_model.retry_waits(definition)

    assert rate_limited.longest_seconds == pytest.approx(10 + 15 + 22.5 + 33.75 + 50.625 + 5 * 60)
    assert rate_limited.expected_seconds == pytest.approx(rate_limited.longest_seconds / 2)
    assert (lambda_errors.attempts, lambda_errors.longest_seconds) == (3, 1 + 2 + 4)  # ASL's defaults


# -- the counter on moto -------------------------------------------------------------------------------------------


@pytest.fixture
def counter() -> Iterator[ApiCallCounter]:
    with moto.mock_aws():
        metering = ApiCallCounter()
        metering.meter_dynamodb = True
        metering.install()
        try:
            yield metering
        finally:
            metering.uninstall()


def _create_table(name: str, index: bool = False) -> Any:
    client = boto3.client("dynamodb", region_name="eu-west-1")
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    }
    if index:
        request["AttributeDefinitions"].append({"AttributeName": "open", "AttributeType": "S"})
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "open",
                "KeySchema": [{"AttributeName": "open", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    client.create_table(**request)
    return boto3.resource("dynamodb", region_name="eu-west-1").Table(name)


def _units(counter: ApiCallCounter, table: str) -> tuple[float, float]:
    units = counter.dynamodb[table]
    return units.read_units, units.write_units


def test_writes_are_metered_by_the_larger_item_image(counter: ApiCallCounter) -> None:
    table = _create_table("t")
    item = {"pk": "a", "sk": "1", "payload": "x" * 1500}  # 1,510 bytes: 2 units
    table.put_item(Item=item)
    assert _units(counter, "t") == (0.0, 2.0)

    table.update_item(
        Key={"pk": "a", "sk": "1"}, UpdateExpression="SET grown = :g", ExpressionAttributeValues={":g": "y" * 1600}
    )
    assert _units(counter, "t") == (0.0, 2.0 + 4.0)  # 3,118 bytes after

    table.update_item(
        Key={"pk": "a", "sk": "1"}, UpdateExpression="SET s = :s", ExpressionAttributeValues={":s": "done"}
    )
    assert _units(counter, "t") == (0.0, 6.0 + 4.0)  # a small change rewrites the whole (large) item

    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "a", "sk": "1"}, ConditionExpression="attribute_not_exists(pk)")
    assert _units(counter, "t") == (0.0, 10.0 + 4.0)  # the refused put still read the existing item

    table.delete_item(Key={"pk": "nothing", "sk": "here"})
    assert _units(counter, "t") == (0.0, 14.0 + 1.0)


def test_reads_are_metered_by_what_they_read_not_what_they_return(counter: ApiCallCounter) -> None:
    table = _create_table("t")
    with table.batch_writer() as batch:
        for n in range(3):
            batch.put_item(Item={"pk": "a", "sk": str(n), "payload": "x" * 3000})
    writes = counter.dynamodb["t"].write_units
    assert writes == 9.0  # three items of ~3 KB, each rounded on its own

    table.get_item(Key={"pk": "a", "sk": "0"}, ProjectionExpression="pk")
    table.get_item(Key={"pk": "a", "sk": "0"}, ConsistentRead=True)
    assert counter.dynamodb["t"].read_units == 0.5 + 1.0

    found = table.query(
        KeyConditionExpression="pk = :a",
        FilterExpression="begins_with(payload, :no)",
        ExpressionAttributeValues={":a": "a", ":no": "nope"},
    )
    assert found["Items"] == []
    assert counter.dynamodb["t"].read_units == 1.5 + 1.5  # 9 KB read: 3 units of 4 KB, eventually consistent


def test_transactions_pay_double_and_index_writes_are_added(counter: ApiCallCounter) -> None:
    table = _create_table("t", index=True)
    table.meta.client.transact_write_items(  # the resource's client: plain values, wire form underneath
        TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": "a", "sk": "1", "open": "yes"}}}]
    )
    # 2 for the transactional put, 2 for its entry in the index (the item has the index's key)
    assert _units(counter, "t") == (0.0, 4.0)

    table.put_item(Item={"pk": "b", "sk": "1"})  # not in the index
    assert _units(counter, "t") == (0.0, 5.0)


def test_sqs_requests_are_billed_by_64_kb_chunks_and_empty_receives_kept_apart(counter: ApiCallCounter) -> None:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="inbound")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 100_000)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)

    queue = counter.sqs["standard"]
    assert queue.billed == {"CreateQueue": 1, "SendMessage": 2, "ReceiveMessage": 2}
    assert queue.empty_receives == 1


def test_write_units_are_broken_down_by_item_kind_and_index_change(counter: ApiCallCounter) -> None:
    # GIVEN a table with a sparse index
    table = _create_table("t", index=True)

    # WHEN an event-like item enters the index, leaves it, a conditional put is refused, and a marker is written
    table.put_item(Item={"pk": "CONN#c", "sk": "EVT#1", "open": "yes", "payload": "x" * 1500})
    table.update_item(
        Key={"pk": "CONN#c", "sk": "EVT#1"}, UpdateExpression="REMOVE #o", ExpressionAttributeNames={"#o": "open"}
    )
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "CONN#c", "sk": "EVT#1"}, ConditionExpression="attribute_not_exists(pk)")
    table.put_item(Item={"pk": "DLV#shopify#9", "sk": "-"})

    # THEN each write's units are under its operation and item kind (the sort key's prefix, else the partition
    # key's), the index's own writes apart, and they add up to the table's write units
    kinds = counter.dynamodb["t"].writes_by_kind
    assert kinds == {
        "Put EVT": 2.0,
        "GSI open EVT (added)": 1.0,
        "Update EVT": 2.0,
        "GSI open EVT (removed)": 1.0,
        "Put EVT (condition failed)": 2.0,
        "Put DLV": 1.0,
    }
    assert sum(kinds.values()) == counter.dynamodb["t"].write_units
