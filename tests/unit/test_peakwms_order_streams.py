"""The sweeps of a `peakwms_shopify` connection (`shopify_order_stream`, `peakwms_order_stream`) against the Shopify
and PeakWMS simulators in process, the table in moto: what each run sends, handed to the existing routes as dispatch
would, and what a second run does. The order is Shopify's own example (`../shared/fixtures/shopify/2025-01/
order_0.json`, read in place), admitted by the simulator as a new one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from peakwms_message_fakes import CONNECTION, SHOP, PollPorts, World, make_world

from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.sales_orders import cancel_sales_order, get_sales_order
from crossdock.connectors.peakwms.shapes import ProductDraft
from crossdock.connectors.shopify.fulfillments import fulfillment_orders
from crossdock.integrations.peakwms_shopify import peakwms_order_stream, shopify_order_stream
from crossdock.integrations.peakwms_shopify.shopify_webhooks import ROUTES as ORDER_ROUTES
from crossdock.ports import InboundEvent, PollResult
from crossdock.store import mappings, setup_progress


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _now(world: World) -> float:
    """The simulators' moment (the shop's clock, which the test moves), as epoch seconds."""
    return float(world.shopify_sim.now().timestamp())


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _receiving(world: World, at: float) -> None:
    """Setup step receive_orders done at `at`."""
    run = setup_progress.claim_run(world.ports.table, CONNECTION, "receive_orders", _stamp(at), resume=False)
    setup_progress.save_chunk(
        world.ports.table, CONNECTION, "receive_orders", run, finished=True, done=4, total=4, state={}, note="",
        now_text=_stamp(at),
    )  # fmt: skip


def _poll_ports(world: World) -> PollPorts:
    return PollPorts(world.ports.table, world.ports.clients, lambda: _now(world))


def _shopify_run(world: World, since: str | None = None) -> PollResult:
    until = _stamp(_now(world) + 1)
    return shopify_order_stream.sweep_orders(world.connection(), since, until, _poll_ports(world))


def _peakwms_run(world: World, since: str | None = None) -> PollResult:
    until = _stamp(_now(world))
    return peakwms_order_stream.sweep_packed(world.connection(), since, until, _poll_ports(world))


def _dispatch_order(world: World, message: dict[str, Any]) -> str:
    """The message handed to the order route as dispatch would; its outcome's status."""
    inbound = InboundEvent(
        world.connection(), message["source"], message["topic"], message["payload"], "EVT#sweep", "now",
        redrive=message["redrive"],
    )  # fmt: skip
    (route,) = [route for route in ORDER_ROUTES if inbound.topic in route.topics]
    return str(route.handle(inbound, world.ports).status.value)


# ---- shopify#orders --------------------------------------------------------------------------------------------


def test_nothing_is_swept_before_receive_orders(world: World) -> None:
    # GIVEN an order in the shop and receive_orders not run WHEN the sweep runs THEN it sends nothing and says why
    world.new_order()
    result = _shopify_run(world)
    assert result.messages == [] and "receive_orders is not done" in result.report["skipped"]


def test_an_order_whose_webhooks_were_lost_reaches_peakwms_once(world: World) -> None:
    # GIVEN receive_orders done, then an order whose webhooks never arrived (nothing bound)
    _receiving(world, _now(world))
    world.shopify_sim.clock.advance(60)
    order = world.new_order()
    # WHEN the sweep runs
    result = _shopify_run(world)
    # THEN it sends the order as the orders/updated Shopify would have sent, marked a reconciliation
    (message,) = result.messages
    assert (message["source"], message["topic"], message["redrive"]) == ("shopify", "orders/updated", "reconciliation")
    assert json.loads(message["payload"])["id"] == order["id"]
    assert result.report["orders_enqueued"] == [order["name"]] and result.event is not None
    # WHEN the route handles it THEN PeakWMS has the sales order
    _products_in_peakwms(world, order)
    assert _dispatch_order(world, message) == "done"
    assert get_sales_order(world.peakwms, str(order["id"])) is not None
    # WHEN the sweep runs again over the same window THEN the order is bound: nothing is sent, nothing read
    again = _shopify_run(world)
    assert again.messages == [] and again.report["orders_read"] == 0 and again.event is None


def test_orders_of_before_receive_orders_are_not_the_sweeps(world: World) -> None:
    # GIVEN an order taken (and last changed) before receive_orders was done, well beyond the overlap
    world.new_order()
    world.shopify_sim.clock.advance(shopify_order_stream.OVERLAP_SECONDS + 60)
    _receiving(world, _now(world))
    # WHEN the sweep's first run looks THEN it does not send it
    result = _shopify_run(world)
    assert result.messages == [] and result.report["orders_examined"] == 0


def test_an_order_cancelled_in_shopify_whose_webhook_was_lost_is_sent_to_be_cancelled(world: World) -> None:
    # GIVEN an order PeakWMS has (bound), then cancelled in Shopify with its webhooks lost
    _receiving(world, _now(world))
    order = world.new_order()
    world.in_peakwms(order)
    world.shopify_sim.clock.advance(60)
    world.shopify_sim.cancel(SHOP, order["id"])
    # WHEN the sweep runs THEN the cancelled order is sent; the route cancels its sales order
    (message,) = _shopify_run(world).messages
    assert json.loads(message["payload"])["cancelled_at"]
    assert _dispatch_order(world, message) == "done"
    assert get_sales_order(world.peakwms, str(order["id"])).cancelled  # type: ignore[union-attr]
    # WHEN it runs again THEN the binding says cancelled: nothing is sent
    assert _shopify_run(world).messages == []


def _products_in_peakwms(world: World, order: dict[str, Any]) -> None:
    """The order's variants as PeakWMS products (setup step fetch_products' result)."""
    for item in order["line_items"]:
        draft = ProductDraft(str(item["product_id"]), str(item["variant_id"]), item_number=item["sku"])
        upsert_product(world.peakwms, draft)


# ---- peakwms#orders --------------------------------------------------------------------------------------------


def test_a_pack_whose_messages_peakwms_gave_up_on_ends_fulfilled_and_captured_once(world: World) -> None:
    # GIVEN an authorised order in PeakWMS, packed there, its 102 (and 109s) never delivered
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    world.pack(order)  # its 102 is delivered nowhere the route hears
    # WHEN the sweep first sees it THEN it waits (a 102 may still be in PeakWMS's retries)
    first = _peakwms_run(world)
    assert first.messages == [] and first.report["peakwms_reads"] == 1
    # WHEN it runs again after the grace THEN it sends the 102 PeakWMS would have sent, of every line left
    world.shopify_sim.clock.advance(peakwms_order_stream.GRACE_SECONDS)
    (message,) = _peakwms_run(world, first.position).messages
    assert (message["source"], message["topic"]) == ("peakwms", "peakwms/pick_order_packed")
    body = json.loads(message["payload"])
    assert {line["orderLineId"]: line["quantity"] for line in body["orderLines"]} == {
        str(item["id"]): int(item["quantity"]) for item in order["line_items"]
    }
    # WHEN the existing route handles it THEN the order is fulfilled and captured once
    assert world.handle("pick_order_packed", body).status.value == "done"
    assert world.shopify_order(order)["fulfillment_status"] == "fulfilled"
    assert len(world.captures(order)) == 1
    # WHEN the sweep runs twice more THEN the first closes the binding, the second reads nothing at all
    third = _peakwms_run(world)
    assert third.messages == [] and third.report["closed"] == 1
    fourth = _peakwms_run(world)
    assert fourth.messages == [] and fourth.report["peakwms_reads"] == 0


def test_the_second_pick_order_of_a_partly_fulfilled_order_is_sent_alone(world: World) -> None:
    # GIVEN an order of two lines, its first line's pick order delivered and handled, the second's lost
    order = world.new_order(authorized=True)
    if len(order["line_items"]) < 2:
        pytest.skip("the fixture order has one line")
    world.in_peakwms(order)
    first = world.pack(order, {0: int(order["line_items"][0]["quantity"])})
    assert world.handle("pick_order_packed", first).status.value == "done"
    world.pack(order)  # the rest; its 102 is never handed to the route
    # WHEN the sweep has seen it twice, the grace apart
    _peakwms_run(world)
    world.shopify_sim.clock.advance(peakwms_order_stream.GRACE_SECONDS)
    (message,) = _peakwms_run(world).messages
    # THEN it sends only what Shopify has left: the second line; handled, nothing more is captured
    lines = json.loads(message["payload"])["orderLines"]
    assert [line["orderLineId"] for line in lines] == [str(item["id"]) for item in order["line_items"][1:]]
    assert world.handle("pick_order_packed", json.loads(message["payload"])).status.value == "done"
    assert world.shopify_order(order)["fulfillment_status"] == "fulfilled" and len(world.captures(order)) == 1


def _sweep_recovers(world: World, order: dict[str, Any]) -> dict[str, Any]:
    """The sweep sees the packed order twice, the grace apart, and its 102 is handled as dispatch would (redriven
    as a reconciliation); the body it sent."""
    _peakwms_run(world)
    world.shopify_sim.clock.advance(peakwms_order_stream.GRACE_SECONDS)
    (message,) = _peakwms_run(world).messages
    body: dict[str, Any] = json.loads(message["payload"])
    assert world.handle("pick_order_packed", body, redrive=message["redrive"]).status.value == "done"
    return body


def test_peakwms_own_102_after_the_sweeps_puts_its_tracking_on_the_sweeps_fulfilment(world: World) -> None:
    # GIVEN an authorised order packed in PeakWMS whose 102 was late, and the sweep's recovered pack handled
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    real = world.pack(order)
    _sweep_recovers(world, order)
    before = world.shopify_order(order)
    assert before["fulfillment_status"] == "fulfilled" and len(world.captures(order)) == 1
    assert not fulfillment_orders(world.peakwms_shopify, order["id"]).tracking_numbers
    # WHEN PeakWMS's own 102 (its retry, with tracking) arrives
    outcome = world.handle("pick_order_packed", real)
    # THEN it is done, its tracking is on the sweep's fulfilment, nothing more is fulfilled or captured
    assert outcome.status.value == "done", outcome
    assert fulfillment_orders(world.peakwms_shopify, order["id"]).tracking_numbers == {real["trackingNumber"]}
    after = world.shopify_order(order)
    assert len(after.get("fulfillments") or []) == len(before.get("fulfillments") or [])
    assert len(world.captures(order)) == 1


def test_a_late_102_without_tracking_is_skipped_and_one_above_the_sweeps_units_needs_attention(world: World) -> None:
    # GIVEN an order whose pack the sweep recovered
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    real = world.pack(order)
    _sweep_recovers(world, order)
    # WHEN PeakWMS's own 102 arrives without tracking THEN it is skipped, saying so
    bare = {key: value for key, value in real.items() if key not in ("trackingNumber", "trackingUrl")}
    skipped = world.handle("pick_order_packed", bare)
    assert skipped.status.value == "skipped" and "no tracking" in skipped.reason
    # WHEN a 102 packs one unit more than was ordered THEN it needs attention naming the line's quantity
    more = json.loads(json.dumps(real))
    more["pickOrderId"] = f"{real['pickOrderId']}-more"
    more["trackingNumber"] = "PW-MORE"
    more["orderLines"][0]["quantity"] = int(more["orderLines"][0]["quantity"]) + 1
    attention = world.handle("pick_order_packed", more)
    assert attention.status.value == "needs_attention" and "orderLines[0].quantity" in attention.reason
    assert len(world.captures(order)) == 1


def test_an_order_not_packed_is_read_but_nothing_is_sent_and_a_cancelled_one_is_closed(world: World) -> None:
    # GIVEN two orders in PeakWMS, one released (not packed), one cancelled there
    waiting, gone = world.new_order(), world.new_order()
    world.in_peakwms(waiting)
    world.in_peakwms(gone)
    cancel_sales_order(world.peakwms, str(gone["id"]))
    # WHEN the sweep runs twice
    first = _peakwms_run(world)
    second = _peakwms_run(world)
    # THEN nothing is sent; the cancelled one is closed and not read again, the released one is
    assert first.messages == second.messages == []
    assert (first.report["peakwms_reads"], first.report["closed"]) == (2, 1)
    assert (second.report["peakwms_reads"], second.report["closed"]) == (1, 0)
    closed = mappings.get_mapping(world.ports.table, CONNECTION, "order", "shopify", str(gone["id"])) or {}
    assert peakwms_order_stream.CLOSED in closed


def test_a_run_short_of_orders_goes_on_where_it_stopped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN three open orders and a run that may read two
    made = [world.new_order() for _ in range(3)]
    for order in made:
        world.in_peakwms(order)
    monkeypatch.setattr(peakwms_order_stream, "MAX_ORDERS", 2)
    # WHEN it runs, then again from its position THEN the first reads two, the second the third, and starts over
    first = _peakwms_run(world)
    assert first.report["peakwms_reads"] == 2 and not first.report["complete"]
    second = _peakwms_run(world, first.position)
    assert second.report["peakwms_reads"] == 1 and second.report["complete"] and second.position == "start"


def test_the_stream_is_off_when_both_pack_messages_are_off(world: World) -> None:
    # GIVEN both pack messages switched off THEN the stream has no schedule; with one on it runs every 15 minutes
    off = world.connection(messages={"order_packed_capture": False, "payment_captured": False})
    assert peakwms_order_stream.PeakwmsOrderStream().schedule(off) is None
    on = peakwms_order_stream.PeakwmsOrderStream().schedule(world.connection())
    assert on is not None and on.expression == "rate(15 minutes)"
