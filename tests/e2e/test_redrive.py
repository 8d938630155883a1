"""Looking at an order again (SPEC §5: failures are retryable; reconciliation repairs what was missed).

A redrive is an inbound message with `"redrive": "operator" | "reconciliation"`. It may start a new attempt of an
order workflow that ended without a result — never a second one while one runs, never once the order is in Rackbeat.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from crossdock.store import events
from crossdock_local.stack import LocalStack


def redrive(stack: LocalStack, merchant: Any, order: dict[str, Any], origin: str, topic: str = "orders/paid") -> None:
    """What the sweep or the operator CLI puts on the inbound queue: the order's payload, marked as a redrive."""
    message = {
        "source": "shopify",
        "connection_id": merchant.connection.connection_id,
        "event_id": f"redrive-{uuid.uuid4()}",
        "topic": topic,
        "received_at": events.received_stamp(stack.aws.clock.time()),
        "payload": json.dumps(order),
        "redrive": origin,
    }
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    sqs.send_message(QueueUrl=stack.aws.queue_url("InboundQueue"), MessageBody=json.dumps(message))


def latest_event(merchant: Any) -> dict[str, Any]:
    return max(merchant.events(), key=lambda e: e["sk"])


def test_after_an_outage_a_redrive_transfers_the_order_once(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order that ended needs_attention because Rackbeat was down
    merchant = merchant_with()
    stack.rackbeat.faults.server_error_rate = 1.0
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    assert merchant.rackbeat_orders(placed) == []
    # WHEN Rackbeat is back and the sweep looks at the order again, twice
    stack.rackbeat.faults.server_error_rate = 0.0
    redrive(stack, merchant, placed, "reconciliation")
    stack.settle()
    retried = latest_event(merchant)
    redrive(stack, merchant, placed, "reconciliation")
    stack.settle()
    # THEN the second attempt transferred it, and the repeat found it done
    assert retried["status"] == "done"
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    again = latest_event(merchant)
    assert again["status"] == "skipped" and "is already Rackbeat order" in again["reason"]


def test_the_sweep_leaves_a_lasting_failure_to_the_operator(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order that failed because a line's SKU is unknown in Rackbeat
    merchant = merchant_with()
    order = merchant.order(0)
    order["line_items"][0]["sku"] = "NOT-YET-IN-RACKBEAT"
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    (failed,) = [e for e in merchant.events() if e["status"] == "needs_attention"]
    assert failed["failure_class"] == "unmapped"
    # WHEN the sweep looks at it again: it is left alone
    redrive(stack, merchant, placed, "reconciliation")
    stack.settle()
    left = latest_event(merchant)
    assert left["status"] == "skipped" and "last attempt failed (unmapped)" in left["reason"]
    # WHEN the merchant creates the item and an operator retries
    stack.seed_items(merchant.account, ["NOT-YET-IN-RACKBEAT"])
    redrive(stack, merchant, placed, "operator")
    stack.settle()
    # THEN the order is transferred exactly once
    assert latest_event(merchant)["status"] == "done"
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"


def test_a_redrive_of_a_running_order_is_refused(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    # The webhook's workflow and the redrive are dispatched together: one of them starts, the other is refused
    redrive(stack, merchant, placed, "operator")
    stack.settle()
    merchant.only_rackbeat_order(placed)
    statuses = merchant.statuses()
    assert statuses.count("done") == 1 and "needs_attention" not in statuses


def test_a_redrive_that_names_no_known_origin_is_a_bug(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    redrive(stack, merchant, placed, "someone")
    stack.settle()
    event = latest_event(merchant)
    assert event["status"] == "needs_attention" and event["failure_class"] == "bug"
    assert "redrive" in event["reason"]
