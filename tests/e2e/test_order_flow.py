"""A Shopify order becomes a processed Rackbeat order, end to end on the embedded stack (issue #2).

Webhooks are signed by the Shopify simulator and go through API Gateway → ingest → SQS → dispatch → Step
Functions → order steps → the Rackbeat simulator over HTTP. Assertions read the simulators' own state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
from crossdock.store import connections
from crossdock_local.stack import LocalStack

SHIPPED = {RackbeatStatus.SHIPPED, RackbeatStatus.INVOICED_AND_SHIPPED}


@pytest.mark.parametrize("target", list(RackbeatStatus))
def test_order_reaches_each_rackbeat_status(stack: LocalStack, merchant_with: Any, target: RackbeatStatus) -> None:
    # GIVEN a connection whose orders go as far as `target`
    merchant = merchant_with(orders={"rackbeat_status": target.value})
    order = merchant.order(0)
    sku = order["line_items"][0]["sku"]
    quantity = sum(line["quantity"] for line in order["line_items"] if line["sku"] == sku)
    stock_before = merchant.stock(sku)
    # WHEN a paid order arrives
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    # THEN exactly one Rackbeat order exists, at the target, with Shopify's total, and stock moved only if shipped
    rackbeat_order = merchant.only_rackbeat_order(placed)
    assert merchant.stage_of(rackbeat_order) == target.value
    assert Decimal(rackbeat_order["total"]) == Decimal(placed["total_price"])
    drawn = stock_before - merchant.stock(sku)
    assert drawn == (quantity if target in SHIPPED else 0)
    done = [e for e in merchant.events() if e["status"] == "done"]
    assert len(done) == 1 and target.value in done[0]["reason"]


def test_customer_is_found_by_email_or_created_with_next_number(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    account = merchant.connection.rackbeat_account_id
    first = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    again = stack.shopify.create_order(merchant.domain, {**merchant.order(1), "email": first["email"]}, paid=True)
    stack.settle()
    customers = stack.rackbeat.state(account).customers
    assert len(customers) == 1  # the second order reused the customer with the same e-mail
    customer = next(iter(customers.values()))
    assert customer["contact_email"] == first["email"].lower()
    assert (customer["currency"], customer["locale"], customer["vat_zone"]) == ("DKK", "da", "domestic")
    assert merchant.only_rackbeat_order(first)["customer_id"] == merchant.only_rackbeat_order(again)["customer_id"]


def test_lines_vat_discounts_shipping_and_employee(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    order = next(
        o
        for o in (merchant.order(i) for i in range(30))
        if o["shipping_lines"] and o["total_discounts"] != "0.00" and float(o["shipping_lines"][0]["price"]) > 0
    )
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    rackbeat_order = merchant.only_rackbeat_order(placed)
    items = [line["item_id"] for line in rackbeat_order["lines"]]
    assert items[: len(placed["line_items"])] == [line["sku"] for line in placed["line_items"]]
    assert "FRAGT" in items
    assert any(Decimal(str(line["discount_percentage"])) > 0 for line in rackbeat_order["lines"])
    assert {Decimal(str(line["vat_percentage"])) for line in rackbeat_order["lines"] if line["item_id"] != "ORE"} == {
        Decimal(25)
    }
    assert rackbeat_order["our_reference_id"] == 1
    assert Decimal(rackbeat_order["total"]) == Decimal(placed["total_price"])


@pytest.mark.parametrize("when", ["created", "paid", "fulfilled", "never"])
def test_transfer_when(stack: LocalStack, merchant_with: Any, when: str) -> None:
    merchant = merchant_with(orders={"transfer_when": when})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=False)
    stack.settle()
    assert len(merchant.rackbeat_orders(placed)) == (1 if when == "created" else 0)
    stack.shopify.mark_paid(merchant.domain, placed["id"])
    stack.settle()
    assert len(merchant.rackbeat_orders(placed)) == (1 if when in ("created", "paid") else 0)
    stack.shopify.fulfill(merchant.domain, placed["id"])
    stack.settle()
    assert len(merchant.rackbeat_orders(placed)) == (0 if when == "never" else 1)
    # every event ended with a status and a reason
    assert all(e["status"] in ("done", "skipped") and e.get("reason") for e in merchant.events())
    if when == "never":
        assert {e["reason"] for e in merchant.events()} == {"orders.transfer_when is 'never'"}


def test_duplicated_and_paid_before_created_deliveries_make_one_order(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True, duplicate=True, paid_first=True)
    stack.settle()
    merchant.only_rackbeat_order(placed)
    statuses = merchant.statuses()
    assert statuses.count("done") == 1
    assert set(statuses) <= {"done", "skipped"}
    # duplicates of one event were dropped at ingest (same event id), so only distinct events were logged
    assert len(statuses) == 2


def test_redelivered_and_shuffled_webhooks_across_many_orders(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.shopify.delivery_faults.duplicate_rate = 0.5
    stack.shopify.delivery_faults.reorder = True
    placed = [stack.shopify.create_order(merchant.domain, merchant.order(i), paid=True) for i in range(12)]
    stack.settle()
    # Named on failure: which event needed attention and why (this test once failed 1 run in 40 without saying).
    failed = [(e["topic"], e.get("failure_class"), e.get("reason")) for e in merchant.events() if e["status"] != "done"]
    failed = [f for f in failed if f[1] is not None]
    assert failed == []
    for order in placed:
        assert Decimal(merchant.only_rackbeat_order(order)["total"]) == Decimal(order["total_price"])


def test_rackbeat_throttling_is_retried_within_the_limit(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    throttled_before = stack.rackbeat.calls_by_status.get(429, 0)
    limit = stack.rackbeat.rate_limit_per_minute
    stack.rackbeat.rate_limit_per_minute = 20
    try:
        placed = [stack.shopify.create_order(merchant.domain, merchant.order(i), paid=True) for i in range(6)]
        stack.settle()
    finally:
        stack.rackbeat.rate_limit_per_minute = limit
    assert stack.rackbeat.calls_by_status.get(429, 0) > throttled_before
    for order in placed:
        merchant.only_rackbeat_order(order)
    statuses = merchant.statuses()
    assert statuses.count("done") == 6 and "needs_attention" not in statuses


def test_rackbeat_server_errors_are_retried(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    errors_before = sum(n for status, n in stack.rackbeat.calls_by_status.items() if status >= 500)
    stack.rackbeat.faults.server_error_rate = 0.3
    placed = [stack.shopify.create_order(merchant.domain, merchant.order(i), paid=True) for i in range(6)]
    stack.settle()
    assert sum(n for status, n in stack.rackbeat.calls_by_status.items() if status >= 500) > errors_before
    for order in placed:
        assert merchant.stage_of(merchant.only_rackbeat_order(order)) == "invoiced_and_shipped"


def test_lost_responses_after_commit_never_duplicate(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN Rackbeat commits a third of all writes but the response never arrives
    merchant = merchant_with()
    stack.rackbeat.faults.drop_response_rate = 0.35
    placed = [stack.shopify.create_order(merchant.domain, merchant.order(i), paid=True) for i in range(8)]
    stack.settle()
    state = stack.rackbeat.state(merchant.connection.rackbeat_account_id)
    # THEN each order exists once, shipped once, invoiced once, and no customer was created twice
    for order in placed:
        rackbeat_order = merchant.only_rackbeat_order(order)
        assert merchant.stage_of(rackbeat_order) == "invoiced_and_shipped"
        number = rackbeat_order["number"]
        assert sum(1 for s in state.shipments.values() if s["order_number"] == number) == 1
        assert sum(1 for i in state.invoices.values() if i["order_number"] == number) == 1
    emails = [c["contact_email"] for c in state.customers.values()]
    assert len(emails) == len(set(emails))


def test_rackbeat_down_for_good_ends_needs_attention(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.rackbeat.faults.server_error_rate = 1.0
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    assert merchant.rackbeat_orders(placed) == []
    # The webhook's own event (the reconciliation sweep, running as the clock passes, may have tried again since)
    webhooks = [e for e in merchant.events() if e["source"] == "shopify" and e["status"] != "skipped"]
    (event,) = webhooks
    assert event["status"] == "needs_attention"
    assert event["failure_class"] == "target_down"
    assert "Rackbeat answered 5" in event["reason"]


def test_unknown_item_needs_attention_with_the_field(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    order = merchant.order(0)
    order["line_items"][0]["sku"] = "NO-SUCH-ITEM"
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    assert merchant.rackbeat_orders(placed) == []
    (event,) = [e for e in merchant.events() if e["status"] == "needs_attention"]
    assert event["failure_class"] == "unmapped"
    assert "lines.0.item_id" in event["reason"] and "NO-SUCH-ITEM" in event["reason"]


def test_replaying_every_stage_changes_nothing(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order processed to invoiced_and_shipped
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    state = stack.rackbeat.state(merchant.connection.rackbeat_account_id)
    before = (len(state.customers), len(state.orders), len(state.shipments), len(state.invoices))
    (done,) = [e for e in merchant.events() if e["status"] == "done"]
    context = {
        "connection_id": merchant.connection.connection_id,
        "event_sk": done["sk"],
        "order_id": str(placed["id"]),
        "order_name": placed["name"],
        "target": "invoiced_and_shipped",
        "settings": _settings(merchant),
    }
    # WHEN each stage runs again, as after a crash just before its result was recorded
    for stage in ("transfer", "book", "ship", "invoice"):
        answer = stack.aws.invoke("OrderStepsFunction", {"stage": stage, "order": context})
        assert answer.error is None, answer.payload
        context = answer.payload
    # THEN Rackbeat holds exactly what it held
    assert (len(state.customers), len(state.orders), len(state.shipments), len(state.invoices)) == before
    assert context["rackbeat_order"] == merchant.only_rackbeat_order(placed)["number"]


def _settings(merchant: Any) -> dict[str, Any]:
    connection = connections.load_connection(merchant.stack.table, merchant.connection.connection_id)
    assert connection is not None
    return connection.settings.model_dump(mode="json")
