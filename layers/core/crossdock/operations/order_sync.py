"""Manual sync of one order by its id (`crossdock orders sync <connection> <id>`; SPEC §2 and §3 troubleshooting),
for every kind that has one (`Integration.manual_sync`): a Shopbox basket uid, a Webshipper order id or a Rackbeat
order number.

An order that is in both systems already is answered "already transferred" with the other system's number, and
nothing is sent. Otherwise a request goes on the inbound queue (marked as an operator's redrive) and the kind's
route transfers it the way its webhooks or polls do — looking in the target before it creates — so a sync sent
twice, or for an order whose binding was lost, never makes a second order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from crossdock import registry
from crossdock.connections.model import ConnectionState
from crossdock.operations import inbound
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections
from crossdock.topics import CROSSDOCK_SOURCE


class InvalidId(Refused):
    """The id is not one of the connection's kind (the message names the forms it may take)."""


@dataclass(frozen=True)
class OrderSync:
    connection_id: str
    key: str
    described: str  # "Shopbox basket 81"
    # What the order already is in the other system (then nothing was sent): "Rackbeat order 1021 (done)".
    transferred_as: str | None = None
    # The request sent to transfer it (None when it was already transferred).
    event_id: str | None = None
    message_id: str | None = None

    @property
    def already_transferred(self) -> bool:
        return self.transferred_as is not None


def sync_order(target: OperatorTarget, connection_id: str, text: str) -> OrderSync:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    sync = registry.integration(connection.kind).manual_sync
    if sync is None:
        raise Refused(f"connection {connection_id} is {connection.kind}: its orders have no manual sync")
    try:
        key = sync.parse(text)
    except ValueError as wrong:
        raise InvalidId(f"{wrong} (a {connection.kind} connection syncs by {sync.what})") from None
    described = sync.described(key)
    already = sync.already_transferred(connection, key, target.table)
    if already is not None:
        return OrderSync(connection_id, key, described, transferred_as=already)
    if connection.state is not ConnectionState.ACTIVE:
        raise Refused(f"connection {connection_id} is {connection.state.value}: dispatch would skip the sync")
    event_id = f"order-sync-{uuid.uuid4()}"
    message = inbound.operator_message(connection_id, CROSSDOCK_SOURCE, sync.topic, sync.payload(key), event_id)
    return OrderSync(connection_id, key, described, event_id=event_id, message_id=inbound.enqueue(target, message))
