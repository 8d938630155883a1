"""Rackbeat shipped → Webshipper dispatched (issue 15, the second half of item 5), for `transfer_when=order_booked`:
when the Rackbeat order we sent as `rackbeat-<number>` is shipped in full, its Webshipper order is marked
`dispatched` (`PATCH status=dispatched`).

Never looping back: what Webshipper shipped itself is not dispatched again. Two guards, each enough alone:
- the Rackbeat order's note holds INBOUND's marker line `webshipper-shipment-<id>: …` (docs/webshipper.md), or the
  order came from Webshipper (`other_reference` `webshipper-<id>`);
- the Webshipper order is no longer `pending` (or held: `error`, `missing_rate`, `on_hold`) — a shipment booked in
  Webshipper has already made it `partly_dispatched` or `dispatched`, so a Rackbeat webhook that overtakes
  INBOUND's note finds the order moved on and leaves it.
A partly shipped Rackbeat order waits: Webshipper's `dispatched` covers every line, and the last shipment's
webhook dispatches it.

Calls: Rackbeat 1 shipment read + 1 order read; Webshipper 1 read (by the bound id, or a look-up by `ext_ref` when
the order was sent before the binding existed) + 1 PATCH.
"""

from __future__ import annotations

from crossdock.connectors.rackbeat.order_events import read_order, read_shipment
from crossdock.connectors.webshipper import orders as webshipper_orders
from crossdock.errors import Skip
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.export_mapping import (
    came_from_webshipper,
    export_reference,
    shipped_from_webshipper,
)
from crossdock.integrations.rackbeat_webshipper.order_export import Systems, sent_order_id

# Webshipper statuses an order we sent can still be dispatched from; any other means Webshipper moved it on itself.
DISPATCHABLE = frozenset({"pending", "error", "missing_rate", "on_hold"})


def dispatch_shipped_order(connection: RackbeatWebshipperConnection, shipment_id: int, systems: Systems) -> str:
    """Marks the Webshipper order of the shipment's Rackbeat order dispatched; returns what was done. Raises
    `Skip` for everything that is not ours to dispatch."""
    shipment = read_shipment(systems.rackbeat, shipment_id)
    if shipment is None:
        raise Skip(f"Rackbeat shipment {shipment_id} no longer exists")
    number = int(shipment["order_number"])
    order = read_order(systems.rackbeat, number)
    if order is None:
        raise Skip(f"Rackbeat order {number} of shipment {shipment_id} no longer exists")
    if came_from_webshipper(order):
        raise Skip(f"Rackbeat order {number} came from Webshipper ({order.get('other_reference')}); not sent back")
    if shipped_from_webshipper(order):
        raise Skip(f"Rackbeat order {number} was shipped from Webshipper (its note's webshipper-shipment line)")
    if not order.get("is_shipped"):
        raise Skip(
            f"Rackbeat order {number} is only partly shipped; its Webshipper order is dispatched when all of it is"
        )
    ext_ref = export_reference(number)
    found = _sent_order(connection, ext_ref, systems)
    if found is None:
        raise Skip(f"Rackbeat order {number} was never sent to Webshipper ({ext_ref} is not in its channel)")
    order_id, status = found
    if status not in DISPATCHABLE:
        raise Skip(f"Webshipper order {order_id} ({ext_ref}) is {status} already")
    webshipper_orders.mark_dispatched(systems.webshipper, order_id)
    return f"Webshipper order {order_id} ({ext_ref}) marked dispatched: Rackbeat order {number} is shipped"


def _sent_order(
    connection: RackbeatWebshipperConnection, ext_ref: str, systems: Systems
) -> tuple[str, str | None] | None:
    bound = sent_order_id(systems.table, connection.id, ext_ref)
    if bound is not None:
        order = webshipper_orders.get_order(systems.webshipper, bound)
    else:
        channel = connection.settings.order_channel
        if channel is None:
            return None
        order = webshipper_orders.find_by_ext_ref(systems.webshipper, channel, ext_ref)
    if order is None:
        return None
    return str(order.id), order.status
