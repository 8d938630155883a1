"""Webshipper shipped → Rackbeat shipped (issue 15, the first half of item 5): a Webshipper `shipment/created`
ships the Rackbeat order it belongs to — an order we exported (`ext_ref rackbeat-<number>[-<shipment>]` in
`order_channel`) or one we imported (`other_reference webshipper-<id>`) — once.

The Rackbeat order is found by the Webshipper order: our own `ext_ref` names it; else the import's binding or the
marker. A shipment of a Webshipper order not imported yet (its `shipment/created` overtook the `order/created`)
imports the order first; one whose order is neither ours nor importable is `skipped` with the reason.

What is written, in this order:
1. the order's `note` gets the line `webshipper-shipment-<id>: <carrier> <tracking number>` (docs/webshipper.md) —
   first, so that Rackbeat's `order_shipment.shipped` webhook, which OUTBOUND's "Rackbeat shipped → Webshipper
   dispatched" reads, already finds the order shipped from Webshipper and does not loop back; the carrier and
   tracking number are kept there because a Rackbeat shipment has no free-text field;
2. a Rackbeat shipment of the lines Webshipper shipped (all that is left, or — for a partial Webshipper shipment —
   the lines of its SKUs), adopted rather than made again when a lost answer made it already;
3. that shipment marked shipped (a 422 from a lost answer that did ship it is success);
4. the binding `MAP#shipment#webshipper#<id>` → the Rackbeat shipment, status `done`: a repeat ends `skipped`.
All of it under a lease per shipment (`webshipper-ship#<connection>#<id>`): the webhook, the poll's message
(`webshipper_stream`) and a manual sync may bring the same shipment at the same moment; the second is retried by
the queue and then finds it `done`.
An order already shipped in full in Rackbeat (shipped there first; or `transfer_when=shipment_shipped`, where each
Webshipper order is one Rackbeat shipment that is shipped already) gets only the note line.

The result (`Shipped`) is what TRACKING is handed: the event's details name `rackbeat_order`, `shipment_id`,
`carrier`, `tracking_number`, `tracking_url`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crossdock.connectors.rackbeat import orders as rackbeat_orders
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.connectors.webshipper import catalogue
from crossdock.connectors.webshipper.shapes import Shipment, WebshipperOrder
from crossdock.errors import FailureClass, PermanentError, RetryableError, Skip
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.import_mapping import (
    OURS_PREFIX,
    described,
    import_reference,
    is_ours,
)
from crossdock.integrations.rackbeat_webshipper.order_import import (
    ImportSystems,
    import_order,
    imported_number,
    read_order,
)
from crossdock.store import leases, mappings

SHIPMENT = "shipment"
WEBSHIPPER = "webshipper"  # `MAP#shipment#webshipper#<Webshipper shipment id>` → the Rackbeat shipment id
NOTE_PREFIX = "webshipper-shipment-"
# Longer than mirroring a shipment can take (a few calls to each system); a crashed holder's lease lapses.
LEASE_SECONDS = 120.0
_OURS = re.compile(rf"{OURS_PREFIX}(\d+)(?:-(\d+))?")


@dataclass(frozen=True)
class Shipped:
    """A Webshipper shipment as it is now in Rackbeat: what TRACKING is handed (docs/webshipper.md)."""

    rackbeat_order: int
    shipment_id: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    webshipper_order: str
    summary: str

    def details(self) -> dict[str, str]:
        shown = {
            "rackbeat_order": str(self.rackbeat_order),
            "shipment_id": self.shipment_id,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
            "webshipper_order": self.webshipper_order,
        }
        return {key: value for key, value in shown.items() if value}


def note_line(shipment: Shipment) -> str:
    """`webshipper-shipment-<id>: <carrier> <tracking number>` (each part only when Webshipper has it)."""
    parts = [shipment.carrier_name or (f"carrier {shipment.carrier_id}" if shipment.carrier_id else None)]
    parts += [tracking.number for tracking in shipment.tracking]
    return f"{NOTE_PREFIX}{shipment.id}: {' '.join(part for part in parts if part)}".rstrip()


def has_note_line(order: dict[str, Any], shipment_id: str) -> bool:
    lines = str(order.get("note") or "").splitlines()
    return any(line.strip().startswith(f"{NOTE_PREFIX}{shipment_id}:") for line in lines)


def ship_in_rackbeat(
    connection: RackbeatWebshipperConnection, shipment_id: str, systems: ImportSystems, *, look_again: bool = False
) -> Shipped:
    """Marks the Rackbeat order of the Webshipper shipment shipped; raises `Skip` (a return, already done, an order
    we do not know), `PermanentError` or `RetryableError`."""
    _skip_if_done(connection, shipment_id, systems, look_again)
    # One event at a time per shipment: its webhook and the poll's message (or a manual sync) may be handled at the
    # same moment, and neither the note line nor the Rackbeat shipment can be written twice. The second is retried.
    name = f"webshipper-ship#{connection.id}#{shipment_id}"
    lease = leases.claim(systems.table, name, uuid.uuid4().hex, systems.now, LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"Webshipper shipment {shipment_id} is being shipped in Rackbeat by another event")
    try:
        _skip_if_done(connection, shipment_id, systems, look_again)  # the holder before may have finished it
        return _ship_held(connection, shipment_id, systems, look_again)
    finally:
        leases.release(systems.table, lease)


def _skip_if_done(
    connection: RackbeatWebshipperConnection, shipment_id: str, systems: ImportSystems, look_again: bool
) -> None:
    done = mappings.get_mapping(systems.table, connection.id, SHIPMENT, WEBSHIPPER, shipment_id)
    if done and done.get("status") == "done" and not look_again:
        raise Skip(f"Webshipper shipment {shipment_id} already shipped Rackbeat order {done.get('rackbeat_order')}")


def _ship_held(
    connection: RackbeatWebshipperConnection, shipment_id: str, systems: ImportSystems, look_again: bool
) -> Shipped:
    shipment = catalogue.get_shipment(systems.webshipper, shipment_id)
    if shipment is None:
        raise Skip(f"Webshipper has no shipment {shipment_id} (deleted since)")
    if shipment.is_return:
        raise Skip(f"Webshipper shipment {shipment_id} is a return: nothing is shipped in Rackbeat")
    if shipment.order_id is None:
        raise Skip(f"Webshipper shipment {shipment_id} names no order")
    order = read_order(systems.webshipper, shipment.order_id)
    number, shipped_already = _rackbeat_order(connection, order, systems, look_again)
    rackbeat = systems.rackbeat
    current = rackbeat_orders.get_order(rackbeat, number)
    if current.get("is_cancelled"):
        raise PermanentError(
            f"Webshipper shipment {shipment_id} of {described(order)}: Rackbeat order {number} is cancelled; "
            "it cannot be shipped",
            FailureClass.VALIDATION,
        )
    if not has_note_line(current, shipment.id):
        note = "\n".join(part for part in (str(current.get("note") or "").rstrip(), note_line(shipment)) if part)
        rackbeat.put(f"orders/{number}", {"note": note})
    rackbeat_shipment: int | None = None
    if not shipped_already and not current.get("is_shipped"):
        rackbeat_orders.book(rackbeat, number)
        rackbeat_shipment = _ship(rackbeat, number, _wanted(order, shipment, current))
    tracking = shipment.tracking[0] if shipment.tracking else None
    mappings.put_mapping(
        systems.table,
        connection.id,
        SHIPMENT,
        WEBSHIPPER,
        shipment.id,
        "" if rackbeat_shipment is None else str(rackbeat_shipment),
        status="done",
        rackbeat_order=str(number),
    )
    what = f"Rackbeat shipment {rackbeat_shipment} shipped" if rackbeat_shipment else "already shipped in Rackbeat"
    return Shipped(
        rackbeat_order=number,
        shipment_id=shipment.id,
        carrier=shipment.carrier_name,
        tracking_number=tracking.number if tracking else None,
        tracking_url=tracking.url if tracking else None,
        webshipper_order=order.id,
        summary=(
            f"Webshipper shipment {shipment.id} of {described(order)}: Rackbeat order {number} {what}"
            + (f", {shipment.carrier_name or 'carrier'} {tracking.number}" if tracking else "")
        ),
    )


def _rackbeat_order(
    connection: RackbeatWebshipperConnection, order: WebshipperOrder, systems: ImportSystems, look_again: bool
) -> tuple[int, bool]:
    """The Rackbeat order number, and whether Rackbeat shipped it already (a shipment-per-order export)."""
    if is_ours(order, connection.settings):
        match = _OURS.fullmatch(order.ext_ref or "")
        if match is None:
            raise Skip(f"{described(order)} has our prefix but no Rackbeat order number in {order.ext_ref!r}")
        return int(match.group(1)), match.group(2) is not None
    bound = imported_number(systems.table, connection.id, order.id)
    if bound is not None:
        return bound, False
    found = rackbeat_orders.find_order_by_reference(systems.rackbeat, import_reference(order.id))
    if found is not None:
        return int(found["number"]), False
    try:
        imported = import_order(connection, order, systems, look_again=look_again)
    except Skip as not_ours:
        raise Skip(f"a shipment of {described(order)}, which Rackbeat does not know: {not_ours.reason}") from None
    return imported.rackbeat_order, False


def _wanted(order: WebshipperOrder, shipment: Shipment, rackbeat_order: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The Rackbeat lines (`line_id`, `quantity`) a partial Webshipper shipment covers, by SKU; None: all that is
    left (a shipment naming no lines, or every line of the order)."""
    covered = set(shipment.order_line_ids)
    if not covered or {line.id for line in order.lines} <= covered:
        return None
    quantities: dict[str, int] = {}
    for line in order.lines:
        if line.id in covered and line.sku:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    wanted = []
    for line in rackbeat_order.get("lines") or []:
        sku = str(line.get("item_id"))
        take = min(Decimal(str(line.get("quantity") or 0)), Decimal(quantities.get(sku, 0)))
        if take > 0:
            wanted.append({"line_id": line["id"], "quantity": int(take) if take == int(take) else str(take)})
            quantities[sku] -= int(take)
    return wanted or None


def _ship(rackbeat: RackbeatClient, number: int, lines: list[dict[str, Any]] | None) -> int:
    """An unshipped Rackbeat shipment of the order (one a lost answer made already, else a new one), shipped."""
    open_shipments = [
        s for s in rackbeat.get(f"orders/{number}/shipments")["order_shipments"] if not s.get("is_shipped")
    ]
    if open_shipments:
        shipment: dict[str, Any] = open_shipments[0]
    else:
        body = {"lines": lines} if lines else None
        shipment = rackbeat.post(f"orders/{number}/create-shipment", body)["order_shipment"]
    try:
        rackbeat.post(f"orders/shipments/{shipment['id']}/mark-shipped", {"pick": True})
    except Unprocessable as refused:
        again = rackbeat.get(f"orders/{number}/shipments")["order_shipments"]
        if not any(s["id"] == shipment["id"] and s.get("is_shipped") for s in again):
            raise refused from None
    return int(shipment["id"])
