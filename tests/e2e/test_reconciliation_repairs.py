"""What else the scheduled checks repair (issue 13): a cancellation whose webhook was lost (the orders sweep), a
Rackbeat webhook that went missing (the self-check), and every dead-letter queue of the template shown to the
operator (`crossdock dlq`, `crossdock status`)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from crossdock.integrations.rackbeat_shopify.reconciliation import ORDER_STREAM, SWEEP_TOPIC
from crossdock.integrations.rackbeat_shopify.self_check import SELF_CHECK_TOPIC
from crossdock.operations.target import target_from_resources
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


@pytest.fixture(autouse=True)
def _webhook_address_published(stack: LocalStack) -> Iterator[None]:
    stack.publish_webhook_address()
    yield


def _sweep_orders(merchant: Any) -> dict[str, Any]:
    """One run of the orders stream, as its schedule invokes the poll function, and what it queued worked off."""
    merchant.stack.aws.clock.advance(3)
    report: dict[str, Any] = merchant.poll(ORDER_STREAM, settle=True)
    return report


def test_a_cancellation_whose_webhook_was_lost_cancels_the_rackbeat_order(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a booked order in Rackbeat, then cancelled in Shopify with its orders/cancelled webhook lost
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    stack.shopify.cancel(merchant.domain, placed["id"])
    assert stack.shopify.lose_pending(merchant.domain) >= 1
    assert not merchant.only_rackbeat_order(placed)["is_cancelled"]
    # WHEN the orders sweep runs
    report = _sweep_orders(merchant)
    # THEN the cancellation went the webhook's way: the Rackbeat order is cancelled, the sweep says why
    assert report["cancellations_enqueued"] == [placed["name"]]
    number = merchant.only_rackbeat_order(placed)["number"]
    assert merchant.only_rackbeat_order(placed)["is_cancelled"]
    (cancelled,) = [e for e in merchant.events() if e["topic"] == "orders/cancelled"]
    assert cancelled["status"] == "done" and f"Rackbeat order {number} cancelled" in cancelled["reason"]
    (sweep,) = [e for e in merchant.events() if e["topic"] == SWEEP_TOPIC]
    assert "1 cancelled order(s) still open in Rackbeat: " + placed["name"] in sweep["reason"]
    # AND the next sweep finds nothing left: Rackbeat shows the order cancelled
    assert _sweep_orders(merchant)["cancellations_enqueued"] == []


def test_the_self_check_re_registers_a_rackbeat_webhook_that_went_missing(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop with stock sync whose Rackbeat stock webhook was deleted in Rackbeat
    merchant = merchant_with(stock_sync={"enabled": True})
    merchant.shop_product("SKU-001", available=3)
    hooks = stack.rackbeat.state(merchant.account).webhooks
    ours = stack.rackbeat_webhook_url(merchant.connection.connection_id)  # the Rackbeat account's address
    registered = len([h for h in hooks.values() if h["url"] == ours])
    (stock_hook,) = [h for h in hooks.values() if h["event"] == "product.stock_changed" and h["url"] == ours]
    merchant.rackbeat_api("DELETE", f"webhooks/{stock_hook['id']}")
    # WHEN the self-check's schedule fires
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    # THEN the webhook is back (once), the repair is recorded, and a stock change reaches the shop through it
    again = [h for h in hooks.values() if h["event"] == "product.stock_changed" and h["url"] == ours]
    assert len(again) == 1 and again[0]["id"] != stock_hook["id"]
    (repaired,) = [e for e in merchant.events() if e["topic"] == SELF_CHECK_TOPIC]
    assert repaired["reason"] == (
        "re-registered Rackbeat webhooks that were missing or switched off: product.stock_changed"
    )
    stack.rackbeat.set_stock(merchant.account, "SKU-001", 42, "L1")
    stack.settle()
    assert merchant.shop_quantities("SKU-001") == [42]
    # AND a second check finds it in place and registers nothing more
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    assert len([e for e in merchant.events() if e["topic"] == SELF_CHECK_TOPIC]) == 1
    assert len([h for h in hooks.values() if h["url"] == ours]) == registered


def test_every_dead_letter_queue_shows_in_dlq_and_status(stack: LocalStack) -> None:
    # GIVEN one failed message in each dead-letter queue the embedded stack made from template.yaml
    dead_letter_ids = sorted(logical_id for logical_id in stack.aws.resources if logical_id.endswith("DeadLetterQueue"))
    assert "PollDeadLetterQueue" in dead_letter_ids  # the reconciliation sweep's failed runs land here
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    for logical_id in dead_letter_ids:
        url = stack.aws.queue_url(logical_id)
        fifo = {"MessageGroupId": "c-1", "MessageDeduplicationId": logical_id} if url.endswith(".fifo") else {}
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"requestContext": {"condition": "RetriesExhausted"}}), **fifo
        )
    resources = {logical_id: physical.ref for logical_id, physical in stack.aws.resources.items()}
    target = target_from_resources(
        resources,
        boto3.resource("dynamodb", region_name=stack.aws.region).Table,
        sqs,
        "the embedded stack",
        poll_seconds=0,
    )
    # WHEN the operator looks with `crossdock dlq show` and `crossdock status`
    shown, status = io.StringIO(), io.StringIO()
    assert operator_cli.run(["dlq", "show", "--json"], target, shown) == 0
    assert operator_cli.run(["status", "--json"], target, status) == 0
    # THEN each of them is there with its message
    expected = {"inbound", "shopify-outbound", "shopbox-outbound", "self-check", "poll"}
    assert len(dead_letter_ids) == len(expected)
    assert {report["queue"]: report["waiting"] for report in json.loads(shown.getvalue())} == dict.fromkeys(expected, 1)
    assert {q["name"]: q["waiting"] for q in json.loads(status.getvalue())["dead_letters"]} == dict.fromkeys(
        expected, 1
    )
    for logical_id in dead_letter_ids:
        sqs.purge_queue(QueueUrl=stack.aws.queue_url(logical_id))
