"""Rackbeat's order webhooks past `order.created`, and reading what they name.

Rackbeat does not publish the names of its booked and shipped events (reference/rackbeat.md "Webhooks"); the
simulator's guesses live in this one table, so a real name found later is changed here only. The bodies name a
key only (`{"key_name": "number", "key": "1021"}` for an order, `{"key_name": "id", "key": "7"}` for a shipment):
the handler re-reads the resource.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient

# An order was booked: its lines are final and it can be shipped. Guess: event name.
ORDER_BOOKED = "order.booked"
# One of an order's shipments was picked and marked shipped (the stock was drawn). Guess: event name.
SHIPMENT_SHIPPED = "order_shipment.shipped"
# Event → what its key names.
ORDER_EVENTS: dict[str, str] = {ORDER_BOOKED: "order number", SHIPMENT_SHIPPED: "shipment id"}


def read_shipment(client: RackbeatClient, shipment_id: int) -> dict[str, Any] | None:
    """The shipment (`id, order_number, is_shipped, shipped_at, lines[{line_id, item_id, name, quantity,
    location_id}]`), or None when Rackbeat has none with this id."""
    try:
        found: dict[str, Any] = client.get(f"orders/shipments/{shipment_id}")["order_shipment"]
    except NotFound:
        return None
    return found


def read_order(client: RackbeatClient, number: int) -> dict[str, Any] | None:
    """The order with this number, or None when Rackbeat has none (deleted since the webhook was sent)."""
    try:
        found: dict[str, Any] = client.get(f"orders/{number}")["order"]
    except NotFound:
        return None
    return found
