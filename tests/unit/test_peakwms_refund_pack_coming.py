"""A PeakWMS refund (104) of a line still to fulfil in Shopify waits for that line's pack (102) only when a pack of
it is still coming (issue 16; docs/peakwms.md "Messages to the shop", 104): PeakWMS's sales order is read once —
the order Packed, Shipped or Cancelled, or the line packed as far as PeakWMS will pack it after the refund, and
every packed unit fulfilled in Shopify, means none is — and a refunded unit PeakWMS will not pack is refunded at
once. What is unknown (the read failing, a quantity the read does not show) waits, as before. Shopify's example
order (three lines of one unit, authorised) as PeakWMS's simulator sends the messages (`peakwms_message_fakes`,
the helpers of test_peakwms_refund_parking); `refund_takes_unpacked` is the simulator's switch for the guess that
PeakWMS packs no unit of a line it refunded before packing it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from peakwms_message_fakes import CONNECTION, World, make_dispatched_world
from test_peakwms_refund_parking import (
    PICK_1,
    PICK_2,
    _attention,
    _dispatched,
    _event,
    _left_to_fulfil,
    _refund_104,
    _refunds,
    _split_order,
)

from crossdock.integrations.peakwms_shopify import refunds_parked
from crossdock.store.events import EventStatus


@pytest.fixture(autouse=True)
def metric_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_dispatched_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _refunding_what_it_will_not_pack(world: World, **rules: bool) -> None:
    world.warehouse.sim.rules.refund_takes_unpacked = True
    for name, value in rules.items():
        setattr(world.warehouse.sim.rules, name, value)


def test_a_parked_refund_of_a_unit_peakwms_will_not_pack_is_made_by_the_pack_that_captures(world: World) -> None:
    """GIVEN an authorised order and PeakWMS's refund of the first line's unit, which it will not pack, handled
    before any pack (parked for the capture) WHEN PeakWMS packs the rest — the order Packed with that line short —
    and its 102 comes THEN the 102 fulfils its two units, captures and makes the refund at once (Shopify takes the
    unit off what is left to fulfil: it will not be shipped); nothing is left parked or needs attention."""
    _refunding_what_it_will_not_pack(world)
    order = _split_order(world)
    refund_sk, parked = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))
    assert parked.status is EventStatus.SKIPPED and "captures order" in parked.reason, parked.reason
    packed = world.pack(order)

    _, pack = _dispatched(world, "pick_order_packed", packed)

    assert pack.status is EventStatus.DONE and "2 line(s), 2 unit(s)" in pack.reason, pack.reason
    assert "598.94 USD captured" in pack.reason, pack.reason
    assert f"the refund parked with event {refund_sk}: done" in pack.reason, pack.reason
    (refund,) = _refunds(world, order)
    assert [(r["line_item_id"], r["quantity"]) for r in refund["refund_line_items"]] == [
        (order["line_items"][0]["id"], 1)
    ]
    assert _event(world, refund_sk)["status"] == "done"
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert _attention(world) == []


def test_a_refund_after_the_capture_of_a_unit_peakwms_will_not_pack_is_made_at_once(world: World) -> None:
    """GIVEN an order whose second and third lines PeakWMS packed, told and captured WHEN PeakWMS refunds the first
    line's unit instead of packing it (the order Packed, that line short) and its 104 comes THEN the refund is made
    at once, not parked: one refund of that unit, nothing left to fulfil, nothing needs attention."""
    _refunding_what_it_will_not_pack(world)
    order = _split_order(world)
    _, pack = _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))
    assert "598.94 USD captured" in pack.reason, pack.reason

    _, refunded = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))

    assert refunded.status is EventStatus.DONE, refunded.reason
    assert "refunded 199.00 USD and 1 unit(s)" in refunded.reason, refunded.reason
    assert len(_refunds(world, order)) == 1
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert _attention(world) == []


def test_a_refund_of_a_packed_unit_whose_102_is_on_its_way_waits_for_it(world: World) -> None:
    """GIVEN an order packed in two pick orders, pick order 2's 102 told and captured, and PeakWMS refunding the
    unit pick order 1 packed (its 102 still on its way) WHEN the 104 comes THEN it is parked, naming the packed unit
    not fulfilled yet; WHEN pick order 1's 102 comes THEN it fulfils its unit and makes the refund, once."""
    _refunding_what_it_will_not_pack(world)
    order = _split_order(world)
    first = world.pack(order, PICK_1)
    _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))

    refund_sk, waiting = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))

    line = order["line_items"][0]["id"]
    assert waiting.status is EventStatus.SKIPPED, waiting.reason
    assert f"waiting for the pack of line {line} (1 unit(s) of it left to fulfil" in waiting.reason, waiting.reason
    assert "PeakWMS packed 1 of it (1 not fulfilled in Shopify yet)" in waiting.reason, waiting.reason
    assert _refunds(world, order) == []

    _, pack_1 = _dispatched(world, "pick_order_packed", first)

    assert pack_1.status is EventStatus.DONE and "1 line(s), 1 unit(s)" in pack_1.reason, pack_1.reason
    assert f"the refund parked with event {refund_sk}: done" in pack_1.reason, pack_1.reason
    assert len(_refunds(world, order)) == 1
    assert _attention(world) == []


def test_a_refund_of_a_line_peakwms_still_packs_waits_for_its_102(world: World) -> None:
    """GIVEN PeakWMS packing every unit ordered whatever it refunds (the simulator's default; its lines show no
    refunded quantity), an order whose pick order 2 was told and captured WHEN PeakWMS refunds the first line's
    unit, not packed yet THEN the 104 is parked (PeakWMS's order is still Released and says nothing of the refund);
    WHEN PeakWMS packs that line and its 102 comes THEN the 102 fulfils it and makes the refund, once."""
    order = _split_order(world)
    _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))

    refund_sk, waiting = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))

    assert waiting.status is EventStatus.SKIPPED, waiting.reason
    assert "PeakWMS's order is Released and shows no refunded quantity of it" in waiting.reason, waiting.reason
    assert _refunds(world, order) == []

    _, pack_1 = _dispatched(world, "pick_order_packed", world.pack(order, PICK_1))

    assert f"the refund parked with event {refund_sk}: done" in pack_1.reason, pack_1.reason
    assert len(_refunds(world, order)) == 1
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert _attention(world) == []


def test_a_refund_waits_when_peakwms_cannot_be_read_and_is_made_when_redelivered(world: World) -> None:
    """GIVEN a captured order whose first line's unit PeakWMS refunded instead of packing WHEN the 104 comes while
    PeakWMS answers every call with a 5xx THEN the refund is parked, naming the failed read (the safe side: a pack
    might still come), nothing refunded; WHEN PeakWMS sends the 104 again once it answers THEN it is made at once."""
    _refunding_what_it_will_not_pack(world)
    order = _split_order(world)
    _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))
    refunded = _refund_104(world, order, "199.00", {0: 1})
    world.warehouse.sim.faults.server_error_rate = 1.0

    refund_sk, waiting = _dispatched(world, "order_refunded", refunded)

    world.warehouse.sim.faults.server_error_rate = 0.0
    assert waiting.status is EventStatus.SKIPPED, waiting.reason
    assert "PeakWMS's sales order could not be read" in waiting.reason, waiting.reason
    assert _refunds(world, order) == []
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION)] == [refund_sk]

    _, again = _dispatched(world, "order_refunded", refunded)

    assert again.status is EventStatus.DONE and "refunded 199.00 USD and 1 unit(s)" in again.reason, again.reason
    assert len(_refunds(world, order)) == 1
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []


def test_a_refund_waits_when_peakwms_shows_no_packed_quantity(world: World) -> None:
    """GIVEN a PeakWMS whose sales order lines show no packed quantity (the field is a guess) and a captured order
    whose first line's unit it refunded instead of packing WHEN the 104 comes THEN it is parked, naming the missing
    quantity: nothing is assumed about what PeakWMS packed."""
    _refunding_what_it_will_not_pack(world, line_packed_quantity=False)
    order = _split_order(world)
    _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))

    _, waiting = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))

    assert waiting.status is EventStatus.SKIPPED, waiting.reason
    assert "PeakWMS's sales order shows no packed quantity of it" in waiting.reason, waiting.reason
    assert _refunds(world, order) == []
