"""Webshipper's webhooks on a `rackbeat_webshipper` connection (source `webshipper`), and the operator's manual sync
of one order (source `crossdock`, `orders/sync`):

- `order/created`, `order/updated`: the order → one booked Rackbeat order (`order_import`), unless it is ours,
  cancelled, or imported already;
- `shipment/created`: the Rackbeat order shipped, carrier and tracking in its note (`shipped_to_rackbeat`), then
  TRACKING's hand-over (`tracking.hand_over`, with the detail agreed in docs/webshipper.md);
- `orders/sync` (crossdock): `manual_sync`, by Webshipper order id or Rackbeat order number.

A delivery's body is the resource's whole JSON:API document [seen W3]; only its `data.id` is taken from it, and the
order or shipment is read again, so a delivery that is late, repeated or overtaken by a newer one acts on what
Webshipper holds now. A failure the next attempt may not meet (5xx, a timeout, 429, an import of the same order
under way) is raised and the queue tries again; one it would meet again ends `needs_attention` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable

from crossdock.bodies import json_object
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integration import Route
from crossdock.integrations.rackbeat_webshipper import manual_sync, tracking
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.import_mapping import import_refusal
from crossdock.integrations.rackbeat_webshipper.order_import import ImportSystems, import_order, read_order
from crossdock.integrations.rackbeat_webshipper.shipped_to_rackbeat import Shipped, ship_in_rackbeat
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome, first_error
from crossdock.topics import CROSSDOCK_SOURCE

SOURCE = "webshipper"
ORDER_TOPICS = frozenset({"order/created", "order/updated"})
SHIPMENT_CREATED = "shipment/created"


def resource_id(payload: str, kind: str) -> str:
    """`data.id` of a delivery's JSON:API document; `PermanentError` naming the field when it has none."""
    try:
        data = json_object(payload)["data"]
        raw = data["id"] if isinstance(data, dict) else None
    except (ValueError, KeyError) as invalid:
        raise PermanentError(f"Webshipper webhook body is invalid: {first_error(invalid)}") from None
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit():
        raise PermanentError(f"Webshipper webhook body is invalid: data.id: {kind} id expected, not {raw!r}")
    if isinstance(data, dict) and data.get("type") not in (None, kind):
        raise PermanentError(
            f"Webshipper webhook body is invalid: data.type: {kind} expected, not {data.get('type')!r}"
        )
    return str(int(text))


def systems_of(connection: RackbeatWebshipperConnection, ports: DispatchPorts) -> ImportSystems:
    return ImportSystems(
        rackbeat=ports.clients.rackbeat(connection, paced=False),
        webshipper=ports.clients.webshipper(connection),
        table=ports.table,
        now=ports.now(),
    )


def handled(
    event: InboundEvent,
    ports: DispatchPorts,
    work: Callable[[RackbeatWebshipperConnection], Outcome],
    *,
    importing: bool = True,
) -> Outcome:
    """The settings' refusal first (for work that imports: a shipment of an order we sent is mirrored whatever
    `order_transfer` says), then `work`, its `Skip` and `PermanentError` as the event's outcome."""
    connection = RackbeatWebshipperConnection.of(event.connection)
    refusal = import_refusal(connection.settings)
    if refusal and importing:
        return Outcome.skipped(refusal)
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no clients", FailureClass.BUG)
    try:
        return work(connection)
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


def order_changed(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    def work(connection: RackbeatWebshipperConnection) -> Outcome:
        systems = systems_of(connection, ports)
        order = read_order(systems.webshipper, resource_id(event.payload, "orders"))
        imported = import_order(connection, order, systems, look_again=event.redrive is not None)
        if imported.bound_before:
            return Outcome.skipped(imported.summary)
        return Outcome.done(imported.summary, rackbeat_order=str(imported.rackbeat_order))

    return handled(event, ports, work)


def shipment_created(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    def work(connection: RackbeatWebshipperConnection) -> Outcome:
        shipment_id = resource_id(event.payload, "shipments")
        shipped = ship_in_rackbeat(connection, shipment_id, systems_of(connection, ports), look_again=False)
        detail = shipped.details()
        # TRACKING's step reads the hand-over detail agreed in docs/webshipper.md; it never raises for the shop.
        note = tracking.hand_over(event, detail, ports)
        return Outcome.done(f"{shipped.summary}; {note}" if note else shipped.summary, **detail)

    return handled(event, ports, work, importing=False)


def order_sync(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """By Rackbeat order number the sync may export (OUTBOUND's side), so `order_transfer` is asked per direction."""

    def hand_over(shipped: Shipped) -> str:
        return tracking.hand_over(event, shipped.details(), ports)

    def work(connection: RackbeatWebshipperConnection) -> Outcome:
        return manual_sync.run(connection, event, systems_of(connection, ports), hand_over)

    return handled(event, ports, work, importing=False)


ROUTES: tuple[Route, ...] = (
    Route(SOURCE, ORDER_TOPICS, order_changed),
    Route(SOURCE, frozenset({SHIPMENT_CREATED}), shipment_created),
    Route(CROSSDOCK_SOURCE, frozenset({manual_sync.SYNC_TOPIC}), order_sync),
)
