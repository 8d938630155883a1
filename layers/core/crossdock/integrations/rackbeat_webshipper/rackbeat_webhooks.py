"""Rackbeat's order webhooks on a `rackbeat_webshipper` connection (source `rackbeat`), routed by the settings:
- `order.booked` (events named in `connectors.rackbeat.order_events`): with `transfer_when=order_booked`, the
  order → one Webshipper order (`order_export`); with `shipment_shipped`, skipped.
- `order_shipment.shipped`: with `order_booked`, the order's Webshipper order → dispatched
  (`shipped_to_webshipper`); with `shipment_shipped`, the shipment → one Webshipper order of its own lines.

Nothing goes out when `order_transfer` is `webshipper_to_rackbeat`. The bodies name only a key (`{"key_name":
"number", "key": "1021"}`); each handler re-reads the order, so a late or repeated webhook acts on what Rackbeat
holds now. A failure the next attempt may not meet (a 5xx, a timeout, a lost response, 429) is raised and the
queue tries again; one it would meet again ends `needs_attention` with the reason.

`rackbeat_events(settings)` is what the connection registers in Rackbeat (INSTALL's activation and self-check).
"""

from __future__ import annotations

from collections.abc import Callable

from crossdock.bodies import json_object
from crossdock.connectors.rackbeat.order_events import ORDER_BOOKED, ORDER_EVENTS, SHIPMENT_SHIPPED
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integration import Route
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.export_mapping import transfer_refusal
from crossdock.integrations.rackbeat_webshipper.order_export import Systems, export_booked_order, export_shipment
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.integrations.rackbeat_webshipper.shipped_to_webshipper import dispatch_shipped_order
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome, first_error

SOURCE = "rackbeat"


def rackbeat_events(settings: RackbeatWebshipperSettings) -> list[str]:
    """The Rackbeat events these settings need, sorted: none when orders only come from Webshipper."""
    if transfer_refusal(settings):
        return []
    if settings.transfer_when == "order_booked":
        return sorted({ORDER_BOOKED, SHIPMENT_SHIPPED})  # booked → sent; shipped → dispatched
    return [SHIPMENT_SHIPPED]


def _key(event: InboundEvent) -> int:
    """The order number or shipment id the body names; `PermanentError` naming the field when it names none."""
    try:
        key = json_object(event.payload)["key"]
    except (ValueError, KeyError) as invalid:
        raise PermanentError(f"Rackbeat webhook body is invalid: {first_error(invalid)}") from None
    text = str(key).strip()
    if not text.isdigit() or int(text) == 0:
        raise PermanentError(
            f"Rackbeat webhook body is invalid: key: {ORDER_EVENTS[event.topic]} expected, not {key!r}"
        )
    return int(text)


def _handle(
    event: InboundEvent, ports: DispatchPorts, work: Callable[[RackbeatWebshipperConnection, int, Systems, bool], str]
) -> Outcome:
    connection = RackbeatWebshipperConnection.of(event.connection)
    refusal = transfer_refusal(connection.settings)
    if refusal:
        return Outcome.skipped(refusal)
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no clients", FailureClass.BUG)
    try:
        key = _key(event)
        systems = Systems(
            rackbeat=ports.clients.rackbeat(connection, paced=False),
            webshipper=ports.clients.webshipper(connection),
            table=ports.table,
        )
        return Outcome.done(work(connection, key, systems, event.redrive is not None))
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


def order_booked(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    settings = RackbeatWebshipperConnection.of(event.connection).settings
    if settings.transfer_when != "order_booked":
        return Outcome.skipped("transfer_when is 'shipment_shipped': orders go to Webshipper shipment by shipment")
    return _handle(event, ports, lambda c, key, s, again: export_booked_order(c, key, s, look_again=again))


def shipment_shipped(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    settings = RackbeatWebshipperConnection.of(event.connection).settings
    if settings.transfer_when == "shipment_shipped":
        return _handle(event, ports, lambda c, key, s, again: export_shipment(c, key, s, look_again=again))
    return _handle(event, ports, lambda c, key, s, again: dispatch_shipped_order(c, key, s))


ROUTES: tuple[Route, ...] = (
    Route(SOURCE, frozenset({ORDER_BOOKED}), order_booked),
    Route(SOURCE, frozenset({SHIPMENT_SHIPPED}), shipment_shipped),
)
