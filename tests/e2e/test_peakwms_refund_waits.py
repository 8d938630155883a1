"""PeakWMS's refund (104) before the pack (102) that captures its order, end to end on the embedded stack (issue 16,
item 2 step 5: "order refunded → a Shopify refund, once"): a `peakwms_shopify` connection made as the merchant makes
it (default messages plus refunds), setup steps `receive_orders` and `messages` run by the guided setup's workflow,
the Shopify and PeakWMS simulators over HTTP. PeakWMS's messages come in no order: its 102 is held back in its
outbox (still on its way, or retried later) while the 104 arrives; the 104 is parked and its event ends skipped,
and the 102 — PeakWMS's own, or the one the `peakwms#orders` sweep sends for a pack whose messages were late — makes
the refund once after capturing. A late 102 after the sweep's puts its tracking on the sweep's fulfilment and
neither fulfils, captures nor refunds again. The order is Shopify's own example
(`../shared/fixtures/shopify/2025-01/order_0.json`, read in place) admitted as a new one."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from test_peakwms_messages import Connected, _connected, _outcomes

from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.peakwms_shopify import refunds_parked
from crossdock.integrations.peakwms_shopify.peakwms_order_stream import GRACE_SECONDS
from crossdock.integrations.peakwms_shopify.peakwms_order_stream import STREAM as PEAKWMS_STREAM
from crossdock_local.stack import LocalStack

PACKED = "102"  # PeakWMS's event number, the topic of its outbox's deliveries


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=18) as running:
        yield running


@pytest.fixture
def template(shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    return dict(shopify_payload("2025-01/order_0.json")["order"])


def _in_stock_order(stack: LocalStack, shop: Connected, template: dict[str, Any]) -> dict[str, Any]:
    """An authorised Shopify order that reached PeakWMS by its webhooks, its goods received: released for picking."""
    order = copy.deepcopy(template)
    order.update(financial_status="pending", cancelled_at=None, cancel_reason=None, refunds=[], fulfillments=[])
    order.update(fulfillment_status=None, closed_at=None)
    for item in order["line_items"]:
        item.update(current_quantity=item["quantity"], fulfillable_quantity=item["quantity"])
    placed: dict[str, Any] = stack.shopify.create_order(shop.domain, order, authorized=True)
    stack.settle()
    for item in placed["line_items"]:
        stack.peakwms.receive_stock(shop.account, str(item["product_id"]), str(item["variant_id"]), 4)
    stack.settle()
    return placed


def _pack_held_back(stack: LocalStack, shop: Connected, order: dict[str, Any], tracking: str) -> list[Any]:
    """PeakWMS packs the order; its 102 is taken out of PeakWMS's outbox before it is sent (returned, to be sent
    later: PeakWMS's retry), the pack's other messages go as usual."""
    stack.peakwms.pack(shop.account, str(order["id"]), tracking_number=tracking)
    held = [d for d in stack.peakwms.outbox.pending(shop.account) if d.topic == PACKED]
    assert len(held) == 1, held
    assert stack.peakwms.outbox.lose(shop.account, {PACKED}) == 1
    return held


def _send_late(stack: LocalStack, held: list[Any]) -> None:
    for delivery in held:
        stack.peakwms.outbox.queue(delivery, faults=False)
    stack.settle()


def _refund_in_peakwms(stack: LocalStack, shop: Connected, order: dict[str, Any]) -> None:
    """PeakWMS refunds 199.00 and one unit of the first line (104)."""
    line = order["line_items"][0]
    stack.peakwms.refund(shop.account, str(order["id"]), "199.00", {str(line["id"]): 1})
    stack.settle()


def _refunds(stack: LocalStack, shop: Connected, order: dict[str, Any]) -> list[dict[str, Any]]:
    return list((stack.shopify.get_order(shop.domain, order["id"]) or {}).get("refunds") or [])


def _poll(stack: LocalStack, shop: Connected, minutes: float) -> dict[str, Any]:
    """A run of `peakwms#orders` `minutes` on (as its schedule would), and everything it queued worked off."""
    stack.aws.clock.advance(minutes * 60)
    result = stack.aws.invoke("PollFunction", poll_event(shop.connection_id, PEAKWMS_STREAM))
    assert result.error is None, result.error
    stack.settle()
    payload: dict[str, Any] = result.payload
    assert payload["failure"] is None and payload["skipped"] is None, payload
    return payload


def test_a_refund_before_its_pack_is_parked_and_made_once_by_the_pack(
    stack: LocalStack, template: dict[str, Any]
) -> None:
    # GIVEN an authorised order PeakWMS has packed, its 102 still on its way
    shop = _connected(stack, template, "refund-early")
    order = _in_stock_order(stack, shop, template)
    captures, refunds = stack.shopify.mutation_count("orderCapture"), stack.shopify.mutation_count("refundCreate")
    held = _pack_held_back(stack, shop, order, "00340434160000000101")

    # WHEN PeakWMS's refund arrives first
    _refund_in_peakwms(stack, shop, order)
    # THEN its event ends skipped, waiting for the pack; nothing is refunded, the refund is parked
    (early,) = _outcomes(stack, shop.connection_id, "peakwms/order_refunded")
    assert early[0] == "skipped" and f"waiting for the pack that captures order {order['id']}" in early[1], early
    assert _refunds(stack, shop, order) == []
    assert len(refunds_parked.parked(stack.table, shop.connection_id, str(order["id"]))) == 1

    # WHEN the 102 arrives
    _send_late(stack, held)
    # THEN the order is fulfilled with its tracking, captured once, and refunded once: 199.00 and the unit
    (packed,) = _outcomes(stack, shop.connection_id, "peakwms/pick_order_packed")
    assert packed[0] == "done" and "the refund parked with event" in packed[1], packed
    shown = stack.shopify.get_order(shop.domain, order["id"]) or {}
    assert [f["tracking_number"] for f in shown["fulfillments"]] == ["00340434160000000101"]
    assert stack.shopify.mutation_count("orderCapture") == captures + 1
    (refund,) = _refunds(stack, shop, order)
    assert [Decimal(str(t["amount"])) for t in refund["transactions"]] == [Decimal("199.00")]
    assert [(r["line_item_id"], r["restock_type"]) for r in refund["refund_line_items"]] == [
        (order["line_items"][0]["id"], "no_restock")
    ]
    # AND the 104's own event says so; nothing is left parked
    (after,) = _outcomes(stack, shop.connection_id, "peakwms/order_refunded")
    assert after[0] == "done" and "refunded 199.00 USD and 1 unit(s)" in after[1], after
    assert refunds_parked.parked(stack.table, shop.connection_id) == []

    # WHEN PeakWMS sends the 102 once more (its retry) THEN nothing is fulfilled, captured or refunded again
    _send_late(stack, held)
    assert stack.shopify.mutation_count("orderCapture") == captures + 1
    assert stack.shopify.mutation_count("refundCreate") == refunds + 1
    assert len(_refunds(stack, shop, order)) == 1


def test_peakwms_own_late_102_after_the_sweeps_recovered_pack_adds_tracking_only(
    stack: LocalStack, template: dict[str, Any]
) -> None:
    # GIVEN an authorised order PeakWMS packed whose 102 is late, and PeakWMS's refund parked for it meanwhile
    shop = _connected(stack, template, "refund-swept")
    order = _in_stock_order(stack, shop, template)
    captures, fulfils = stack.shopify.mutation_count("orderCapture"), stack.shopify.mutation_count("fulfillmentCreate")
    refunds = stack.shopify.mutation_count("refundCreate")
    held = _pack_held_back(stack, shop, order, "00340434160000000202")
    _refund_in_peakwms(stack, shop, order)
    assert _outcomes(stack, shop.connection_id, "peakwms/order_refunded")[0][0] == "skipped"

    # WHEN the PeakWMS sweep runs, and again after its grace
    first = _poll(stack, shop, 15)
    assert first["packs_enqueued"] == [] and first["refunds_parked"] == 1, first
    second = _poll(stack, shop, GRACE_SECONDS / 60)
    # THEN its 102 fulfils the order without tracking, captures once and makes the parked refund once
    assert second["packs_enqueued"] == [str(order["id"])], second
    shown = stack.shopify.get_order(shop.domain, order["id"]) or {}
    assert shown.get("fulfillment_status") == "fulfilled", _outcomes(
        stack, shop.connection_id, "peakwms/pick_order_packed"
    )
    assert [f.get("tracking_number") for f in shown["fulfillments"]] == [None]
    assert stack.shopify.mutation_count("orderCapture") == captures + 1
    assert len(_refunds(stack, shop, order)) == 1
    assert _outcomes(stack, shop.connection_id, "peakwms/order_refunded")[0][0] == "done"

    # WHEN PeakWMS's own 102 arrives after all
    _send_late(stack, held)
    # THEN its tracking is put on the sweep's fulfilment; nothing is fulfilled, captured or refunded again
    late = [o for o in _outcomes(stack, shop.connection_id, "peakwms/pick_order_packed") if "sweep's" in o[1]]
    assert [status for status, _ in late] == ["done"], _outcomes(stack, shop.connection_id, "peakwms/pick_order_packed")
    assert "nothing fulfilled or captured again" in late[0][1]
    shown = stack.shopify.get_order(shop.domain, order["id"]) or {}
    assert [f["tracking_number"] for f in shown["fulfillments"]] == ["00340434160000000202"]
    assert stack.shopify.mutation_count("fulfillmentCreate") == fulfils + 1
    assert stack.shopify.mutation_count("orderCapture") == captures + 1
    assert stack.shopify.mutation_count("refundCreate") == refunds + 1
    assert len(_refunds(stack, shop, order)) == 1
