"""Rackbeat's stock webhooks for a Shopbox connection (`product.stock_changed`, source `rackbeat`): the item is
marked changed and a stock push is asked for on the Shopbox outbound queue (`flows.stock_push` coalesces them).

The body names the item only (`{"key_name": "number", "key": "1021"}`); the push reads its quantities when it runs,
so duplicated or reordered webhooks cannot make an older quantity win.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from crossdock.bodies import json_object
from crossdock.connectors.rackbeat.products import STOCK_EVENTS
from crossdock.errors import FailureClass
from crossdock.integration import Route
from crossdock.integrations.rackbeat_shopbox import stock
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.products import OUTBOUND
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome, first_error

# `flows.stock_push.STOCK_PUSH`: integrations sit below flows, so the command is named again here.
STOCK_PUSH = "stock.push"
SendFifo = Callable[[dict[str, object], str, str], None]  # (message, group id, deduplication id)


def push_request(send: SendFifo, now: Callable[[], float]) -> Callable[[str], None]:
    """One push message per connection and second, however many changes (SQS FIFO deduplication is queue-wide,
    so the id names the connection)."""

    def request(connection_id: str) -> None:
        send(
            {"command": STOCK_PUSH, "connection_id": connection_id},
            connection_id,
            f"stock-{connection_id}-{int(now())}",
        )

    return request


def push_continuation(send: SendFifo) -> Callable[[str], None]:
    """A push's request to go on later: its own deduplication id, never the running message's."""

    def request(connection_id: str) -> None:
        dedupe = f"stock-{connection_id}-continued-{uuid.uuid4().hex}"
        send({"command": STOCK_PUSH, "connection_id": connection_id}, connection_id, dedupe)

    return request


def rackbeat_stock_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = RackbeatShopboxConnection.of(event.connection)
    if not stock.STOCK.enabled(connection):
        return Outcome.skipped("no Shopbox branch is mapped to a Rackbeat location (`locations`, main locations)")
    try:
        number = str(json_object(event.payload)["key"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"Rackbeat webhook body is invalid: {first_error(invalid)}")
    if not number:
        return Outcome.needs_attention("Rackbeat webhook body is invalid: key: empty")
    send_outbound = ports.send_outbound
    if send_outbound is None:
        return Outcome.needs_attention(f"no outbound queue for {event.topic} here", FailureClass.BUG)

    def send(message: dict[str, object], group: str, dedupe: str) -> None:
        send_outbound(OUTBOUND, message, group, dedupe)

    request = push_request(send, ports.now)
    return Outcome.done(stock.stock_changed(connection.id, number, ports.table, ports.now, request, event.heard_at))


ROUTES = (Route("rackbeat", STOCK_EVENTS, rackbeat_stock_event),)
