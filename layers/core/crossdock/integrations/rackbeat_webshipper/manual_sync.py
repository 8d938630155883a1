"""Manual sync of one order (issue 15, item 8; SPEC §3 troubleshooting "manually synchronise Webshipper orders"):
`crossdock orders sync <connection> <id>`, where `<id>` is a Webshipper order id (`1025`, or `webshipper:1025`) or
a Rackbeat order number (`rackbeat:1021`). Never a duplicate.

The operator's side (`SYNC`, `integration.ManualSync`) answers at once, from the bindings, "already transferred"
with the other system's number when the order is in both systems already, and sends nothing. Otherwise it queues an
`orders/sync` request; dispatch (`run`) then
- for a Webshipper order: imports it (`order_import`, which looks for the marker first, so an order whose binding
  was lost is adopted, not made again) and ships in Rackbeat what Webshipper has shipped of it
  (`shipped_to_rackbeat`, each shipment once);
- for a Rackbeat order number: an order that came from Webshipper (`other_reference webshipper-<id>`) is synced as
  that Webshipper order; any other is sent to Webshipper by OUTBOUND's export (`order_export.export_booked_order`,
  which finds it by its `ext_ref` before it creates one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock.bodies import json_object
from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import orders as rackbeat_orders
from crossdock.connectors.rackbeat.client import NotFound
from crossdock.connectors.webshipper import orders as webshipper_orders
from crossdock.errors import PermanentError, Skip
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.export_mapping import export_reference
from crossdock.integrations.rackbeat_webshipper.import_mapping import described, is_ours, webshipper_id_of
from crossdock.integrations.rackbeat_webshipper.order_export import Systems, export_booked_order, sent_order_id
from crossdock.integrations.rackbeat_webshipper.order_import import (
    ImportSystems,
    import_order,
    imported_from,
    imported_number,
    read_order,
)
from crossdock.integrations.rackbeat_webshipper.shipped_to_rackbeat import Shipped, ship_in_rackbeat
from crossdock.ports import InboundEvent
from crossdock.store.outcome import Outcome

SYNC_TOPIC = "orders/sync"
# What follows a shipment marked shipped in Rackbeat (TRACKING's hand-over); returns a note for the reason.
AfterShipped = Callable[[Shipped], str]
WEBSHIPPER_KEY, RACKBEAT_KEY = "webshipper_order", "rackbeat_order"
_ID = re.compile(r"(?:(webshipper|rackbeat):)?\s*#?([0-9]{1,12})")


@dataclass(frozen=True)
class SyncKey:
    """What the operator named: a Webshipper order id or a Rackbeat order number."""

    system: str  # "webshipper" or "rackbeat"
    value: str

    @property
    def described(self) -> str:
        return f"Webshipper order {self.value}" if self.system == "webshipper" else f"Rackbeat order {self.value}"


def parse_key(text: str) -> SyncKey:
    """`1025` or `webshipper:1025` (a Webshipper order id), `rackbeat:1021` (a Rackbeat order number); ValueError
    naming the problem."""
    match = _ID.fullmatch(text.strip().lower())
    if match is None or int(match.group(2)) == 0:
        raise ValueError(
            f"order: {text!r} is neither a Webshipper order id (1025, webshipper:1025) nor a Rackbeat order number "
            "(rackbeat:1021)"
        )
    return SyncKey(match.group(1) or "webshipper", str(int(match.group(2))))


class WebshipperManualSync:
    """`integration.ManualSync` of this kind: what `operations.order_sync` asks before it queues a sync."""

    what = "a Webshipper order id (1025 or webshipper:1025) or a Rackbeat order number (rackbeat:1021)"
    topic = SYNC_TOPIC

    def parse(self, text: str) -> str:
        key = parse_key(text)
        return f"{key.system}:{key.value}"

    def described(self, key: str) -> str:
        return parse_key(key).described

    def already_transferred(self, connection: Connection, key: str, table: Any) -> str | None:
        """The other system's order when both have it (bound by an import or an export), else None."""
        parsed = parse_key(key)
        if parsed.system == "webshipper":
            number = imported_number(table, connection.id, parsed.value)
            return None if number is None else f"Rackbeat order {number}"
        came_from = imported_from(table, connection.id, int(parsed.value))
        if came_from is not None:
            return f"Webshipper order {came_from}"
        sent = sent_order_id(table, connection.id, export_reference(parsed.value))
        return None if sent is None else f"Webshipper order {sent}"

    def payload(self, key: str) -> str:
        parsed = parse_key(key)
        name = WEBSHIPPER_KEY if parsed.system == "webshipper" else RACKBEAT_KEY
        return json.dumps({name: parsed.value})


SYNC = WebshipperManualSync()


def run(
    connection: RackbeatWebshipperConnection, event: InboundEvent, systems: ImportSystems, after: AfterShipped
) -> Outcome:
    """Dispatch's side of an `orders/sync` request; `after` follows each shipment it ships in Rackbeat."""
    try:
        body = json_object(event.payload)
    except ValueError as invalid:
        raise PermanentError(f"{SYNC_TOPIC} payload is invalid: {invalid}") from None
    if body.get(WEBSHIPPER_KEY) is not None:
        return sync_webshipper_order(connection, parse_key(str(body[WEBSHIPPER_KEY])).value, systems, after)
    if body.get(RACKBEAT_KEY) is not None:
        return sync_rackbeat_order(connection, int(parse_key(str(body[RACKBEAT_KEY])).value), systems, after)
    raise PermanentError(f"{SYNC_TOPIC} payload is invalid: names neither {WEBSHIPPER_KEY} nor {RACKBEAT_KEY}")


def sync_webshipper_order(
    connection: RackbeatWebshipperConnection, order_id: str, systems: ImportSystems, after: AfterShipped
) -> Outcome:
    order = read_order(systems.webshipper, order_id)
    if is_ours(order, connection.settings):
        raise Skip(f"{described(order)} is ours ({order.ext_ref}): it was sent from Rackbeat, not imported")
    imported = import_order(connection, order, systems, look_again=True)
    shipped = []
    for shipment in webshipper_orders.order_shipments(systems.webshipper, order.id):
        if shipment.is_return:
            continue
        try:
            done = ship_in_rackbeat(connection, shipment.id, systems)
        except Skip:
            continue  # shipped in Rackbeat already
        note = after(done)
        shipped.append(f"Webshipper shipment {done.shipment_id}" + (f" ({note})" if note else ""))
    reason = imported.summary if imported.created else f"already transferred: {imported.summary}"
    if shipped:
        reason += f"; shipped in Rackbeat: {', '.join(shipped)}"
    return Outcome.done(reason, rackbeat_order=str(imported.rackbeat_order))


def sync_rackbeat_order(
    connection: RackbeatWebshipperConnection, number: int, systems: ImportSystems, after: AfterShipped
) -> Outcome:
    try:
        order = rackbeat_orders.get_order(systems.rackbeat, number)
    except NotFound:
        raise Skip(f"Rackbeat has no order {number}") from None
    came_from = webshipper_id_of(order.get("other_reference"))
    if came_from is not None:
        return sync_webshipper_order(connection, came_from, systems, after)
    if connection.settings.transfer_when != "order_booked":
        raise Skip(
            f"Rackbeat order {number}: transfer_when is 'shipment_shipped': its shipments go to Webshipper as they "
            "are shipped, not the order"
        )
    outbound = Systems(rackbeat=systems.rackbeat, webshipper=systems.webshipper, table=systems.table)
    return Outcome.done(export_booked_order(connection, number, outbound, look_again=True))
