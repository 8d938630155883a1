"""Rackbeat → Webshipper: a booked order (`transfer_when=order_booked`) or a shipped shipment
(`shipment_shipped`) becomes one Webshipper order, once (issue 15, item 3).

Once, however often the webhook comes and whatever answer is lost: the order's `ext_ref` (`rackbeat-<number>`,
`rackbeat-<number>-<shipment id>`) is unique per Webshipper channel, so `connectors.webshipper.orders.create_order`
looks it up, creates, and on a 422 reads it back and adopts it. What was created is bound in the mapping table
(`MAP#order#rackbeat#<number>[-<shipment id>]` → the Webshipper order id); a repeat delivery finds the binding and
ends `skipped` without a call to either system. An operator's retry (a redrive) looks in Webshipper again.

Calls per order (measured in tests/e2e/test_webshipper_outbound.py, docs/webshipper.md): Rackbeat 1 read of the
order (+1 shipment read for `shipment_shipped`, +1 customer read when `excluded_customer_groups` is set, +1 item
read per line without a location when `line_location_filter` is not `all`); Webshipper 1 look-up + 1 create (+1
read after a 422). The shipping rate: for an order made from a Shopify order whose delivery term names no rate, the
shop is found in the table (`shopify_origin`: one Query and two reads, no external call); an order left to
`default_shipping_rate` reads that rate once per container and 10 minutes (+1 Webshipper call: its drop point).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat import customers as rackbeat_customers
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.order_events import read_order, read_shipment
from crossdock.connectors.rackbeat.products import read_item
from crossdock.connectors.webshipper import catalogue
from crossdock.connectors.webshipper import orders as webshipper_orders
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.shapes import OrderDraft
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.rackbeat_webshipper import shopify_origin
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.export_mapping import (
    EXT_REF_PREFIX,
    plan_export,
)
from crossdock.store import mappings

# The binding of what was sent: `MAP#order#rackbeat#<number>` (or `<number>-<shipment id>`) → Webshipper order id.
ORDER = "order"
RACKBEAT = "rackbeat"


@dataclass(frozen=True)
class Systems:
    """What an export talks to: the connection's two API clients and the table."""

    rackbeat: RackbeatClient
    webshipper: WebshipperClient
    table: Any


def binding_key(ext_ref: str) -> str:
    """The mapping's external id for an `ext_ref` (`rackbeat-1021-7` → `1021-7`)."""
    return ext_ref.removeprefix(EXT_REF_PREFIX)


def sent_order_id(table: Any, connection_id: str, ext_ref: str) -> str | None:
    """The Webshipper order id an earlier export bound to `ext_ref`, or None."""
    found = mappings.get_mapping(table, connection_id, ORDER, RACKBEAT, binding_key(ext_ref))
    target = (found or {}).get("target_id")
    return str(target) if target else None


def export_booked_order(
    connection: RackbeatWebshipperConnection, number: int, systems: Systems, *, look_again: bool = False
) -> str:
    """The booked Rackbeat order `number` as a Webshipper order; returns what was done. Raises `Skip` (settings,
    markers, already sent) or `PermanentError`/`RetryableError` as the systems answer."""
    ext_ref = f"{EXT_REF_PREFIX}{number}"
    _skip_if_sent(connection, ext_ref, systems, look_again)
    order = read_order(systems.rackbeat, number)
    if order is None:
        raise Skip(f"Rackbeat order {number} no longer exists")
    if order.get("is_cancelled"):
        raise Skip(f"Rackbeat order {number} is cancelled")
    if not order.get("is_booked"):
        raise Skip(f"Rackbeat order {number} is not booked (reopened since the webhook was sent?)")
    return _send(connection, _plan(connection, order, None, systems), systems)


def export_shipment(
    connection: RackbeatWebshipperConnection, shipment_id: int, systems: Systems, *, look_again: bool = False
) -> str:
    """The shipped Rackbeat shipment `shipment_id` as a Webshipper order of its own lines (`shipment_shipped`)."""
    shipment = read_shipment(systems.rackbeat, shipment_id)
    if shipment is None:
        raise Skip(f"Rackbeat shipment {shipment_id} no longer exists")
    number = int(shipment["order_number"])
    ext_ref = f"{EXT_REF_PREFIX}{number}-{shipment_id}"
    _skip_if_sent(connection, ext_ref, systems, look_again)
    if not shipment.get("is_shipped"):
        raise Skip(f"Rackbeat shipment {shipment_id} is not shipped")
    order = read_order(systems.rackbeat, number)
    if order is None:
        raise Skip(f"Rackbeat order {number} of shipment {shipment_id} no longer exists")
    # The note's `webshipper-shipment-…` lines say nothing here: INBOUND writes one when Webshipper ships an earlier
    # shipment's order, and makes no Rackbeat shipment for an order we sent (it is shipped already). An order that
    # came from Webshipper, whose shipments INBOUND does make, is skipped by `plan_export`.
    return _send(connection, _plan(connection, order, shipment, systems), systems)


def _skip_if_sent(connection: RackbeatWebshipperConnection, ext_ref: str, systems: Systems, look_again: bool) -> None:
    if look_again:
        return
    sent = sent_order_id(systems.table, connection.id, ext_ref)
    if sent is not None:
        raise Skip(f"{ext_ref} was sent already: Webshipper order {sent}")


def _plan(
    connection: RackbeatWebshipperConnection,
    order: dict[str, Any],
    shipment: dict[str, Any] | None,
    systems: Systems,
) -> OrderDraft:
    settings = connection.settings
    customer = None
    if settings.excluded_customer_groups and settings.order_transfer != "webshipper_to_rackbeat":
        # The order shows its customer's number and name only; the group is on the customer.
        customer = rackbeat_customers.get(systems.rackbeat, int(order["customer_id"]))
    locations: dict[str, str | None] = {}

    def default_location(item: str) -> str | None:
        if item not in locations:
            found = read_item(systems.rackbeat, item) or {}
            place = found.get("default_location")
            place = place.get("number") if isinstance(place, dict) else place
            locations[item] = None if place in (None, "") else str(place)
        return locations[item]

    return plan_export(
        order,
        settings,
        default_location,
        shipment=shipment,
        customer=customer,
        shipping_method=lambda: shopify_origin.shipping_method(systems.table, connection, order),
        needs_drop_point=lambda rate: _needs_drop_point(systems.webshipper, rate),
    )


# What Webshipper said of a rate's drop point, per client (one per connection and container), for `RATE_FACTS_TTL`
# seconds: the default rate's fact is asked once per container instead of once per order. A rate changed in
# Webshipper meanwhile is seen within that time; the settings' save checks it too.
RATE_FACTS_TTL = 600.0
_rate_facts: weakref.WeakKeyDictionary[WebshipperClient, dict[str, tuple[bool, float]]] = weakref.WeakKeyDictionary()


def _needs_drop_point(client: WebshipperClient, rate_id: str) -> bool:
    """Whether Webshipper's rate requires a drop point (`GET /shipping_rates/{id}`, remembered for a while). A rate
    gone from Webshipper is a setting to fix, said so."""
    facts = _rate_facts.setdefault(client, {})
    known = facts.get(rate_id)
    if known is not None and time.monotonic() - known[1] < RATE_FACTS_TTL:
        return known[0]
    rate = catalogue.shipping_rate(client, rate_id)
    if rate is None:
        raise PermanentError(
            f"default_shipping_rate {rate_id} does not exist in Webshipper any more: choose another one",
            FailureClass.UNMAPPED,
        )
    facts[rate_id] = (rate.require_drop_point, time.monotonic())
    return rate.require_drop_point


def _send(connection: RackbeatWebshipperConnection, planned: OrderDraft, systems: Systems) -> str:
    created, new = webshipper_orders.create_order(systems.webshipper, planned)
    mappings.put_mapping(
        systems.table,
        connection.id,
        ORDER,
        RACKBEAT,
        binding_key(planned.ext_ref),
        str(created.id),
        channel_id=planned.channel_id,
    )
    if not new:
        return f"{planned.ext_ref} was in Webshipper already as order {created.id} (adopted)"
    return (
        f"{planned.ext_ref} sent as Webshipper order {created.id}: {len(planned.lines)} line(s), "
        f"rate {planned.rate_id}, channel {planned.channel_id}"
    )
