"""`orders/cancelled` cancels or flags the Rackbeat order depending on how far it got (issue #4), end to end."""

from __future__ import annotations

from typing import Any

from crossdock_local.stack import LocalStack


def _cancel_event(merchant: Any) -> dict[str, Any]:
    (event,) = [e for e in merchant.events() if e["topic"] == "orders/cancelled"]
    return event


def test_an_order_cancelled_before_transfer_never_reaches_rackbeat(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an unpaid order (transfer when paid), cancelled in Shopify
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0))
    stack.shopify.cancel(merchant.domain, placed["id"])
    stack.settle()
    event = _cancel_event(merchant)
    assert event["status"] == "done" and "before it reached Rackbeat" in event["reason"]
    # WHEN a late orders/paid for it still arrives
    stack.shopify.mark_paid(merchant.domain, placed["id"])
    stack.settle()
    # THEN nothing is transferred
    assert merchant.rackbeat_orders(placed) == []


def test_a_booked_order_is_cancelled_in_rackbeat(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders={"rackbeat_status": "ready_to_ship"})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    sku = placed["line_items"][0]["sku"]
    reserved = merchant.rackbeat_available(sku, "L1")
    stack.shopify.cancel(merchant.domain, placed["id"])
    stack.settle()
    order = merchant.only_rackbeat_order(placed)
    assert order["is_cancelled"]
    assert merchant.rackbeat_available(sku, "L1") > reserved  # the reservation is released
    event = _cancel_event(merchant)
    assert event["status"] == "done" and f"Rackbeat order {order['number']} cancelled" in event["reason"]


def test_a_shipped_and_invoiced_order_is_flagged_not_cancelled(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()  # invoiced_and_shipped
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    stack.shopify.cancel(merchant.domain, placed["id"])
    stack.settle()
    order = merchant.only_rackbeat_order(placed)
    assert not order["is_cancelled"]
    assert "Cancelled in Shopify" in (order["note"] or "")
    event = _cancel_event(merchant)
    assert event["status"] == "needs_attention"
    assert "already shipped and invoiced" in event["reason"]


def test_paid_then_cancelled_at_once_ends_cancelled_never_half(stack: LocalStack, merchant_with: Any) -> None:
    # Both events are in flight together: whichever workflow runs first, the order must end cancelled (or absent).
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.shopify.cancel(merchant.domain, placed["id"], duplicate=True)
    stack.settle()
    found = merchant.rackbeat_orders(placed)
    assert len(found) <= 1 and all(o["is_cancelled"] for o in found)
    assert _cancel_event(merchant)["status"] == "done"
