"""Messages 102 PickOrderPacked and 109 OrderStateChanged → the Shopify order fulfilled (and paid) as PeakWMS packs
it (docs/peakwms.md "Messages to the shop").

- 102 with `paymentCaptured=false` (`messages.order_packed_capture`): exactly the pick order's lines are fulfilled
  with its tracking — each `orderLineId` (the Shopify line item id) placed on the fulfillment orders' lines, never
  above what Shopify has left of it; a packed quantity above that needs attention naming `orderLines[n].quantity`
  and nothing of the pick order is fulfilled — then the payment is captured (`message_capture`: once, on the
  first pack, never more than authorised) — and then every refund (104) parked for the order that no pack still
  coming waits for is made (`refunds_after_capture`, which reads the fulfillment orders again, and PeakWMS's sales
  order, only when one is parked), each recorded on its own event; one of a line a pack of which is still coming
  waits for the 102 that fulfils it.
- 102 with `paymentCaptured=true` (`messages.payment_captured`): PeakWMS captured through the payment provider
  already, so the lines are fulfilled and nothing is captured.
- 109 with `paymentStatus=2` [guess] (`messages.payment_captured`): an order PeakWMS packed (state Packed or
  Shipped) and captured is fulfilled — its lines, without tracking (a 109 carries none) — only when the Shopify
  order has no fulfilment yet; after a 102 it has one, and the 109 is skipped.

Partial packs: each pick order is one 102 and fulfils its own lines. Once per pick order: `fulfillmentCreate` takes
no key, so what is about to be fulfilled is recorded first (`pack_plan`: the lines, their units and what Shopify had
left of them), then the pick order after its fulfilment (mapping `pick_order`), and a repeat finds that. A repeat
whose attempt died between Shopify's fulfilment and the record (a crash, a timeout, a lost answer) finds the plan,
sees the planned units gone from the fulfillment orders and a fulfilment made since, and adopts it: the records are
written and the pack goes on to capture. A plan whose units are still left is fulfilled as normal; one whose lines
dropped only partly needs attention naming the line. The 109 plans and adopts the same way. The messages of one
order hold its lease, and each settles the plan an earlier attempt left before doing its own.

A pack the PeakWMS sweep recovered (`peakwms_order_stream`: a 102 with no `pickOrderId`, redriven as
`reconciliation`) is fulfilled without tracking and recorded (mapping `order_fulfilled_by_sweep`: its fulfilment
ids and the units per line). PeakWMS's own 102 of it arriving later (its retry) finds its lines no longer left, and
— when each line's units are within what the sweep fulfilled — puts its tracking on the sweep's fulfilment (as after
a 109), or is skipped when it has none; nothing is fulfilled or captured again. More units than that (more than was
ordered) still needs attention naming `orderLines[n].quantity`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crossdock.connectors.peakwms.shapes import PACKED, PAYMENT_CAPTURED, SHIPPED, OrderPacked, PeakSalesOrder
from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.fulfillments import OrderFulfillment, Tracking
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import RetryableError, Skip
from crossdock.integrations.peakwms_shopify import pack_plan
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_basics import order_lock, require_own_order, require_switch
from crossdock.integrations.peakwms_shopify.message_capture import capture_outstanding
from crossdock.integrations.peakwms_shopify.refunds_after_capture import make_parked
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import mappings
from crossdock.store.outcome import Outcome

PACK_CAPTURE = "order_packed_capture"
CAPTURED = "payment_captured"
PICK_ORDER = "pick_order"
STATE_FULFILLED = "order_fulfilled_by_state"  # an order a 109 fulfilled (its fulfilment ids)
SWEEP_FULFILLED = "order_fulfilled_by_sweep"  # what the sweep's 102s fulfilled (fulfilment ids, units per line)
SWEEP_REDRIVE = "reconciliation"
SYSTEM = "peakwms"


def order_packed(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    packed = OrderPacked.parse(body)
    require_switch(connection, CAPTURED if packed.payment_captured else PACK_CAPTURE)
    require_own_order(ports.table, connection, packed.order_id)
    shopify = ports.clients.shopify(connection)
    with order_lock(ports.table, connection, packed.order_id):
        swept = event.redrive == SWEEP_REDRIVE and not packed.pick_order_id
        fulfilled = _fulfil_pick_order(connection, packed, body, ports.table, shopify, swept)
        if isinstance(fulfilled, Outcome):
            return fulfilled
        if packed.payment_captured:
            refunded = _parked_refunds(connection, packed.order_id, shopify, ports.table, ports.clients)
            return Outcome.done(f"{fulfilled}; PeakWMS captured the payment (nothing captured here){refunded}")
        captured = capture_outstanding(shopify, packed.order_id)
        if not captured.ok:
            return Outcome.needs_attention(f"{fulfilled}; {captured.text}")
        refunded = _parked_refunds(connection, packed.order_id, shopify, ports.table, ports.clients)
        return Outcome.done(f"{fulfilled}; {captured.text}{refunded}")


def _parked_refunds(
    connection: PeakwmsShopifyConnection, order_id: str, shopify: ShopifyAdmin, table: Any, clients: Any
) -> str:
    """The refunds (104) that came before this capture and were parked for it, made now, each recorded on its own
    event (`refunds_after_capture`); what was done, for this pack's outcome."""
    made = make_parked(connection, order_id, shopify, table, lambda: clients.peakwms(connection))
    return f"; {made}" if made else ""


def _fulfil_pick_order(
    connection: PeakwmsShopifyConnection,
    packed: OrderPacked,
    body: dict[str, Any],
    table: Any,
    shopify: ShopifyAdmin,
    swept: bool,
) -> str | Outcome:
    """The pick order's lines fulfilled (or found fulfilled before): what was done, or the outcome that stops."""
    key = packed.pick_order_id or hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    what = f"pick order {key} of order {packed.order_id}"
    if mappings.get_mapping(table, connection.id, PICK_ORDER, SYSTEM, key) is not None:
        return f"{what} was fulfilled before"
    state = fulfillments.fulfillment_orders(shopify, packed.order_id, with_lines=True)
    if not state.fulfillment_orders:
        # Shopify makes them a moment after the order [seen H9]; a pack is long after, but a retry costs nothing.
        raise RetryableError(f"{state.name} has no fulfillment orders yet", retry_after=30.0)
    number = packed.tracking_number
    earlier = _settle_earlier(table, connection.id, state, packed.order_id, key)
    if earlier is not None and earlier.problem:
        return Outcome.needs_attention(f"{what}: {earlier.problem}; nothing of it fulfilled again")
    if earlier is not None and earlier.happened:
        # An attempt (this event's, or a copy of the same 102's) that died after Shopify fulfilled, before the record.
        return f"{what} was fulfilled by an earlier attempt at it ({_ids(earlier.fulfillment_ids)}), adopted"
    if number and number in state.tracking_numbers:
        mappings.put_mapping(table, connection.id, PICK_ORDER, SYSTEM, key, "", order=packed.order_id)
        return f"{what} was fulfilled before (tracking {number} is on {state.name})"
    tracking = Tracking(None, (number,), (packed.tracking_url,) if packed.tracking_url else ()) if number else None
    notify = connection.settings.fulfillment.notify_customer
    quantities: dict[str, int] = {}
    indexes: dict[str, int] = {}
    for index, (line_id, quantity) in enumerate(packed.lines):
        if quantity <= 0:
            continue
        problem = _over_packed(state, index, line_id, quantities.get(line_id, 0) + quantity)
        if problem:
            by_state = mappings.get_mapping(table, connection.id, STATE_FULFILLED, SYSTEM, packed.order_id)
            if by_state is not None:
                return _tracking_added(shopify, by_state, what, tracking, notify, table, connection.id, key)
            by_sweep = mappings.get_mapping(table, connection.id, SWEEP_FULFILLED, SYSTEM, packed.order_id)
            if by_sweep is not None and _within_sweep(by_sweep, packed):
                added = _tracking_added(shopify, by_sweep, what, tracking, notify, table, connection.id, key, "sweep")
                if tracking is None:
                    raise Skip(f"{added}; PeakWMS's pack carries no tracking to add (nothing fulfilled or captured)")
                return Outcome.done(f"{added}; nothing fulfilled or captured again")
            return Outcome.needs_attention(f"{what}: {problem}; nothing of it fulfilled")
        quantities[line_id] = quantities.get(line_id, 0) + quantity
        indexes.setdefault(line_id, index)
    if not quantities:
        raise Skip(f"{what} packed no units")
    plan = pack_plan.record(table, connection.id, state, packed.order_id, key, quantities, indexes, swept)
    done = fulfillments.fulfil_lines(shopify, state, quantities, tracking, notify)
    _completed(table, connection.id, plan, done.fulfillment_ids, done.fulfilled)
    units = sum(done.fulfilled.values())
    with_tracking = f" with tracking {number}" if number else " without tracking"
    return f"{what}: {len(done.fulfilled)} line(s), {units} unit(s) of {state.name} fulfilled{with_tracking}"


def _settle_earlier(
    table: Any, connection_id: str, state: OrderFulfillment, order_id: str, message: str
) -> pack_plan.Settled | None:
    """The plan an earlier attempt of one of the order's messages left (`pack_plan`): when its fulfilment happened,
    its records are written now (so this message finds the order fulfilled by it: a retry its own fulfilment, a 102
    the sweep's or a 109's). What became of it when it was this `message`'s own plan, else None."""
    plan = pack_plan.pending(table, connection_id, order_id)
    if plan is None:
        return None
    settled = pack_plan.settle(plan, state)
    if settled.happened:
        _completed(table, connection_id, plan, settled.fulfillment_ids, plan.units())
    return settled if plan.message == message else None


def _completed(
    table: Any, connection_id: str, plan: pack_plan.PackPlan, fulfillment_ids: tuple[str, ...], units: dict[str, int]
) -> None:
    """The records of a fulfilment made for `plan` (just now, or by an attempt that died after Shopify fulfilled):
    the pick order's (and for the sweep's pack what it fulfilled), or the 109's; then the plan is closed."""
    ids = ",".join(fulfillment_ids)
    if plan.message == pack_plan.STATE_CHANGE:
        if fulfillment_ids:
            mappings.put_mapping(table, connection_id, STATE_FULFILLED, SYSTEM, plan.order_id, ids, order=plan.order_id)
    else:
        mappings.put_mapping(table, connection_id, PICK_ORDER, SYSTEM, plan.message, ids, order=plan.order_id)
        if plan.swept and fulfillment_ids:
            _record_sweep(table, connection_id, plan.order_id, fulfillment_ids, units)
    pack_plan.close(table, connection_id, plan)


def _ids(fulfillment_ids: tuple[str, ...]) -> str:
    return "fulfilment " + ", ".join(found.rsplit("/", 1)[-1] for found in fulfillment_ids)


def _tracking_added(
    shopify: ShopifyAdmin,
    earlier: dict[str, Any],
    what: str,
    tracking: Tracking | None,
    notify: bool,
    table: Any,
    connection_id: str,
    key: str,
    by: str = "state",
) -> str:
    """A pack whose 109 (or the sweep's 102) came first and fulfilled the order without tracking: the pick order's
    tracking is put on that fulfilment (setting the same tracking again is harmless), nothing is fulfilled twice."""
    ids = [found for found in str(earlier.get("target_id") or "").split(",") if found]
    added = ""
    if tracking is not None and ids:
        fulfillments.update_tracking(shopify, ids[0], tracking, notify)
        added = f"; its tracking {tracking.numbers[0]} put on that fulfilment"
    mappings.put_mapping(table, connection_id, PICK_ORDER, SYSTEM, key, ",".join(ids), order=earlier.get("order"))
    earlier_by = "the PeakWMS sweep's recovered pack" if by == "sweep" else "PeakWMS's order state change"
    return f"{what} was fulfilled before, by {earlier_by}{added}"


def _record_sweep(
    table: Any, connection_id: str, order_id: str, fulfillment_ids: tuple[str, ...], fulfilled: dict[str, int]
) -> None:
    """What the sweep's 102 fulfilled, added to what its earlier ones did (a partly packed order's later pick
    orders): the fulfilment ids, the first first, and the units per Shopify line."""
    earlier = mappings.get_mapping(table, connection_id, SWEEP_FULFILLED, SYSTEM, order_id) or {}
    ids = [found for found in str(earlier.get("target_id") or "").split(",") if found]
    ids += [found for found in fulfillment_ids if found not in ids]
    units = {str(line): int(count) for line, count in (earlier.get("lines") or {}).items()}
    for line, count in fulfilled.items():
        number = str(line).rsplit("/", 1)[-1]
        units[number] = units.get(number, 0) + int(count)
    mappings.put_mapping(
        table, connection_id, SWEEP_FULFILLED, SYSTEM, order_id, ",".join(ids), order=order_id, lines=units
    )


def _within_sweep(by_sweep: dict[str, Any], packed: OrderPacked) -> bool:
    """Whether each line of the pack is within the units the sweep fulfilled of it: PeakWMS's own 102 of a pack the
    sweep recovered. More than that is more than was ordered (the sweep fulfilled what was left), not a repeat."""
    units = {str(line): int(count) for line, count in (by_sweep.get("lines") or {}).items()}
    packed_units: dict[str, int] = {}
    for line_id, quantity in packed.lines:
        if quantity > 0:
            number = str(line_id).rsplit("/", 1)[-1]
            packed_units[number] = packed_units.get(number, 0) + quantity
    return bool(packed_units) and all(count <= units.get(line, 0) for line, count in packed_units.items())


def _over_packed(state: OrderFulfillment, index: int, line_id: str, quantity: int) -> str | None:
    """Why `quantity` of the order line cannot be fulfilled now, naming the packed line; None when it can."""
    gid = fulfillments.line_item_gid(line_id)
    everywhere = [line for fo in state.fulfillment_orders for line in fo.lines if line.line_item_id == gid]
    if not everywhere:
        return f"orderLines[{index}].orderLineId: {line_id} is no line of {state.name} to fulfil"
    left = sum(line.remaining for fo in state.fulfillable() for line in fo.lines if line.line_item_id == gid)
    if quantity <= left:
        return None
    held = sum(line.remaining for fo in state.waiting() for line in fo.lines if line.line_item_id == gid)
    if held:
        statuses = ", ".join(sorted({fo.status for fo in state.waiting()}))
        return (
            f"orderLines[{index}].quantity: {quantity} packed of line {line_id}, {held} of it on a fulfillment order "
            f"that is {statuses} (release it in Shopify, then retry this event)"
        )
    return (
        f"orderLines[{index}].quantity: {quantity} packed of line {line_id}, but {state.name} has {left} of it left "
        "to fulfil"
    )


def order_state_changed(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    require_switch(connection, CAPTURED)
    order = PeakSalesOrder.parse(body)
    if order.payment_status != PAYMENT_CAPTURED:
        raise Skip(f"order {order.order_id}: PeakWMS's payment status is {order.payment_status}, not captured (2)")
    if order.state not in (PACKED, SHIPPED):
        raise Skip(f"order {order.order_id}: captured by PeakWMS but not packed yet (state {order.state})")
    require_own_order(ports.table, connection, order.order_id)
    shopify = ports.clients.shopify(connection)
    with order_lock(ports.table, connection, order.order_id):
        state = fulfillments.fulfillment_orders(shopify, order.order_id, with_lines=True)
        earlier = _settle_earlier(ports.table, connection.id, state, order.order_id, pack_plan.STATE_CHANGE)
        if earlier is not None and earlier.problem:
            return Outcome.needs_attention(f"{state.name}: {earlier.problem}; nothing fulfilled again")
        if earlier is not None and earlier.happened:
            return Outcome.done(
                f"{state.name} was fulfilled without tracking by an earlier attempt of this order's state change "
                f"({_ids(earlier.fulfillment_ids)}), adopted"
            )
        started = any(fo.status in ("IN_PROGRESS", "CLOSED") for fo in state.fulfillment_orders)
        if state.tracking_numbers or started:
            raise Skip(f"{state.name} is fulfilled already (PeakWMS's pack message came first)")
        quantities = {line.order_line_id: line.quantity_requested for line in order.lines if line.quantity_requested}
        planned = fulfillments.placeable(state, quantities)
        if not planned:
            raise Skip(f"{state.name} has nothing left to fulfil")
        indexes = {fulfillments.line_item_gid(line.order_line_id): n for n, line in enumerate(order.lines)}
        plan = pack_plan.record(
            ports.table, connection.id, state, order.order_id, pack_plan.STATE_CHANGE, planned, indexes
        )
        done = fulfillments.fulfil_lines(
            shopify, state, quantities, None, connection.settings.fulfillment.notify_customer
        )
        _completed(ports.table, connection.id, plan, done.fulfillment_ids, done.fulfilled)
        units = sum(done.fulfilled.values())
        return Outcome.done(
            f"{state.name}: {units} unit(s) fulfilled without tracking (PeakWMS packed the order and captured the "
            "payment)"
        )
