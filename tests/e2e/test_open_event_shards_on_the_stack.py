"""`crossdock status` and `events list` over the sharded open-events index (issue 18): failures written by this
release under `<status>#<shard>` and one written by a release before under the bare status are all counted and
listed, on the embedded stack with the operator's commands."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3

from crossdock.operations.target import target_from_resources
from crossdock.store import events, keys
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


def _operator(stack: LocalStack, *argv: str) -> Any:
    resources = {logical_id: physical.ref for logical_id, physical in stack.aws.resources.items()}
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    table = boto3.resource("dynamodb", region_name=stack.aws.region).Table
    target = target_from_resources(resources, table, sqs, "the embedded stack", poll_seconds=0)
    printed = io.StringIO()
    assert operator_cli.run([*argv, "--json"], target, printed) == 0
    return json.loads(printed.getvalue())


def _unmapped_order(merchant: Any, index: int) -> dict[str, Any]:
    order: dict[str, Any] = merchant.order(index)
    order["line_items"][0] = {**order["line_items"][0], "product_exists": False, "variant_id": None}
    return order


def test_status_counts_failures_in_the_shards_and_under_the_bare_key(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN three orders of one shop that need attention (their product is gone), one of them as a release before
    # the shards indexed it (under the bare status)
    merchant = merchant_with()
    for index in range(3):
        stack.shopify.create_order(merchant.domain, _unmapped_order(merchant, index), paid=True)
    stack.settle()
    connection_id = merchant.connection.connection_id
    failed = [event for event in merchant.events() if event["status"] == "needs_attention"]
    assert len(failed) >= 3
    shard = events.open_status(events.EventStatus.NEEDS_ATTENTION, connection_id)
    assert {event[events.OPEN_STATUS] for event in failed} == {shard}
    stack.table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": failed[0]["sk"]},
        UpdateExpression="SET #o = :bare",
        ExpressionAttributeNames={"#o": events.OPEN_STATUS},
        ExpressionAttributeValues={":bare": "needs_attention"},
    )
    # WHEN the operator looks with `crossdock status` and `crossdock events list --status needs_attention`
    status = _operator(stack, "status")
    listed = _operator(stack, "events", "list", "--status", "needs_attention", "--connection", connection_id)
    everywhere = _operator(stack, "events", "list", "--status", "needs_attention")
    # THEN every failure is counted and listed once, the old one too, newest first
    (mine,) = [row for row in status["connections"] if row["connection_id"] == connection_id]
    assert sum(mine["failures"].values()) == len(failed)
    assert sorted(row["event_id"] for row in listed) == sorted(event["event_id"] for event in failed)
    assert [row["received_at"] for row in listed] == sorted((row["received_at"] for row in listed), reverse=True)
    assert {row["event_id"] for row in listed} <= {row["event_id"] for row in everywhere}
