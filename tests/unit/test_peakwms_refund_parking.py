"""A PeakWMS refund (104) that comes before the pack (102) whose capture it refunds (issue 16, item 2 step 5): it is
parked and its event ends skipped; the 102, once it has captured, makes every refund parked for the order, once,
each recorded on its own event; the PeakWMS sweep turns one parked longer than a day into needs_attention naming
the order. As the PeakWMS simulator sends the messages, for Shopify's example order (authorised) that PeakWMS has as
a released sales order; Crossdock's real clients, both simulators in process, the table in moto
(`peakwms_message_fakes`). Each message is recorded in the event log as dispatch records it, so what a later
message writes on an earlier one's event is seen."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from peakwms_fakes import CUSTOMER
from peakwms_message_fakes import CONNECTION, PollPorts, World, make_dispatched_world

from crossdock.integrations.peakwms_shopify import peakwms_order_stream, refunds_parked
from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome


@pytest.fixture(autouse=True)
def metric_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A later message's outcome on an earlier event is counted as the functions count every finished event."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_dispatched_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _dispatched(world: World, name: str, body: dict[str, Any], sk: str | None = None) -> tuple[str, Outcome]:
    """The message as dispatch works it: recorded as received (or received again, `sk`), handed to the route, its
    outcome recorded on its event. (event sort key, outcome)."""
    if sk is None:
        world.handled += 1
        sk = events.record_received(
            world.ports.table, CONNECTION, f"{name}:{world.handled}", "peakwms", f"peakwms/{name}", json.dumps(body),
            "2026-12-07T12:00:00.000000Z",
        )  # fmt: skip
    outcome = world.handle(name, body, sk=sk)
    events.finish_event(world.ports.table, CONNECTION, sk, outcome.status, outcome.reason)
    return sk, outcome


def _event(world: World, sk: str) -> dict[str, Any]:
    found = events.load_event(world.ports.table, CONNECTION, sk)
    assert found is not None
    return found


def _refunds(world: World, order: dict[str, Any]) -> list[dict[str, Any]]:
    return list(world.shopify_order(order).get("refunds") or [])


def _refund_104(
    world: World, order: dict[str, Any], amount: str, lines: dict[int, int] | None = None
) -> dict[str, Any]:
    chosen = {str(order["line_items"][index]["id"]): quantity for index, quantity in (lines or {}).items()}
    world.warehouse.sim.refund(CUSTOMER, str(order["id"]), amount, chosen or None)
    (refunded,) = world.of("order_refunded")
    return dict(refunded)


def _sweep(world: World) -> dict[str, Any]:
    now = world.shopify_sim.clock.now
    until = datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ports = PollPorts(world.ports.table, world.ports.clients, lambda: now)
    report: dict[str, Any] = peakwms_order_stream.sweep_packed(world.connection(), None, until, ports).report
    return report


def test_a_refund_before_its_pack_is_parked_and_made_once_by_the_pack(world: World) -> None:
    """GIVEN an authorised order PeakWMS has released, not captured WHEN PeakWMS's refund of 199.00 and one unit
    (104) is handled before the pack (102) that captures it THEN its event ends skipped "waiting for the pack that
    captures order …", nothing is refunded and the refund is parked; WHEN the 102 arrives THEN it captures, makes
    the refund once (199.00 against the capture, the unit not restocked) and the 104's own event ends done; WHEN
    the 102 comes again, or the 104 is redelivered THEN no second refund is made."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    refunded = _refund_104(world, order, "199.00", {0: 1})

    refund_sk, parked = _dispatched(world, "order_refunded", refunded)

    assert parked.status is EventStatus.SKIPPED, parked.reason
    assert parked.reason.startswith(f"waiting for the pack that captures order {order['id']}"), parked.reason
    assert _refunds(world, order) == []
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION, str(order["id"]))] == [refund_sk]

    packed = world.pack(order, tracking_number="00340434160000000042")
    _, pack = _dispatched(world, "pick_order_packed", packed)

    assert pack.status is EventStatus.DONE and "598.94 USD captured" in pack.reason, pack.reason
    assert f"the refund parked with event {refund_sk}: done" in pack.reason, pack.reason
    (refund,) = _refunds(world, order)
    (capture,) = world.captures(order)
    assert [(t["parent_id"], Decimal(str(t["amount"]))) for t in refund["transactions"]] == [
        (int(capture.id.rsplit("/", 1)[-1]), Decimal("199.00"))
    ]
    assert [(r["line_item_id"], r["restock_type"]) for r in refund["refund_line_items"]] == [
        (order["line_items"][0]["id"], "no_restock")
    ]
    recorded = _event(world, refund_sk)
    assert recorded["status"] == "done" and "refunded 199.00 USD and 1 unit(s)" in recorded["reason"], recorded
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []

    _, again_pack = _dispatched(world, "pick_order_packed", packed)
    _, again_refund = _dispatched(world, "order_refunded", refunded)

    assert again_pack.status is EventStatus.DONE and "refund" not in again_pack.reason, again_pack.reason
    assert again_refund.status is EventStatus.SKIPPED and "made before" in again_refund.reason
    assert len(_refunds(world, order)) == 1
    assert _event(world, refund_sk)["status"] == "done"


def test_two_refunds_parked_for_one_order_are_both_made_by_its_pack(world: World) -> None:
    """GIVEN two PeakWMS refunds of one authorised order (100.00 and a unit of the first line; 50.00 alone), both
    handled before its pack WHEN the 102 arrives THEN both are made, once each (two Shopify refunds, 150.00 in all),
    and each 104's own event ends done with its own refund."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    first_sk, first = _dispatched(world, "order_refunded", _refund_104(world, order, "100.00", {0: 1}))
    second_sk, second = _dispatched(world, "order_refunded", _refund_104(world, order, "50.00"))
    assert first.status is EventStatus.SKIPPED and second.status is EventStatus.SKIPPED
    assert len(refunds_parked.parked(world.ports.table, CONNECTION, str(order["id"]))) == 2

    _, pack = _dispatched(world, "pick_order_packed", world.pack(order))

    assert pack.status is EventStatus.DONE, pack.reason
    refunds = _refunds(world, order)
    amounts = sorted(Decimal(str(t["amount"])) for refund in refunds for t in refund["transactions"])
    assert amounts == [Decimal("50.00"), Decimal("100.00")]
    assert "refunded 100.00 USD and 1 unit(s)" in _event(world, first_sk)["reason"]
    assert "refunded 50.00 USD and 0 unit(s)" in _event(world, second_sk)["reason"]
    assert {_event(world, first_sk)["status"], _event(world, second_sk)["status"]} == {"done"}
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []


def test_a_refund_parked_longer_than_a_day_needs_attention_naming_the_order_once(world: World) -> None:
    """GIVEN a refund parked for an authorised order's pack WHEN the PeakWMS sweep runs an hour later THEN nothing
    changes; WHEN it runs more than a day after the park THEN the 104's event needs attention naming the order,
    and a later run does not say it again; WHEN the pack finally comes THEN the refund is still made, once, and its
    event ends done."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    refund_sk, _ = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00"))

    world.shopify_sim.clock.advance(3600)
    early = _sweep(world)
    assert early["refunds_parked"] == 1 and early["refunds_overdue"] == [], early
    assert _event(world, refund_sk)["status"] == "skipped"

    world.shopify_sim.clock.advance(refunds_parked.TOO_LONG)
    late = _sweep(world)
    later = _sweep(world)

    assert late["refunds_overdue"] == [str(order["id"])], late
    flagged = _event(world, refund_sk)
    assert flagged["status"] == "needs_attention", flagged
    assert f"the pack (102) of order {order['id']} that captures it or fulfils the lines" in flagged["reason"]
    assert later["refunds_overdue"] == [] and later["refunds_parked"] == 1, later
    assert _refunds(world, order) == []

    _, pack = _dispatched(world, "pick_order_packed", world.pack(order))

    assert pack.status is EventStatus.DONE and "the refund parked with event" in pack.reason, pack.reason
    assert len(_refunds(world, order)) == 1
    assert _event(world, refund_sk)["status"] == "done"


def test_a_refund_made_while_its_event_was_still_open_is_recorded_by_the_sweep(world: World) -> None:
    """GIVEN a refund parked whose event dispatch has not finished yet (the 102 came between the park and
    dispatch's record of `skipped`) WHEN the 102 makes the refund THEN the open event is not overwritten and the
    refund stays parked; WHEN the event is recorded skipped and the sweep runs THEN it records the refund done
    on it and unparks it, and no second refund is made."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    refunded = _refund_104(world, order, "199.00")
    refund_sk = events.record_received(
        world.ports.table, CONNECTION, "order_refunded:open", "peakwms", "peakwms/order_refunded",
        json.dumps(refunded), "2026-12-07T12:00:00.000000Z",
    )  # fmt: skip
    parked = world.handle("order_refunded", refunded, sk=refund_sk)  # handled, not recorded yet

    _dispatched(world, "pick_order_packed", world.pack(order))

    assert len(_refunds(world, order)) == 1
    assert _event(world, refund_sk)["status"] == "received"
    assert len(refunds_parked.parked(world.ports.table, CONNECTION)) == 1
    events.finish_event(world.ports.table, CONNECTION, refund_sk, parked.status, parked.reason)
    swept = _sweep(world)

    assert swept["refunds_recorded"] == [str(order["id"])], swept
    assert _event(world, refund_sk)["status"] == "done"
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert len(_refunds(world, order)) == 1


def test_a_refund_of_a_captured_order_goes_straight_through(world: World) -> None:
    """GIVEN an authorised order PeakWMS packed and Crossdock captured WHEN PeakWMS refunds 199.00 THEN it is made
    at once (done), nothing is parked."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    _dispatched(world, "pick_order_packed", world.pack(order))

    _, outcome = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00"))

    assert outcome.status is EventStatus.DONE and "refunded 199.00 USD" in outcome.reason, outcome.reason
    assert len(_refunds(world, order)) == 1
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []


def test_a_refund_before_its_capture_with_no_pack_message_on_needs_attention_at_once(world: World) -> None:
    """GIVEN both pack messages switched off (no 102 would ever capture here) WHEN a 104 of an authorised, uncaptured
    order arrives THEN it needs attention naming both switches at once; nothing is parked or refunded."""
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    world.settings["messages"] = {
        **world.settings["messages"],
        "order_packed_capture": False,
        "payment_captured": False,
    }

    _, outcome = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00"))

    assert outcome.status is EventStatus.NEEDS_ATTENTION, outcome.reason
    assert "messages.order_packed_capture, messages.payment_captured" in outcome.reason
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert _refunds(world, order) == []


# ---- an order packed in two pick orders: a parked refund waits for the pack of its lines ----------------------------
# Shopify takes a refunded unit off what is left to fulfil, so a refund made before its line is packed would leave
# the pick order that packs that line finding fewer units than it packed. Pick order 1 is the first line, pick
# order 2 the other two (Shopify's example order: three lines of one unit each).

PICK_1 = {0: 1}
PICK_2 = {1: 1, 2: 1}


def _split_order(world: World) -> dict[str, Any]:
    order = world.new_order(authorized=True)
    world.in_peakwms(order)
    return order


def _left_to_fulfil(world: World, order: dict[str, Any]) -> dict[int, int]:
    """Shopify's `fulfillable_quantity` per line index."""
    return {i: int(item["fulfillable_quantity"]) for i, item in enumerate(world.shopify_order(order)["line_items"])}


def _attention(world: World) -> list[str]:
    found = events.list_events(world.ports.table, CONNECTION)
    return [str(item.get("reason")) for item in found if item.get("status") == EventStatus.NEEDS_ATTENTION.value]


def test_a_refund_of_the_first_pick_order_waits_when_the_second_pick_order_comes_first(world: World) -> None:
    """GIVEN an order packed in two pick orders and PeakWMS's refund of a unit of pick order 1's line, parked (both
    102s on their way) WHEN pick order 2's 102 comes first THEN it fulfils and captures, and the refund stays
    parked ("still waits for the pack of line …"), nothing refunded; WHEN pick order 1's 102 comes THEN it fulfils
    all its units and then makes the refund, once, and nothing needs attention."""
    order = _split_order(world)
    refund_sk, parked = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))
    assert parked.status is EventStatus.SKIPPED, parked.reason
    first = world.pack(order, PICK_1, tracking_number="PICK-ONE")
    second = world.pack(order, PICK_2, tracking_number="PICK-TWO")

    _, pack_2 = _dispatched(world, "pick_order_packed", second)

    line = order["line_items"][0]["id"]
    assert pack_2.status is EventStatus.DONE and "598.94 USD captured" in pack_2.reason, pack_2.reason
    assert f"the refund parked with event {refund_sk} still waits for the pack of line {line}" in pack_2.reason
    assert _refunds(world, order) == []
    assert _event(world, refund_sk)["status"] == "skipped"
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION)] == [refund_sk]

    _, pack_1 = _dispatched(world, "pick_order_packed", first)

    assert pack_1.status is EventStatus.DONE, pack_1.reason
    assert "1 line(s), 1 unit(s)" in pack_1.reason and "with tracking PICK-ONE" in pack_1.reason, pack_1.reason
    assert f"the refund parked with event {refund_sk}: done" in pack_1.reason, pack_1.reason
    (refund,) = _refunds(world, order)
    assert [(r["line_item_id"], r["quantity"]) for r in refund["refund_line_items"]] == [(line, 1)]
    assert _event(world, refund_sk)["status"] == "done"
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert _attention(world) == []


def test_each_parked_refund_is_made_by_the_pack_of_its_own_line(world: World) -> None:
    """GIVEN an order packed in two pick orders and two refunds parked, a unit of pick order 1's line and a unit of
    pick order 2's first line WHEN pick order 1's 102 comes first THEN it fulfils, captures and makes the refund of
    its own line, and the other stays parked; WHEN pick order 2's 102 comes THEN it fulfils both its units and
    makes the other; two refunds in all, nothing needs attention."""
    order = _split_order(world)
    own_sk, _ = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))
    other_sk, _ = _dispatched(world, "order_refunded", _refund_104(world, order, "150.00", {1: 1}))
    first = world.pack(order, PICK_1, tracking_number="PICK-ONE")
    second = world.pack(order, PICK_2, tracking_number="PICK-TWO")

    _, pack_1 = _dispatched(world, "pick_order_packed", first)

    assert pack_1.status is EventStatus.DONE and "598.94 USD captured" in pack_1.reason, pack_1.reason
    assert f"the refund parked with event {own_sk}: done" in pack_1.reason, pack_1.reason
    other_line = order["line_items"][1]["id"]
    assert f"the refund parked with event {other_sk} still waits for the pack of line {other_line}" in pack_1.reason
    assert [Decimal(str(t["amount"])) for r in _refunds(world, order) for t in r["transactions"]] == [Decimal("199.00")]
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION)] == [other_sk]

    _, pack_2 = _dispatched(world, "pick_order_packed", second)

    assert pack_2.status is EventStatus.DONE and "2 line(s), 2 unit(s)" in pack_2.reason, pack_2.reason
    assert f"the refund parked with event {other_sk}: done" in pack_2.reason, pack_2.reason
    amounts = sorted(Decimal(str(t["amount"])) for r in _refunds(world, order) for t in r["transactions"])
    assert amounts == [Decimal("150.00"), Decimal("199.00")]
    assert {_event(world, own_sk)["status"], _event(world, other_sk)["status"]} == {"done"}
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
    assert _attention(world) == []


def test_a_parked_refund_of_an_amount_only_is_made_at_the_capture(world: World) -> None:
    """GIVEN an order packed in two pick orders and PeakWMS's refund of 50.00 with no lines, parked for the capture
    WHEN pick order 1's 102 comes THEN it captures and makes the refund at once — a refund with no lines takes no
    unit off what is left to fulfil, so there is nothing to wait for; WHEN pick order 2's 102 comes THEN it fulfils
    both its units and refunds nothing more: one refund, nothing needs attention."""
    order = _split_order(world)
    refund_sk, _ = _dispatched(world, "order_refunded", _refund_104(world, order, "50.00"))
    first = world.pack(order, PICK_1)
    second = world.pack(order, PICK_2)

    _, pack_1 = _dispatched(world, "pick_order_packed", first)

    assert pack_1.status is EventStatus.DONE and "598.94 USD captured" in pack_1.reason, pack_1.reason
    assert f"the refund parked with event {refund_sk}: done" in pack_1.reason, pack_1.reason
    (refund,) = _refunds(world, order)
    assert [Decimal(str(t["amount"])) for t in refund["transactions"]] == [Decimal("50.00")]
    assert _event(world, refund_sk)["status"] == "done"
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []

    _, pack_2 = _dispatched(world, "pick_order_packed", second)

    assert pack_2.status is EventStatus.DONE and "2 line(s), 2 unit(s)" in pack_2.reason, pack_2.reason
    assert "refund" not in pack_2.reason, pack_2.reason
    assert len(_refunds(world, order)) == 1
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert _attention(world) == []


def test_a_repeated_pack_refunds_nothing(world: World) -> None:
    """GIVEN an order packed in two pick orders and a refund of pick order 1's line parked WHEN pick order 2's 102
    comes twice THEN nothing is refunded and the refund stays parked; WHEN pick order 1's 102 comes twice THEN the
    refund is made by the first and the second refunds nothing: one refund in all."""
    order = _split_order(world)
    refund_sk, _ = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))
    first = world.pack(order, PICK_1, tracking_number="PICK-ONE")
    second = world.pack(order, PICK_2, tracking_number="PICK-TWO")

    _dispatched(world, "pick_order_packed", second)
    _, again_2 = _dispatched(world, "pick_order_packed", second)

    assert again_2.status is EventStatus.DONE and "was fulfilled before" in again_2.reason, again_2.reason
    assert _refunds(world, order) == []
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION)] == [refund_sk]

    _dispatched(world, "pick_order_packed", first)
    _, again_1 = _dispatched(world, "pick_order_packed", first)

    assert again_1.status is EventStatus.DONE and "was fulfilled before" in again_1.reason, again_1.reason
    assert "refund" not in again_1.reason, again_1.reason
    assert len(_refunds(world, order)) == 1
    assert _event(world, refund_sk)["status"] == "done"
    assert _attention(world) == []


def test_a_refund_after_the_capture_waits_for_the_pack_of_its_line(world: World) -> None:
    """GIVEN an order packed in two pick orders whose pick order 2's 102 was told first and captured WHEN PeakWMS's
    refund of a unit of pick order 1's line (104) comes before pick order 1's 102 THEN it is parked, "waiting for
    the pack of line …", nothing refunded; WHEN pick order 1's 102 comes THEN it fulfils all its units and makes
    the refund, once, and nothing needs attention."""
    order = _split_order(world)
    first = world.pack(order, PICK_1, tracking_number="PICK-ONE")
    second = world.pack(order, PICK_2, tracking_number="PICK-TWO")
    _, pack_2 = _dispatched(world, "pick_order_packed", second)
    assert "598.94 USD captured" in pack_2.reason, pack_2.reason

    refund_sk, waiting = _dispatched(world, "order_refunded", _refund_104(world, order, "199.00", {0: 1}))

    line = order["line_items"][0]["id"]
    assert waiting.status is EventStatus.SKIPPED, waiting.reason
    assert f"waiting for the pack of line {line} (1 unit(s) of it left to fulfil" in waiting.reason, waiting.reason
    assert _refunds(world, order) == []
    assert [p.event_sk for p in refunds_parked.parked(world.ports.table, CONNECTION)] == [refund_sk]

    _, pack_1 = _dispatched(world, "pick_order_packed", first)

    assert pack_1.status is EventStatus.DONE and "1 line(s), 1 unit(s)" in pack_1.reason, pack_1.reason
    assert f"the refund parked with event {refund_sk}: done" in pack_1.reason, pack_1.reason
    assert len(_refunds(world, order)) == 1
    assert _event(world, refund_sk)["status"] == "done"
    assert _left_to_fulfil(world, order) == {0: 0, 1: 0, 2: 0}
    assert _attention(world) == []


def test_an_operators_retry_of_a_refund_waiting_for_its_line_refunds_at_once(world: World) -> None:
    """GIVEN a captured order's refund of a line still to fulfil, parked for its pack WHEN an operator retries the
    104's event (the pack is not coming: PeakWMS refunded what it will not ship) THEN the refund is made at once,
    Shopify takes the unit off what is left to fulfil, and it is no longer parked."""
    order = _split_order(world)
    _dispatched(world, "pick_order_packed", world.pack(order, PICK_2))
    refunded = _refund_104(world, order, "199.00", {0: 1})
    refund_sk, waiting = _dispatched(world, "order_refunded", refunded)
    assert waiting.status is EventStatus.SKIPPED, waiting.reason

    retried = world.handle("order_refunded", refunded, sk=refund_sk, redrive="operator")

    assert retried.status is EventStatus.DONE and "refunded 199.00 USD and 1 unit(s)" in retried.reason
    assert len(_refunds(world, order)) == 1
    assert _left_to_fulfil(world, order)[0] == 0
    assert refunds_parked.parked(world.ports.table, CONNECTION) == []
