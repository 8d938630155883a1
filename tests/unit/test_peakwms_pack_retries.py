"""A pack (102) or order state change (109) whose first attempt died around Shopify's `fulfillmentCreate` — after
Shopify fulfilled and before the record was written, or before the call — retried: it recognises its own fulfilment
(`pack_plan`), so the order is fulfilled once and captured once (docs/peakwms.md "Messages to the shop"). Both
simulators in process, the table in moto (`peakwms_message_fakes`); the dying attempt is the Shopify transport cut
at that call (`World.cut_shopify`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from peakwms_fakes import CUSTOMER
from peakwms_message_fakes import CONNECTION, PollPorts, World, make_world

from crossdock.connectors.shopify import fulfillments
from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify import peakwms_order_stream
from crossdock.store import mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome

CREATE = "fulfillmentCreate"


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _fulfilments(world: World, order: dict[str, Any]) -> list[dict[str, Any]]:
    return list(world.shopify_order(order).get("fulfillments") or [])


def _each_once(order: dict[str, Any]) -> dict[str, int]:
    return {str(item["id"]): int(item["quantity"]) for item in order["line_items"]}


def _swept_pack(world: World) -> tuple[dict[str, Any], str]:
    """The 102 the PeakWMS sweep sends for a pack whose own 102 never came (seen twice, the grace apart): its body
    and redrive."""
    ports = PollPorts(world.ports.table, world.ports.clients, lambda: world.shopify_sim.now().timestamp())

    def run() -> Any:
        until = datetime.fromtimestamp(int(ports.now()), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return peakwms_order_stream.sweep_packed(world.connection(), None, until, ports)

    run()
    world.shopify_sim.clock.advance(peakwms_order_stream.GRACE_SECONDS)
    (message,) = run().messages
    return json.loads(message["payload"]), str(message["redrive"])


def _dies_then_retried(
    world: World, name: str, body: dict[str, Any], *, after_commit: bool, redrive: str | None = None
) -> Outcome:
    """The event's first attempt dies at `fulfillmentCreate` (the queue sees an error and retries it); the retry's
    outcome."""
    world.cut_shopify(CREATE, after_commit=after_commit)
    sk = f"EVT#2026-12-07T12:00:00.000000Z#{name}:retried"
    with pytest.raises(RetryableError):
        world.handle(name, body, sk=sk, redrive=redrive)
    retried: Outcome = world.handle(name, body, sk=sk, redrive=redrive)
    return retried


def test_a_swept_pack_that_fulfilled_then_died_is_adopted_on_retry_and_captured_once(world: World) -> None:
    """GIVEN an authorised order packed in PeakWMS whose 102 never came, and the sweep's recovered 102 whose first
    attempt died after Shopify fulfilled it WHEN the event is retried THEN it adopts that fulfilment: the order is
    fulfilled once, captured once, the outcome done; and WHEN PeakWMS's own 102 comes late THEN its tracking goes on
    the sweep's fulfilment (the sweep's record was written), nothing fulfilled or captured again."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    real = world.pack(order)
    body, redrive = _swept_pack(world)

    retried = _dies_then_retried(world, "pick_order_packed", body, after_commit=True, redrive=redrive)
    late = world.handle("pick_order_packed", real)

    assert retried.status is EventStatus.DONE, retried.reason
    assert "earlier attempt at it" in retried.reason and "598.94 USD captured" in retried.reason
    assert world.fulfilled(order) == _each_once(order) and len(_fulfilments(world, order)) == 1
    assert len(world.captures(order)) == 1
    assert late.status is EventStatus.DONE and "the PeakWMS sweep's recovered pack" in late.reason, late.reason
    tracking = fulfillments.fulfillment_orders(world.peakwms_shopify, order["id"]).tracking_numbers
    assert tracking == {real["trackingNumber"]} and len(world.captures(order)) == 1


def test_a_pack_that_died_before_the_shopify_call_is_fulfilled_on_retry(world: World) -> None:
    """GIVEN the sweep's recovered 102 whose first attempt recorded its plan and died before calling Shopify WHEN
    the event is retried THEN the units are still left, so it fulfils them as normal: once, captured once."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    world.pack(order)
    body, redrive = _swept_pack(world)

    retried = _dies_then_retried(world, "pick_order_packed", body, after_commit=False, redrive=redrive)

    assert retried.status is EventStatus.DONE, retried.reason
    assert "3 unit(s)" in retried.reason and "adopted" not in retried.reason
    assert world.fulfilled(order) == _each_once(order) and len(world.captures(order)) == 1


def test_a_tracked_pack_that_fulfilled_then_died_records_its_fulfilment_on_retry(world: World) -> None:
    """GIVEN PeakWMS's own 102 with tracking whose first attempt died after Shopify fulfilled it WHEN retried THEN
    it is done, fulfilled once with its tracking, captured once, and the pick order's record names the fulfilment
    made (not just that one exists)."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order, tracking_number="00340434161234567890")

    retried = _dies_then_retried(world, "pick_order_packed", packed, after_commit=True)

    assert retried.status is EventStatus.DONE, retried.reason
    (fulfilment,) = _fulfilments(world, order)
    assert fulfilment["tracking_numbers"] == ["00340434161234567890"] and len(world.captures(order)) == 1
    record = mappings.get_mapping(world.ports.table, CONNECTION, "pick_order", "peakwms", packed["pickOrderId"])
    assert record is not None and record["target_id"] == fulfilment["admin_graphql_api_id"]


def test_an_untracked_pick_order_that_fulfilled_then_died_is_adopted_on_retry(world: World) -> None:
    """GIVEN PeakWMS's own 102 of a pick order without tracking (nothing to find it by on Shopify's fulfilments)
    whose first attempt died after Shopify fulfilled it WHEN retried THEN it adopts the fulfilment: done, fulfilled
    once, captured once."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order)
    bare = {key: value for key, value in packed.items() if key not in ("trackingNumber", "trackingUrl")}

    retried = _dies_then_retried(world, "pick_order_packed", bare, after_commit=True)

    assert retried.status is EventStatus.DONE, retried.reason
    assert "adopted" in retried.reason and "598.94 USD captured" in retried.reason
    assert world.fulfilled(order) == _each_once(order) and len(world.captures(order)) == 1


def test_an_order_state_change_that_fulfilled_then_died_is_adopted_and_its_late_102_adds_tracking(
    world: World,
) -> None:
    """GIVEN PeakWMS packed and captured an order, and its 109's first attempt died after Shopify fulfilled the
    order WHEN the 109 is retried THEN it is done (adopted), not skipped as "fulfilled already"; and WHEN the pack's
    102 comes after it THEN its tracking goes on that fulfilment and nothing is fulfilled twice."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    world.warehouse.sim.pack(CUSTOMER, str(order["id"]), payment_captured=True)
    sent = world.delivered()
    (captured_state,) = [body for name, body in sent if name == "order_state_changed" and body["state"] == 3]
    (packed,) = [body for name, body in sent if name == "pick_order_packed"]

    retried = _dies_then_retried(world, "order_state_changed", captured_state, after_commit=True)
    late = world.handle("pick_order_packed", packed)

    assert retried.status is EventStatus.DONE and "adopted" in retried.reason, retried.reason
    assert late.status is EventStatus.DONE and "PeakWMS's order state change" in late.reason, late.reason
    (fulfilment,) = _fulfilments(world, order)
    assert fulfilment["tracking_numbers"] == [packed["trackingNumber"]]
    assert world.fulfilled(order) == _each_once(order) and world.captures(order) == []


def test_peakwms_own_102_before_the_sweeps_retry_settles_the_sweeps_fulfilment(world: World) -> None:
    """GIVEN the sweep's recovered 102 fulfilled in Shopify and died before its record WHEN PeakWMS's own 102 of the
    pack comes before the sweep's retry THEN it finds the sweep's fulfilment (settling its plan) and puts its
    tracking on it, fulfilling and capturing nothing; the sweep's retry then finds its pick order fulfilled before
    and captures, once."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    real = world.pack(order)
    body, redrive = _swept_pack(world)
    world.cut_shopify(CREATE, after_commit=True)
    with pytest.raises(RetryableError):
        world.handle("pick_order_packed", body, sk="EVT#sweep", redrive=redrive)

    own = world.handle("pick_order_packed", real)
    sweep_retry = world.handle("pick_order_packed", body, sk="EVT#sweep", redrive=redrive)

    assert own.status is EventStatus.DONE and "the PeakWMS sweep's recovered pack" in own.reason, own.reason
    (fulfilment,) = _fulfilments(world, order)
    assert fulfilment["tracking_numbers"] == [real["trackingNumber"]]
    assert sweep_retry.status is EventStatus.DONE and "fulfilled before" in sweep_retry.reason
    assert "598.94 USD captured" in sweep_retry.reason
    assert world.fulfilled(order) == _each_once(order) and len(world.captures(order)) == 1


def test_a_plan_whose_lines_something_else_fulfilled_in_part_needs_attention_naming_the_line(world: World) -> None:
    """GIVEN a 102 of three lines whose first attempt planned and died before calling Shopify, and the merchant then
    fulfilled the first line in Shopify WHEN the event is retried THEN it needs attention naming the second line
    (planned, still left, while a fulfilment was made since), and nothing is fulfilled twice or captured."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    packed = world.pack(order)
    first_line = str(order["line_items"][0]["id"])
    world.cut_shopify(CREATE, after_commit=False)
    sk = "EVT#2026-12-07T12:00:00.000000Z#pick_order_packed:partial"
    with pytest.raises(RetryableError):
        world.handle("pick_order_packed", packed, sk=sk)
    state = fulfillments.fulfillment_orders(world.peakwms_shopify, order["id"], with_lines=True)
    fulfillments.fulfil_lines(world.peakwms_shopify, state, {first_line: 1}, None, False)  # the merchant

    retried = world.handle("pick_order_packed", packed, sk=sk)

    assert retried.status is EventStatus.NEEDS_ATTENTION, retried.reason
    assert f"orderLines[1]: 1 unit(s) of line {order['line_items'][1]['id']}" in retried.reason
    assert "1 fulfilment(s) made since" in retried.reason and "nothing of it fulfilled again" in retried.reason
    assert world.fulfilled(order) == {first_line: 1} and world.captures(order) == []


def test_a_retry_never_takes_a_later_pick_orders_fulfilment_of_the_same_line_for_its_own(world: World) -> None:
    """GIVEN an order of 2 units of its first line packed in two pick orders of 1 each, the first's attempt died
    after planning and before calling Shopify, and the second handled meanwhile WHEN the first is retried THEN it
    fulfils its own unit (the second's plan replaced its own, so the second's fulfilment is not adopted): both units
    fulfilled, in two fulfilments, captured once."""
    world.template["line_items"][0]["quantity"] = 2
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    first = world.pack(order, {0: 1}, tracking_number="TRACK-1")
    second = world.pack(order, {0: 1}, tracking_number="TRACK-2")
    world.cut_shopify(CREATE, after_commit=False)
    sk = "EVT#2026-12-07T12:00:00.000000Z#pick_order_packed:first"
    with pytest.raises(RetryableError):
        world.handle("pick_order_packed", first, sk=sk)

    between = world.handle("pick_order_packed", second)
    retried = world.handle("pick_order_packed", first, sk=sk)

    assert between.status is EventStatus.DONE and retried.status is EventStatus.DONE, retried.reason
    assert "adopted" not in retried.reason and "1 unit(s)" in retried.reason
    first_line = str(order["line_items"][0]["id"])
    assert world.fulfilled(order)[first_line] == 2
    assert sorted(f["tracking_numbers"][0] for f in _fulfilments(world, order)) == ["TRACK-1", "TRACK-2"]
    assert len(world.captures(order)) == 1
