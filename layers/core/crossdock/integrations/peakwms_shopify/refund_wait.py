"""Whether a PeakWMS refund (104) of lines must wait for a pack (102) still coming (docs/peakwms.md "Messages to
the shop", 104): `waits_for` says what it waits for, or None when it can be made now.

Shopify takes a refunded unit off what is left to fulfil. A refund of a line whose units are all fulfilled takes
nothing off, and one of an amount alone (no lines) takes no unit either: neither waits. A refund of a line Shopify
still has units of to fulfil is safe only when PeakWMS will not send more packs of that line than Shopify has left
after the refund — otherwise a 102 on its way (an order packed in two pick orders, the other pick order's 102 told
first) would find fewer units left than it packed. Whether a pack is still coming is asked of PeakWMS once (its
sales order read, [guess] `GET /salesOrder/{orderId}`), per refunded line still to fulfil:

- coming = the units PeakWMS packed and Shopify has not fulfilled yet (a 102 on its way: packed − fulfilled) + the
  units PeakWMS will still pack (none once the order is Packed, Shipped or Cancelled; else ordered − refunded −
  packed);
- the refund is made now when coming ≤ what Shopify has left of the line after the refund (left − refunded units),
  e.g. a unit PeakWMS refunded because it will not ship it (out of stock for good, damaged, a cancelled line) of an
  order Packed with that line short; otherwise it waits for the line's 102 (parked; that 102 makes it).

The facts relied on, with the fact sheet's marks: the order states 3 Packed, 4 Shipped, 5 Cancelled and a line's
`orderLineId` and `quantityRequested` [seen P1]; that a Packed or Shipped order gets no more pick orders [guess: the
sheet's lifecycle Created → Released → Picked → Packed → Shipped; the simulator keeps a partly packed order
Released]; the read itself [guess]; a line's packed and refunded quantities and that PeakWMS packs no more of a line
than ordered − refunded [guess] (`shapes.SalesOrderLine`). Shopify's side: a fulfillment order line's
`totalQuantity` − `remainingQuantity` is what is fulfilled of it. Whatever is unknown — the read failing or not
finding the order, no such line, no packed quantity, no refunded quantity while the order is still being packed —
waits (the safe side): the line's 102 still makes it, and the sweep's day-long rule surfaces one that never comes.
"""

from __future__ import annotations

from collections.abc import Callable

from crossdock.connectors.peakwms.shapes import CANCELLED, PACKED, SHIPPED, STATE_NAMES, OrderRefunded, PeakSalesOrder
from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.fulfillments import FINISHED, OrderFulfillment
from crossdock.errors import PermanentError, RetryableError

# [guess] no pick order comes after these states (the states themselves [seen P1]).
NOTHING_MORE_PACKED = frozenset({PACKED, SHIPPED, CANCELLED})

# The PeakWMS sales order, read at most once per check (None: PeakWMS has no such order).
PeakOrderRead = Callable[[], PeakSalesOrder | None]


def waits_for(refund: OrderRefunded, state: OrderFulfillment, peak_order: PeakOrderRead) -> str | None:
    """What the refund waits for — the pack of a line it refunds that PeakWMS still has to send — or None when it
    can be made now. `state`: the order's fulfillment orders with their lines; `peak_order` is called only when a
    refunded line still has units to fulfil in Shopify."""
    left: dict[str, int] = {}
    fulfilled: dict[str, int | None] = {}
    for fo in state.fulfillment_orders:
        for line in fo.lines:
            if fo.status != "CANCELLED":
                done, before = line.fulfilled, fulfilled.get(line.line_item_id, 0)
                fulfilled[line.line_item_id] = None if done is None or before is None else before + done
            if fo.status not in FINISHED:
                left[line.line_item_id] = left.get(line.line_item_id, 0) + line.remaining
    units: dict[str, int] = {}
    for line_id, quantity in refund.lines:
        if quantity > 0:
            units[line_id] = units.get(line_id, 0) + quantity
    unfulfilled = {line_id: q for line_id, q in units.items() if left.get(fulfillments.line_item_gid(line_id), 0) > 0}
    if not unfulfilled:
        return None
    try:
        order = peak_order()
    except (RetryableError, PermanentError) as failed:
        line_id = next(iter(unfulfilled))
        return _waiting(line_id, left, state, f"PeakWMS's sales order could not be read: {failed}")
    for line_id, quantity in unfulfilled.items():
        gid = fulfillments.line_item_gid(line_id)
        why = _pack_coming(order, line_id, quantity, left[gid], fulfilled.get(gid, 0))
        if why:
            return _waiting(line_id, left, state, why)
    return None


def _pack_coming(
    order: PeakSalesOrder | None, line_id: str, refunded: int, left: int, fulfilled: int | None
) -> str | None:
    """Why a pack of the line may still come (more than Shopify has left after the refund), or None when none can."""
    if order is None:
        return "PeakWMS has no sales order of it"
    line = next((found for found in order.lines if found.order_line_id == str(line_id).rsplit("/", 1)[-1]), None)
    if line is None or line.quantity_requested <= 0:
        return "PeakWMS's sales order shows no such line"
    if line.quantity_packed is None:
        return "PeakWMS's sales order shows no packed quantity of it"  # [guess] field: unknown, so wait
    if fulfilled is None:
        return "Shopify shows no total of it on its fulfillment orders"
    on_its_way = max(0, line.quantity_packed - fulfilled)
    if order.state in NOTHING_MORE_PACKED:
        to_pack = 0
    elif line.quantity_refunded is None:
        name = "of no known state" if order.state is None else STATE_NAMES.get(order.state, str(order.state))
        return f"PeakWMS's order is {name} and shows no refunded quantity of it"  # [guess] field: unknown, so wait
    else:
        to_pack = max(0, line.quantity_requested - line.quantity_refunded - line.quantity_packed)
    coming = on_its_way + to_pack
    if coming <= max(0, left - refunded):
        return None
    return (
        f"PeakWMS packed {line.quantity_packed} of it ({on_its_way} not fulfilled in Shopify yet) and has {to_pack} "
        "more to pack"
    )


def _waiting(line_id: str, left: dict[str, int], state: OrderFulfillment, why: str) -> str:
    units = left.get(fulfillments.line_item_gid(line_id), 0)
    return f"for the pack of line {line_id} ({units} unit(s) of it left to fulfil in {state.name}; {why})"
