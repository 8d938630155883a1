"""The sweeps of a `peakwms_shopify` connection end to end on the embedded stack (issue 16: never lose an order): a
connection made as the merchant makes it, setup steps `receive_orders` and `messages` run by the guided setup's
workflow (their schedules made as the steps are run), the Shopify and PeakWMS simulators over HTTP, and
`PollFunction` invoked as the schedules would. Webhooks are lost in flight with each simulator's outbox: a Shopify
order whose webhooks are all lost reaches PeakWMS once; a pack whose messages PeakWMS gave up on ends fulfilled and
captured once; orders of a pause arrive after resume; a second run does nothing. The order is Shopify's own example
(`../shared/fixtures/shopify/2025-01/order_0.json`, read in place) admitted as a new one."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from test_peakwms_messages import Connected, _connected

from crossdock.connectors.peakwms.sales_orders import get_sales_order
from crossdock.flows.poll_schedules import poll_event, schedule_name
from crossdock.integrations.peakwms_shopify.peakwms_order_stream import GRACE_SECONDS
from crossdock.integrations.peakwms_shopify.peakwms_order_stream import STREAM as PEAKWMS_STREAM
from crossdock.integrations.peakwms_shopify.shopify_order_stream import STREAM as SHOPIFY_STREAM
from crossdock.store import events
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=17) as running:
        yield running


_MADE: dict[int, Connected] = {}


@pytest.fixture
def template(shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    return dict(shopify_payload("2025-01/order_0.json")["order"])


@pytest.fixture
def shop(stack: LocalStack, template: dict[str, Any]) -> Connected:
    """One connection for the module's tests (made by the first), as the merchant makes it."""
    if id(stack) not in _MADE:
        _MADE[id(stack)] = _connected(stack, template, "sweeps")
    return _MADE[id(stack)]


def _place(stack: LocalStack, shop: Connected, template: dict[str, Any]) -> dict[str, Any]:
    order = copy.deepcopy(template)
    order.update(financial_status="pending", cancelled_at=None, cancel_reason=None, refunds=[], fulfillments=[])
    order.update(fulfillment_status=None, closed_at=None)
    for item in order["line_items"]:
        item.update(current_quantity=item["quantity"], fulfillable_quantity=item["quantity"])
    placed: dict[str, Any] = stack.shopify.create_order(shop.domain, order, authorized=True)
    return placed


def _poll(stack: LocalStack, shop: Connected, stream: str, minutes: float) -> dict[str, Any]:
    """A run of the stream `minutes` on (as its schedule would), and everything it queued worked off."""
    stack.aws.clock.advance(minutes * 60)
    result = stack.aws.invoke("PollFunction", poll_event(shop.connection_id, stream))
    assert result.error is None, result.error
    stack.settle()
    payload: dict[str, Any] = result.payload
    assert payload["failure"] is None and payload["skipped"] is None, payload
    return payload


def _schedule(stack: LocalStack, shop: Connected, stream: str) -> str | None:
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.resources["PollScheduleGroup"].ref
    try:
        found = scheduler.get_schedule(Name=schedule_name(stream, shop.connection_id), GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return str(found["ScheduleExpression"])


def _sales_orders(stack: LocalStack, shop: Connected, order_id: int) -> list[Any]:
    return [o for o in [get_sales_order(shop.client, str(order_id))] if o is not None]


def _cli(stack: LocalStack, *argv: str) -> str:
    report = io.StringIO()
    code = operator_cli.run(list(argv), stack.operator, report)
    assert code == 0, report.getvalue()
    return report.getvalue()


def test_the_setup_makes_both_schedules(stack: LocalStack, shop: Connected) -> None:
    # GIVEN a connection whose receive_orders and messages ran THEN both sweeps are scheduled
    assert _schedule(stack, shop, SHOPIFY_STREAM) == "rate(10 minutes)"
    assert _schedule(stack, shop, PEAKWMS_STREAM) == "rate(15 minutes)"


def test_an_order_whose_webhooks_are_all_lost_reaches_peakwms_once(
    stack: LocalStack, shop: Connected, template: dict[str, Any]
) -> None:
    # GIVEN a Shopify order whose every webhook is lost on the way
    placed = _place(stack, shop, template)
    assert stack.shopify.lose_pending(shop.domain) >= 1
    stack.settle()
    assert _sales_orders(stack, shop, placed["id"]) == []
    # WHEN the Shopify sweep runs
    run = _poll(stack, shop, SHOPIFY_STREAM, 10)
    # THEN it sent the order on, and PeakWMS has one sales order for it
    assert run["orders_enqueued"] == [placed["name"]], run
    (sales_order,) = _sales_orders(stack, shop, placed["id"])
    assert {line.order_line_id for line in sales_order.lines} == {str(i["id"]) for i in placed["line_items"]}
    # AND a second run sends nothing
    again = _poll(stack, shop, SHOPIFY_STREAM, 10)
    assert again["orders_enqueued"] == [] and again["orders_read"] == 0, again


def test_a_pack_whose_messages_peakwms_gave_up_on_ends_fulfilled_and_captured_once(
    stack: LocalStack, shop: Connected, template: dict[str, Any]
) -> None:
    # GIVEN an authorised order that reached PeakWMS by its webhooks, in stock, packed — every message of the
    # pack lost (PeakWMS gave up on them)
    placed = _place(stack, shop, template)
    stack.settle()
    assert len(_sales_orders(stack, shop, placed["id"])) == 1
    for item in placed["line_items"]:
        stack.peakwms.receive_stock(shop.account, str(item["product_id"]), str(item["variant_id"]), 4)
    stack.settle()
    captures_before = stack.shopify.mutation_count("orderCapture")
    stack.peakwms.pack(shop.account, str(placed["id"]), tracking_number="00340434160000000001")
    assert stack.peakwms.outbox.lose(shop.account) >= 1
    stack.settle()
    assert (stack.shopify.get_order(shop.domain, placed["id"]) or {}).get("fulfillment_status") is None
    # WHEN the PeakWMS sweep runs, and again after its grace
    first = _poll(stack, shop, PEAKWMS_STREAM, 15)
    assert first["packs_enqueued"] == [], first
    second = _poll(stack, shop, PEAKWMS_STREAM, GRACE_SECONDS / 60)
    # THEN the order is fulfilled and its authorisation captured once, by the existing pack route
    assert second["packs_enqueued"] == [str(placed["id"])], second
    shown = stack.shopify.get_order(shop.domain, placed["id"]) or {}
    packed = [
        e for e in events.list_events(stack.table, shop.connection_id) if e["topic"] == "peakwms/pick_order_packed"
    ]
    assert shown.get("fulfillment_status") == "fulfilled", packed
    assert shown["financial_status"] == "paid"
    assert stack.shopify.mutation_count("orderCapture") == captures_before + 1
    # AND the next runs send nothing: the first closes the order, the second does not read it
    third, fourth = _poll(stack, shop, PEAKWMS_STREAM, 15), _poll(stack, shop, PEAKWMS_STREAM, 15)
    assert third["packs_enqueued"] == [] and third["closed"] >= 1, third
    assert fourth["packs_enqueued"] == [] and fourth["closed"] == 0, fourth
    assert stack.shopify.mutation_count("orderCapture") == captures_before + 1


def test_orders_of_a_pause_arrive_after_resume(stack: LocalStack, shop: Connected, template: dict[str, Any]) -> None:
    # GIVEN the connection paused: its sweeps' schedules go (cursors kept)
    _poll(stack, shop, SHOPIFY_STREAM, 10)
    paused = _cli(stack, "connections", "pause", shop.connection_id)
    assert "sweep schedules removed, cursors kept" in paused
    assert _schedule(stack, shop, SHOPIFY_STREAM) is None and _schedule(stack, shop, PEAKWMS_STREAM) is None
    # AND an order taken while paused: its webhooks come and are skipped
    during = _place(stack, shop, template)
    stack.settle()
    assert _sales_orders(stack, shop, during["id"]) == []
    # WHEN the operator resumes THEN the schedules are back and resume says the sweeps read the pause
    resumed = _cli(stack, "connections", "resume", shop.connection_id)
    assert "the next sweeps send the orders Shopify took during the pause" in resumed
    assert _schedule(stack, shop, SHOPIFY_STREAM) == "rate(10 minutes)"
    # AND the next run brings the order of the pause into PeakWMS, once; the one after sends nothing
    run = _poll(stack, shop, SHOPIFY_STREAM, 10)
    assert run["orders_enqueued"] == [during["name"]], run
    assert len(_sales_orders(stack, shop, during["id"])) == 1
    assert _poll(stack, shop, SHOPIFY_STREAM, 10)["orders_enqueued"] == []
