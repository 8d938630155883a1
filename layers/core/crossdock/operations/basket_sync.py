"""Manual order sync of one Shopbox basket (SPEC §2 troubleshooting, issue 14 item 7): a basket the poll missed is
transferred; one that is in Rackbeat already is answered "already transferred" with its Rackbeat order number, and
nothing is sent.

The transfer itself goes the way every sale goes: a `baskets/sync` request on the inbound queue (marked as an
operator's redrive), which dispatch reads from Shopbox and hands to the basket's order workflow. That workflow is
named after the basket and looks for the order by the basket's reference in Rackbeat before it makes one, so even
a sync sent twice, or for a basket whose mapping was lost, never makes a second order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from crossdock.connections.model import ConnectionState
from crossdock.integrations.rackbeat_shopbox.order_workflow import SYSTEM
from crossdock.integrations.rackbeat_shopbox.sales_inbound import SYNC_TOPIC, parse_basket_uid
from crossdock.operations import inbound
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections, mappings
from crossdock.topics import CROSSDOCK_SOURCE

KIND = "rackbeat_shopbox"
# Mapping states of a basket whose order exists in Rackbeat (`needs_attention`: made, a later stage failed).
TRANSFERRED = frozenset({"transferred", "done", "needs_attention", "cancelled", "credited"})

__all__ = ["BasketSync", "parse_basket_uid", "sync_basket"]


@dataclass(frozen=True)
class BasketSync:
    connection_id: str
    basket_uid: str
    # The Rackbeat order the basket already is (then nothing was sent), and how far it got.
    rackbeat_order: str | None = None
    status: str | None = None
    # The request sent to transfer it (None when it was already transferred).
    event_id: str | None = None
    message_id: str | None = None

    @property
    def already_transferred(self) -> bool:
        return self.rackbeat_order is not None


def sync_basket(target: OperatorTarget, connection_id: str, basket_uid: str) -> BasketSync:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    if connection.kind != KIND:
        raise Refused(f"connection {connection_id} is {connection.kind}: only {KIND} connections have baskets")
    mapped = mappings.get_mapping(target.table, connection_id, "order", SYSTEM, basket_uid) or {}
    if mapped.get("target_id") and mapped.get("status") in TRANSFERRED:
        return BasketSync(connection_id, basket_uid, rackbeat_order=str(mapped["target_id"]), status=mapped["status"])
    if connection.state is not ConnectionState.ACTIVE:
        raise Refused(f"connection {connection_id} is {connection.state.value}: dispatch would skip the sync")
    event_id = f"basket-sync-{uuid.uuid4()}"
    payload = json.dumps({"basket_uid": basket_uid})
    message = inbound.operator_message(connection_id, CROSSDOCK_SOURCE, SYNC_TOPIC, payload, event_id)
    return BasketSync(connection_id, basket_uid, event_id=event_id, message_id=inbound.enqueue(target, message))
