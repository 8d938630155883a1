"""Asking Crossdock to look at one Shopify order again (SPEC §2 "manual order sync"): dispatch fetches the order
from Shopify and handles it like `orders/updated`; an order already in Rackbeat is skipped, never duplicated."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.operations import inbound
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections
from crossdock.topics import RESYNC_TOPIC as RESYNC_TOPIC

RESYNC_SOURCE = "crossdock"
_ORDER_GID = re.compile(r"gid://shopify/Order/(\d+)")


@dataclass(frozen=True)
class ResyncRequest:
    connection_id: str
    order_id: str
    event_id: str
    message_id: str
    message: dict[str, Any]


def parse_order_id(text: str) -> str:
    """Shopify's numeric order id (as in the admin URL `/orders/<id>`), or its GraphQL id; not the order name
    (#1001), which Shopify does not look orders up by. ValueError names the problem."""
    value = text.strip()
    gid = _ORDER_GID.fullmatch(value)
    if gid:
        value = gid.group(1)
    if not value.isascii() or not value.isdigit() or value.startswith("0"):
        raise ValueError(
            f"order id: {text!r} is not a Shopify order id (the number in the order's admin URL, "
            "e.g. 820982911946154508; not the order name #1001)"
        )
    return value


def resync_order(target: OperatorTarget, connection_id: str, order_id: str) -> ResyncRequest:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    if connection.state is not ConnectionState.ACTIVE:
        raise Refused(f"connection {connection_id} is {connection.state.value}: dispatch would skip the resync")
    event_id = f"resync-{uuid.uuid4()}"
    message = inbound.operator_message(
        connection_id, RESYNC_SOURCE, RESYNC_TOPIC, json.dumps({"order_id": order_id}), event_id
    )
    return ResyncRequest(connection_id, order_id, event_id, inbound.enqueue(target, message), message)
