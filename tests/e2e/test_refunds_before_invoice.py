"""Refunds of orders that have no invoice yet (issue 13, item 4), end to end: applied as a careful bookkeeper would.

While the Rackbeat order can still change its lines are reduced (a retry or a duplicate never reduces twice); an
order refunded in full is cancelled; one that can no longer change waits, and is credited once its invoice is
booked (the reconciliation sweep finds it). None of them is `needs_attention` because of the target.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from crossdock.integrations.rackbeat_shopify.reconciliation import ORDER_STREAM
from crossdock.integrations.rackbeat_shopify.refund_waits import CREDIT_TOPIC
from crossdock_local.sims.base import Faults
from crossdock_local.stack import LocalStack


def _refunds_on(target: str) -> dict[str, Any]:
    return {"refunds_as_credit_notes": True, "rackbeat_status": target}


def _product_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in order["line_items"] if line.get("sku")]


def _refund_event(merchant: Any) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in merchant.events() if e["topic"] == "refunds/create"]
    (event,) = found
    return event


def _quantities(rackbeat_order: dict[str, Any]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in rackbeat_order["lines"]:
        found[line["item_id"]] = found.get(line["item_id"], Decimal(0)) + Decimal(str(line["quantity"]))
    return found


def _refunded(refund: dict[str, Any]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund"), Decimal(0))


def _order_with_two_units(merchant: Any) -> dict[str, Any]:
    return next(o for o in (merchant.order(i) for i in range(40)) if any(li["quantity"] >= 2 for li in o["line_items"]))


def test_a_refund_of_a_booked_order_reduces_its_lines_once_whatever_the_lost_answers(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN an order booked in Rackbeat (target `booked`: no invoice will come)
    merchant = merchant_with(orders=_refunds_on("booked"))
    placed = stack.shopify.create_order(merchant.domain, _order_with_two_units(merchant), paid=True)
    stack.settle()
    before = copy.deepcopy(merchant.only_rackbeat_order(placed))  # the simulator's record changes in place
    line = next(li for li in _product_lines(placed) if li["quantity"] >= 2)
    # WHEN one unit is refunded, the webhook delivered twice, and every Rackbeat write loses its answer
    stack.rackbeat.faults = Faults(drop_response_rate=1.0, seed=3)
    refund = stack.shopify.refund(merchant.domain, placed["id"], [(line["id"], 1)], duplicate=True)
    stack.settle()
    stack.rackbeat.faults = Faults()
    # THEN the order's line lost exactly that unit, once; it is booked again; no credit note was made
    after = merchant.only_rackbeat_order(placed)
    expected = _quantities(before)
    expected[line["sku"]] -= 1
    assert _quantities(after) == expected
    assert after["is_booked"] and not after["is_cancelled"]
    assert after["note"].count(f"Shopify refund {refund['id']} of {placed['name']}") == 1
    assert list(stack.rackbeat.credit_notes(merchant.account)) == []
    # AND the order's total went down by what Shopify refunded (to the cent of VAT rounding)
    assert abs(Decimal(str(before["total"])) - Decimal(str(after["total"])) - _refunded(refund)) <= Decimal("0.01")
    event = _refund_event(merchant)
    assert event["status"] == "done" and "its lines were reduced" in event["reason"], event["reason"]
    assert f"1 × {line['sku']} taken off" in event["reason"]


def test_a_draft_refunded_in_full_is_cancelled(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order that stays a draft in Rackbeat
    merchant = merchant_with(orders=_refunds_on("draft"))
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    # WHEN every line and the shipping are refunded
    lines = [(line["id"], line["quantity"]) for line in _product_lines(placed)]
    stack.shopify.refund(merchant.domain, placed["id"], lines, shipping=True)
    stack.settle()
    # THEN the Rackbeat order is cancelled, its lines kept as they were for the record, and the refund is done
    order = merchant.only_rackbeat_order(placed)
    assert order["is_cancelled"] and not order["is_booked"]
    assert "refunded in full, order cancelled" in order["note"]
    event = _refund_event(merchant)
    assert event["status"] == "done" and "so it was cancelled" in event["reason"]


def _sweep_orders(merchant: Any) -> dict[str, Any]:
    """One run of the orders sweep as its schedule invokes the poll function, and what it queued worked off."""
    merchant.stack.aws.clock.advance(3)
    report: dict[str, Any] = merchant.poll(ORDER_STREAM, settle=True)
    return report


def test_a_refund_of_a_shipped_order_waits_and_is_credited_once_when_its_invoice_is_booked(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN an order shipped in Rackbeat without an invoice (target `shipped`)
    merchant = merchant_with(orders=_refunds_on("shipped"))
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    shipped = copy.deepcopy(merchant.only_rackbeat_order(placed))
    line = _product_lines(placed)[0]
    # WHEN a unit is refunded
    refund = stack.shopify.refund(merchant.domain, placed["id"], [(line["id"], 1)])
    stack.settle()
    # THEN nothing changes in Rackbeat and the refund's event stays open, saying what it waits for
    assert list(stack.rackbeat.credit_notes(merchant.account)) == []
    assert _quantities(merchant.only_rackbeat_order(placed)) == _quantities(shipped)
    waiting = _refund_event(merchant)
    assert waiting["status"] == "received"
    assert f"Rackbeat order {shipped['number']} is shipped and no booked invoice" in waiting["reason"]
    # AND a sweep before the invoice exists sends nothing for it
    assert _sweep_orders(merchant)["credits_enqueued"] == []
    # WHEN the merchant invoices the order in Rackbeat, and the sweep runs (twice)
    merchant.rackbeat_api("POST", f"orders/{shipped['number']}/convert-to-invoice", params={"book": "true"})
    first = _sweep_orders(merchant)
    second = _sweep_orders(merchant)
    # THEN exactly one booked credit note on that invoice credits the refund, and the refund's event is done
    assert first["credits_enqueued"] == [str(refund["id"])]
    assert second["credits_enqueued"] == []
    (note,) = stack.rackbeat.credit_notes(merchant.account)
    invoice = merchant.only_rackbeat_order(placed)["invoice_number"]
    assert note["is_booked"] and note["invoice_number"] == invoice
    assert Decimal(str(note["total"])) == _refunded(refund)
    done = _refund_event(merchant)
    assert done["status"] == "done" and f"credit note {note['number']}" in done["reason"]
    (credit,) = [e for e in merchant.events() if e["topic"] == CREDIT_TOPIC]
    assert credit["status"] == "done"
