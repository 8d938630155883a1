"""Partial fulfilment per fulfillment-order line, fulfillment orders per assigned location and tracking added later
(`fulfillmentTrackingInfoUpdate`), in the Shopify simulator and `connectors.shopify.fulfillments`
(reference/shopify_wms.md "Writes" → Fulfil with tracking, "Behaviours a simulator must model" 1–2).

The order is Shopify's example `order.json` (read in place), admitted as new: three lines, the first of two units.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_fulfil_lines"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"
GLS = fulfillments.Tracking("GLS", ("00340434161234567890",), ("https://gls-group.eu/track/00340434161234567890",))


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, "shpss_fulfil_lines", TOKEN)
    for topic in ("orders/fulfilled", "orders/updated", "fulfillments/update"):
        simulator.subscribe(SHOP, topic, HOOK)
    return simulator


@pytest.fixture
def order(sim: ShopifySimulator, shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    order: dict[str, Any] = shopify_payload("order.json")["order"]
    for key in ("fulfillments", "fulfillment_status", "cancelled_at", "cancel_reason", "closed_at"):
        order.pop(key, None)
    for item in order["line_items"]:
        for key in ("fulfillable_quantity", "fulfillment_status"):
            item.pop(key, None)
    order["line_items"][0]["quantity"] = 2
    return sim.create_order(SHOP, order)


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


def line_ids(order: dict[str, Any]) -> list[int]:
    return [int(item["id"]) for item in order["line_items"]]


def test_partial_quantities_decrement_what_is_left_and_never_go_beyond_it(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN an order read with its fulfillment order's lines
    shopify = admin(sim)
    first, second, _ = line_ids(order)
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    assert [line.remaining for line in state.fulfillment_orders[0].lines] == [2, 1, 1]
    # WHEN one unit of the first line is fulfilled with tracking
    done = fulfillments.fulfil_lines(shopify, state, {str(first): 1}, GLS, notify=False)
    # THEN one fulfilment of that unit exists and one unit is left on the line
    assert len(done.fulfillment_ids) == 1 and done.not_left == {}
    after = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    assert [line.remaining for line in after.fulfillment_orders[0].lines] == [1, 1, 1]
    assert after.fulfillment_orders[0].status == "IN_PROGRESS"
    # WHEN two more units of it and the second line are asked for
    more = fulfillments.fulfil_lines(shopify, after, {str(first): 2, str(second): 1}, None, notify=False)
    # THEN only what is left is fulfilled and the rest is reported, not sent to Shopify
    assert more.fulfilled == {f"gid://shopify/LineItem/{first}": 1, f"gid://shopify/LineItem/{second}": 1}
    assert more.not_left == {f"gid://shopify/LineItem/{first}": 1}
    final = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    assert [line.remaining for line in final.fulfillment_orders[0].lines] == [0, 0, 1]


def test_the_last_unit_closes_the_fulfillment_order_and_echoes_orders_fulfilled(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN an order WHEN every unit of every line is fulfilled in two partial calls
    shopify = admin(sim)
    first, second, third = line_ids(order)
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    fulfillments.fulfil_lines(shopify, state, {str(first): 1}, GLS, notify=False)
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    fulfillments.fulfil_lines(shopify, state, {str(first): 1, str(second): 1, str(third): 1}, GLS, notify=False)
    # THEN the fulfillment order is CLOSED, and Shopify echoed orders/updated, then orders/fulfilled once at the end
    assert fulfillments.fulfillment_orders(shopify, order["id"]).fulfillment_orders[0].status == "CLOSED"
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["orders/updated", "orders/fulfilled", "orders/updated"]


def test_lines_routed_to_two_locations_have_a_fulfillment_order_each(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN Shopify routed the third line to a second location
    warehouse = sim.add_location(SHOP, "Lager Aarhus")
    first, second, third = line_ids(order)
    sim.fulfillments.assign(SHOP, order["id"], {third: warehouse["id"]})
    shopify = admin(sim)
    # WHEN the fulfillment orders are read
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    # THEN there are two, one per location, each with its own lines
    by_location = {fo.location_id: [line.line_item_id for line in fo.lines] for fo in state.fulfillment_orders}
    primary = sim.shops[SHOP].catalog.primary_location
    assert by_location == {
        primary.gid: [f"gid://shopify/LineItem/{first}", f"gid://shopify/LineItem/{second}"],
        warehouse["admin_graphql_api_id"]: [f"gid://shopify/LineItem/{third}"],
    }
    # WHEN everything is fulfilled through the connector
    done = fulfillments.fulfil_lines(shopify, state, {str(first): 2, str(second): 1, str(third): 1}, GLS, False)
    # THEN it took one fulfilment per location and both fulfillment orders are closed
    assert len(done.fulfillment_ids) == 2
    after = fulfillments.fulfillment_orders(shopify, order["id"])
    assert [fo.status for fo in after.fulfillment_orders] == ["CLOSED", "CLOSED"]
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and stored["fulfillment_status"] == "fulfilled"
    assert {f["location_id"] for f in stored["fulfillments"]} == {primary.id, warehouse["id"]}


def test_tracking_added_later_replaces_the_fulfilments_tracking(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN an order fulfilled without tracking
    shopify = admin(sim)
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    (fulfillment_id,) = fulfillments.fulfil_lines(
        shopify, state, {str(line_ids(order)[1]): 1}, None, False
    ).fulfillment_ids
    # WHEN the tracking is added later, the customer notified
    fulfillments.update_tracking(shopify, fulfillment_id, GLS, notify=True)
    # THEN the fulfilment carries it, and Shopify echoes fulfillments/update
    assert fulfillments.fulfillment_orders(shopify, order["id"]).tracking_numbers == frozenset(GLS.numbers)
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None
    (rest,) = stored["fulfillments"]
    assert (rest["tracking_company"], rest["tracking_urls"], rest["notify_customer"]) == ("GLS", list(GLS.urls), True)
    sim.deliver()
    assert [topic for _, topic in sink.topics()][-1] == "fulfillments/update"


def test_tracking_of_a_fulfilment_that_does_not_exist_is_refused(sim: ShopifySimulator) -> None:
    # GIVEN a shop WHEN tracking is set on an unknown fulfilment THEN it is a permanent refusal naming the field
    with pytest.raises(PermanentError, match="fulfillmentId: Fulfillment does not exist"):
        fulfillments.update_tracking(admin(sim), "gid://shopify/Fulfillment/1", GLS, notify=False)


def test_a_deleted_order_is_gone_and_announced_by_its_id(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN a subscriber to orders/delete WHEN the merchant deletes the order
    sim.subscribe(SHOP, "orders/delete", HOOK)
    sim.delete_order(SHOP, order["id"])
    # THEN reading it fails, and orders/delete carries only its id
    with pytest.raises(PermanentError, match="has no order"):
        fulfillments.fulfillment_orders(admin(sim), order["id"])
    sim.deliver()
    assert sink.payloads("orders/delete") == [{"id": order["id"]}]


def test_fulfillment_orders_appear_after_routing_and_announce_themselves(
    sim: ShopifySimulator, sink: RecordingSink, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN Shopify routing orders five seconds after they are placed, and a subscriber to routing_complete
    clock = FakeClock()
    routed = ShopifySimulator(clock=clock, webhook_sink=sink, seed=16)
    routed.add_shop(SHOP, "shpss_routing", TOKEN)
    routed.subscribe(SHOP, "fulfillment_orders/order_routing_complete", HOOK)
    routed.fulfillments.routing_delay = 5.0
    placed = routed.create_order(SHOP, shopify_payload("order.json")["order"])
    # WHEN the order is read at once THEN it has no fulfillment order yet
    assert fulfillments.fulfillment_orders(admin(routed), placed["id"]).fulfillment_orders == ()
    # WHEN five seconds pass and webhooks are delivered
    clock.advance(5.0)
    routed.deliver()
    # THEN order_routing_complete carries only the new fulfillment order's id and status, and it can be read
    (payload,) = [json.loads(body) for _, headers, body in sink.calls if "routing" in headers["X-Shopify-Topic"]]
    (fo,) = fulfillments.fulfillment_orders(admin(routed), placed["id"]).fulfillment_orders
    assert payload == {"fulfillment_order": {"id": fo.id, "status": "open"}}


def test_a_held_fulfillment_order_is_not_fulfilled_until_released(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN the merchant holds the order, and a subscriber to the hold topics
    for topic in ("fulfillment_holds/added", "fulfillment_holds/released"):
        sim.subscribe(SHOP, topic, HOOK)
    sim.fulfillments.hold(SHOP, order["id"], reason="AWAITING_PAYMENT", notes="bank transfer")
    shopify = admin(sim)
    # WHEN it is read THEN it is ON_HOLD and nothing is fulfillable
    state = fulfillments.fulfillment_orders(shopify, order["id"], with_lines=True)
    assert [fo.status for fo in state.fulfillment_orders] == ["ON_HOLD"] and state.fulfillable() == []
    assert [fo.status for fo in state.waiting()] == ["ON_HOLD"]
    # AND fulfilling it anyway is refused by Shopify
    with pytest.raises(PermanentError, match="unfulfillable status= on_hold"):
        fulfillments.create_fulfillment(shopify, list(state.fulfillment_orders), GLS, notify=False)
    # WHEN the hold is released THEN it is OPEN again and fulfils
    sim.fulfillments.release(SHOP, order["id"])
    after = fulfillments.fulfillment_orders(shopify, order["id"])
    assert len(fulfillments.create_fulfillment(shopify, after.fulfillable(), GLS, notify=False)) == 1
    sim.deliver()
    held, released = sink.payloads("fulfillment_holds/added"), sink.payloads("fulfillment_holds/released")
    assert held[0]["fulfillment_order"]["status"] == "on_hold"
    assert held[0]["fulfillment_hold"]["reason"] == "awaiting_payment"
    assert released[0]["fulfillment_order"]["status"] == "open"
