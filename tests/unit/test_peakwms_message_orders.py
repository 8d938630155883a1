"""PeakWMS's order messages → the Shopify order fulfilled, paid and refunded through the route handlers (issue 16,
item 2 step 5, item 3): 102 PickOrderPacked, 109 OrderStateChanged and 104 OrderRefunded as the PeakWMS simulator
sends them, for Shopify's example order (authorised, or paid at checkout) that PeakWMS has as a released sales
order; Crossdock's real clients, both simulators in process, the table in moto (`peakwms_message_fakes`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from peakwms_fakes import CUSTOMER
from peakwms_message_fakes import SHOP, World, make_world

from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.refund_create import create_refund
from crossdock.errors import RetryableError
from crossdock.store.events import EventStatus


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _tracking(world: World, order: dict[str, Any]) -> frozenset[str]:
    return fulfillments.fulfillment_orders(world.peakwms_shopify, order["id"]).tracking_numbers


def test_a_packed_order_is_fulfilled_with_tracking_and_captured_once(world: World) -> None:
    """GIVEN an authorised order PeakWMS has released WHEN PeakWMS packs all of it (102, paymentCaptured=false) and
    the message arrives twice THEN the Shopify order is fulfilled with the pick order's tracking, the authorised
    598.94 is captured once and the repeat neither fulfils nor captures again."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order, tracking_number="00340434161234567890")

    first = world.handle("pick_order_packed", packed)
    again = world.handle("pick_order_packed", packed)

    assert first.status is EventStatus.DONE, first.reason
    assert "3 unit(s)" in first.reason and "598.94 USD captured" in first.reason
    assert world.fulfilled(order) == {str(item["id"]): 1 for item in order["line_items"]}
    assert _tracking(world, order) == {"00340434161234567890"}
    assert [c.amount for c in world.captures(order)] == [Decimal("598.94")]
    assert again.status is EventStatus.DONE and "fulfilled before" in again.reason
    assert "nothing to capture: the order is paid" in again.reason
    assert len(world.captures(order)) == 1


def test_partial_packs_fulfil_each_pick_orders_lines_and_capture_only_on_the_first(world: World) -> None:
    """GIVEN an authorised order of three lines WHEN PeakWMS packs the first line, then the other two (two pick
    orders, two 102s) THEN each fulfils exactly its lines with its tracking; the first captures everything the
    order owes (a single-capture authorisation takes one capture), the second captures nothing."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    first_pack = world.pack(order, {0: 1}, tracking_number="TRACK-1")
    first = world.handle("pick_order_packed", first_pack)
    after_first = world.fulfilled(order)
    second_pack = world.pack(order, tracking_number="TRACK-2")
    second = world.handle("pick_order_packed", second_pack)

    line_ids = [str(item["id"]) for item in order["line_items"]]
    assert first.status is EventStatus.DONE and "598.94 USD captured" in first.reason
    assert after_first == {line_ids[0]: 1}
    assert second.status is EventStatus.DONE and "nothing to capture" in second.reason
    assert world.fulfilled(order) == {line_id: 1 for line_id in line_ids}
    assert _tracking(world, order) == {"TRACK-1", "TRACK-2"}
    assert len(world.captures(order)) == 1


def test_a_packed_quantity_above_what_shopify_has_left_needs_attention_and_nothing_is_fulfilled(
    world: World,
) -> None:
    """GIVEN PeakWMS holds 2 of the first line (the shop's order has 1: edited after PeakWMS took it) WHEN PeakWMS
    packs 2 of it with the other lines THEN the event needs attention naming `orderLines[0].quantity`; nothing of
    the pick order is fulfilled and nothing is captured."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order, {0: 2})
    packed = world.pack(order)

    outcome = world.handle("pick_order_packed", packed)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "orderLines[0].quantity: 2 packed" in outcome.reason and "has 1 of it left" in outcome.reason
    assert world.fulfilled(order) == {}
    assert world.captures(order) == []


def test_a_capture_above_the_authorisation_needs_attention_and_never_captures(world: World) -> None:
    """GIVEN an authorised order whose total was raised by 20.00 after checkout (it owes 618.94 of 598.94
    authorised) WHEN PeakWMS packs it, and the event is retried THEN the order is fulfilled once, nothing is
    captured, and the event needs attention naming both amounts each time."""
    order = world.new_order(authorized=True)
    world.shopify_sim.shops[SHOP].orders[order["id"]]["total_outstanding"] = "618.94"
    world.in_peakwms(order)
    packed = world.pack(order)

    outcome = world.handle("pick_order_packed", packed)
    retried = world.handle("pick_order_packed", packed)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "owes 618.94 USD, more than the 598.94 USD authorised: nothing captured" in outcome.reason
    assert retried.status is EventStatus.NEEDS_ATTENTION and "fulfilled before" in retried.reason
    assert world.captures(order) == []
    assert sum(world.fulfilled(order).values()) == 3


def test_a_pack_peakwms_captured_itself_is_fulfilled_only(world: World) -> None:
    """GIVEN an authorised order WHEN PeakWMS packs it and reports `paymentCaptured=true` THEN the order is
    fulfilled and Crossdock captures nothing (PeakWMS took the money through the payment provider)."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order, payment_captured=True)

    outcome = world.handle("pick_order_packed", packed)

    assert outcome.status is EventStatus.DONE and "nothing captured here" in outcome.reason
    assert sum(world.fulfilled(order).values()) == 3
    assert world.captures(order) == []


def test_a_switched_off_pack_message_is_skipped(world: World) -> None:
    """GIVEN `messages.order_packed_capture` off WHEN a 102 with paymentCaptured=false arrives THEN it ends skipped
    "message switched off" and the order is neither fulfilled nor captured."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order)

    outcome = world.handle("pick_order_packed", packed, messages={"order_packed_capture": False})

    assert outcome.status is EventStatus.SKIPPED
    assert outcome.reason == "message switched off (messages.order_packed_capture)"
    assert world.fulfilled(order) == {} and world.captures(order) == []


def test_an_order_state_change_to_captured_fulfils_only_an_unfulfilled_order(world: World) -> None:
    """GIVEN PeakWMS packed and captured an order (its 109 shows state Packed, paymentStatus 2) WHEN only the 109
    is handled THEN the order is fulfilled (without tracking: a 109 carries none); and WHEN the 102 of the same
    pack comes after it THEN nothing is fulfilled twice and its tracking is put on that fulfilment."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    world.warehouse.sim.pack(CUSTOMER, str(order["id"]), payment_captured=True)
    sent = world.delivered()
    (captured_state,) = [body for name, body in sent if name == "order_state_changed" and body["state"] == 3]
    (packed,) = [body for name, body in sent if name == "pick_order_packed"]

    outcome = world.handle("order_state_changed", captured_state)
    late = world.handle("pick_order_packed", packed)

    assert captured_state["paymentStatus"] == 2
    assert outcome.status is EventStatus.DONE and "3 unit(s) fulfilled without tracking" in outcome.reason
    assert late.status is EventStatus.DONE and "fulfilled before, by PeakWMS's order state change" in late.reason
    assert _tracking(world, order) == {packed["trackingNumber"]}
    assert sum(world.fulfilled(order).values()) == 3
    assert world.handle("order_state_changed", captured_state).status is EventStatus.SKIPPED


def test_a_refund_in_peakwms_is_refunded_in_shopify_once(world: World) -> None:
    """GIVEN an order paid at checkout, shipped by PeakWMS WHEN PeakWMS refunds 199.00 and one unit of the first
    line (104) and the message arrives twice THEN Shopify has one refund of 199.00 against the sale, the unit not
    restocked (PeakWMS keeps the stock); the repeat is skipped."""
    order = world.new_order(paid=True)
    world.in_peakwms(order)
    world.handle("pick_order_packed", world.pack(order))
    world.warehouse.sim.refund(CUSTOMER, str(order["id"]), "199.00", {str(order["line_items"][0]["id"]): 1})
    (refunded,) = world.of("order_refunded")

    first = world.handle("order_refunded", refunded)
    again = world.handle("order_refunded", refunded)

    assert first.status is EventStatus.DONE, first.reason
    assert "refunded 199.00 USD and 1 unit(s)" in first.reason
    (refund,) = world.shopify_order(order)["refunds"]
    assert [Decimal(str(t["amount"])) for t in refund["transactions"]] == [Decimal("199.00")]
    assert [(line["line_item_id"], line["restock_type"]) for line in refund["refund_line_items"]] == [
        (order["line_items"][0]["id"], "no_restock")
    ]
    assert again.status is EventStatus.SKIPPED and "made before" in again.reason


def test_a_refund_above_what_is_left_needs_attention_and_refunds_nothing(world: World) -> None:
    """GIVEN an order paid 598.94 of which Shopify refunded 500.00 already WHEN PeakWMS refunds 199.00 THEN the
    event needs attention naming the amount and what is left, and no second refund is made."""
    order = world.new_order(paid=True)
    world.in_peakwms(order)
    (sale,) = [t for t in world.payment(order).transactions if t.kind == "SALE"]
    create_refund(world.peakwms_shopify, order["id"], [], [(sale.id, Decimal("500.00"), sale.gateway)], "merchant-1")
    world.warehouse.sim.refund(CUSTOMER, str(order["id"]), "199.00")
    (refunded,) = world.of("order_refunded")

    outcome = world.handle("order_refunded", refunded)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "amount 199.00 USD is more than the 98.94 USD left to refund" in outcome.reason
    assert len(world.shopify_order(order)["refunds"]) == 1


def test_a_pack_of_another_shops_order_is_skipped_without_asking_the_shop(world: World) -> None:
    """GIVEN another shop of the same PeakWMS account (PeakWMS sends its packs to every registered address) WHEN a
    102 of an order this shop never sent arrives THEN it ends skipped naming the order, and the shop is not asked."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order)
    calls = world.peakwms_shopify.calls

    outcome = world.handle("pick_order_packed", {**packed, "orderId": "4400000000001"})

    assert outcome.status is EventStatus.SKIPPED and "order 4400000000001 is not one this shop sent" in outcome.reason
    assert world.peakwms_shopify.calls == calls


def test_a_pack_before_shopify_made_the_fulfillment_orders_is_retried_later(world: World) -> None:
    """GIVEN Shopify has not routed the order yet (no fulfillment orders: made a while after the order) WHEN its
    102 arrives THEN the event is retried (RetryableError), nothing fulfilled or captured; once Shopify made them
    the retry fulfils and captures."""
    world.shopify_sim.fulfillments.routing_delay = 3600.0
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order)

    with pytest.raises(RetryableError):
        world.handle("pick_order_packed", packed)
    assert world.captures(order) == []
    world.shopify_sim.fulfillments.routing_delay = 0.0
    retried = world.handle("pick_order_packed", packed)

    assert retried.status is EventStatus.DONE, retried.reason
    assert sum(world.fulfilled(order).values()) == 3 and len(world.captures(order)) == 1


def test_a_refund_without_an_amount_refunds_what_is_left_and_a_switched_off_one_nothing(world: World) -> None:
    """GIVEN a paid order WHEN a 104 arrives with `messages.order_refunded` off THEN it is skipped and nothing is
    refunded; WHEN a 104 naming no amount and no lines arrives with it on [guess: the whole order] THEN Shopify
    refunds everything left to refund, 598.94."""
    order = world.new_order(paid=True)
    world.in_peakwms(order)
    body = {"orderId": str(order["id"]), "orderLines": []}

    off = world.handle("order_refunded", body, messages={"order_refunded": False})
    whole = world.handle("order_refunded", body)

    assert off.status is EventStatus.SKIPPED and off.reason == "message switched off (messages.order_refunded)"
    assert whole.status is EventStatus.DONE and "refunded 598.94 USD and 0 unit(s)" in whole.reason, whole.reason
    (refund,) = world.shopify_order(order)["refunds"]
    assert sum(Decimal(str(t["amount"])) for t in refund["transactions"]) == Decimal("598.94")
