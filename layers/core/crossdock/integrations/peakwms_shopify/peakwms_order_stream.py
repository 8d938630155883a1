"""`peakwms#orders`: the poll stream that finds the orders PeakWMS packed or shipped whose "order packed" (102)
never reached the connection — PeakWMS gave up on it (its simulator tries 4 times), or it came while the connection
was paused — so the Shopify order is still unfulfilled and its payment uncaptured. It repairs nothing itself: it
returns the 102 message PeakWMS would have sent, the poll flow queues it, and dispatch hands it to the existing
route (`peakwms_webhooks` → `message_packed.order_packed`: the lines fulfilled, the payment captured once, under the
order's lease), so there is one copy of that logic.

The fact sheet has no listing of sales orders by change, so the run walks the connection's own open bindings
(`MAP#order#shopify#<id>` with a PeakWMS sales order, not cancelled, not closed by this stream) and reads each from
PeakWMS (`get_sales_order`: one GET per open order, paced with every other call of the PeakWMS account at 240 a
minute — 200 open orders are 50 seconds of a run). Per binding:
- PeakWMS has it cancelled, or no longer has it: the binding is closed (never read again);
- PeakWMS has it Packed, Shipped (or DropShip, SentTogether): the Shopify order's fulfillment orders are read (one
  query). Nothing left to fulfil: closed. Something left, seen so for `GRACE_SECONDS` (the first sighting is kept
  on the binding, so a 102 still in PeakWMS's retries is not raced): a 102 of what is left — each PeakWMS line, at
  most what Shopify has left of it, `paymentCaptured` as PeakWMS's payment status says. The sales order carries no
  pick orders or tracking [doc P1: its fields], so that fulfilment has none (docs/known-limits.md);
- anything else (created, held, released, picked): nothing; read again next run.

A closed binding carries `sweep_closed` (the moment); the route's next write of the binding (a later
`orders/updated`) drops it, and the stream looks at that order once more. The walk's position is the last binding
read (sort key), so a run short of time or over `MAX_ORDERS` goes on from there; after the last one it starts over.
A message switched off (`messages.order_packed_capture`, `messages.payment_captured`) is not sent, and both off
switch the stream off.

Each run also looks at the refunds (104) parked for the 102 that captures their order (`refunds_after_capture`):
one parked longer than a day needs attention on its event, naming the order.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from crossdock.connections.model import Connection
from crossdock.connectors.peakwms import sales_orders
from crossdock.connectors.peakwms.shapes import (
    CANCELLED,
    ORDER_STATES,
    PACKED,
    PAYMENT_CAPTURED,
    SHIPPED,
    PeakSalesOrder,
)
from crossdock.connectors.peakwms.webhook_events import topic
from crossdock.connectors.shopify import fulfillments
from crossdock.errors import PermanentError
from crossdock.integrations.peakwms_shopify import order_binding, refunds_after_capture
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.ports import PollEvent, PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events, keys

STREAM = "peakwms#orders"
SOURCE = "peakwms"
PACKED_TOPIC = topic("pick_order_packed")
POLL_TOPIC = "crossdock/peakwms_pack_sweep"
REDRIVE = "reconciliation"
POLL_MINUTES = 15
# PeakWMS retries a webhook for a while [guess: 3 retries within 15 minutes]: an order seen packed and unfulfilled
# is sent only when an earlier run saw it so at least this long before.
GRACE_SECONDS = 1800
MAX_ORDERS = 200  # PeakWMS GETs per run: 50 s of the account's 240/min
SECONDS_RESERVE = 30.0
PACKED_STATES = frozenset({PACKED, SHIPPED, ORDER_STATES["DropShip"], ORDER_STATES["SentTogether"]})
CLOSED = "sweep_closed"
SEEN_PACKED = "sweep_packed_seen"
BINDING_PREFIX = keys.mapping_sk(order_binding.ORDER, order_binding.SHOPIFY, "")
SHOWN = 10


class PeakwmsOrderStream:
    """`ports.StreamHandler` of `peakwms#orders`: on while either pack message is switched on."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        own = PeakwmsShopifyConnection.of(connection)
        messages = own.settings.messages
        if not (messages.order_packed_capture or messages.payment_captured):
            return None
        return StreamSchedule.every(POLL_MINUTES, f"Crossdock PeakWMS packed orders, {own.shop_domain}")

    def overlap(self, connection: Connection) -> None:
        return None  # positions are binding sort keys

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return sweep_packed(PeakwmsShopifyConnection.of(connection), since, until, ports)


def open_bindings(table: Any, connection_id: str, after: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """The connection's bindings with a PeakWMS sales order, neither cancelled nor closed, in sort-key order from
    `after` (exclusive): `(order id, item)` pairs, page by page."""
    resuming = after is not None and after.startswith(BINDING_PREFIX)
    within = Key("sk").between(after, BINDING_PREFIX + "\uffff") if resuming else Key("sk").begins_with(BINDING_PREFIX)
    condition = Key("pk").eq(keys.connection_pk(connection_id)) & within
    # A binding without a status is a created one (`order_binding.binding`); one without a target never reached PeakWMS.
    status = Attr("status").not_exists() | Attr("status").ne(order_binding.CANCELLED)
    wanted = Attr(CLOSED).not_exists() & status & Attr("target_id").exists() & Attr("target_id").ne("")
    query: dict[str, Any] = {"KeyConditionExpression": condition, "FilterExpression": wanted}
    while True:
        page = table.query(**query)
        for item in page.get("Items") or []:
            if item["sk"] == after:
                continue  # read by the run before (`between` includes it)
            yield str(item["sk"])[len(BINDING_PREFIX) :], item
        if not page.get("LastEvaluatedKey"):
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass
class Swept:
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # Shopify order ids sent as 102
    closed: list[str] = field(default_factory=list)
    peakwms_reads: int = 0
    shopify_reads: int = 0


def sweep_packed(connection: PeakwmsShopifyConnection, since: str | None, until: str, ports: PollPorts) -> PollResult:
    now = ports.now()
    # The refunds parked for a capture (one GetItem): one parked too long needs attention, once.
    refunds = refunds_after_capture.look_at_parked(connection, ports.table, now)
    peakwms = ports.clients.peakwms(connection)
    swept = Swept()
    last: str | None = None
    complete = True
    for order_id, item in open_bindings(ports.table, connection.id, since):
        if swept.peakwms_reads >= MAX_ORDERS or ports.seconds_left() < SECONDS_RESERVE:
            complete = False
            break
        last = BINDING_PREFIX + order_id
        swept.peakwms_reads += 1
        found = sales_orders.get_sales_order(peakwms, order_id)
        if found is None or found.state == CANCELLED:
            _close(ports.table, connection.id, order_id, now)
            swept.closed.append(order_id)
        elif found.state in PACKED_STATES:
            _look_at_packed(connection, order_id, item, found, now, ports, swept)
    # Walked to the end: the next run starts over; else it goes on after the last binding read.
    position = "start" if complete or last is None else last
    report: dict[str, Any] = {
        "peakwms_reads": swept.peakwms_reads,
        "shopify_reads": swept.shopify_reads,
        "packs_enqueued": swept.sent,
        "closed": len(swept.closed),
        "complete": complete,
        "refunds_parked": refunds.parked,
        "refunds_overdue": refunds.overdue,
        "refunds_recorded": refunds.recorded,
    }
    return PollResult(swept.messages, position, report, _event(swept))


def _look_at_packed(
    connection: PeakwmsShopifyConnection,
    order_id: str,
    item: dict[str, Any],
    found: PeakSalesOrder,
    now: float,
    ports: PollPorts,
    swept: Swept,
) -> None:
    captured = found.payment_status == PAYMENT_CAPTURED
    switch = "payment_captured" if captured else "order_packed_capture"
    if not getattr(connection.settings.messages, switch):
        return  # the route would skip it: nothing to send, the binding stays open for when it is switched on
    swept.shopify_reads += 1
    try:
        state = fulfillments.fulfillment_orders(ports.clients.shopify(connection), order_id, with_lines=True)
    except PermanentError:
        _close(ports.table, connection.id, order_id, now)  # the shop no longer has the order
        swept.closed.append(order_id)
        return
    left: dict[str, int] = {}
    for fo in state.fulfillable():
        for line in fo.lines:
            number = line.line_item_id.rsplit("/", 1)[-1]
            left[number] = left.get(number, 0) + line.remaining
    lines = [
        {"orderLineId": line.order_line_id, "quantity": min(line.quantity_requested, left.get(line.order_line_id, 0))}
        for line in found.lines
        if min(line.quantity_requested, left.get(line.order_line_id, 0)) > 0
    ]
    if not lines:
        if not state.waiting():
            _close(ports.table, connection.id, order_id, now)
            swept.closed.append(order_id)
        return
    seen = item.get(SEEN_PACKED)
    if seen is None:
        _mark(ports.table, connection.id, order_id, SEEN_PACKED, now)
        return
    if now - float(seen) < GRACE_SECONDS:
        return
    body = {"orderId": order_id, "paymentCaptured": captured, "orderLines": lines}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    swept.messages.append(
        {
            "source": SOURCE,
            "connection_id": connection.id,
            "event_id": f"poll-packed-{order_id}-{digest}",
            "topic": PACKED_TOPIC,
            "received_at": events.received_stamp(),
            "payload": json.dumps(body, separators=(",", ":")),
            "redrive": REDRIVE,
        }
    )
    swept.sent.append(order_id)


def _close(table: Any, connection_id: str, order_id: str, now: float) -> None:
    _mark(table, connection_id, order_id, CLOSED, now)


def _mark(table: Any, connection_id: str, order_id: str, name: str, now: float) -> None:
    """An attribute on the binding, only if the binding is still there (never a binding made by this stream)."""
    with contextlib.suppress(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": BINDING_PREFIX + order_id},
            UpdateExpression="SET #name = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#name": name},
            ExpressionAttributeValues={":now": int(now)},
        )


def _event(swept: Swept) -> PollEvent | None:
    if not swept.sent:
        return None
    shown = ", ".join(swept.sent[:SHOWN]) + (f" and {len(swept.sent) - SHOWN} more" if len(swept.sent) > SHOWN else "")
    payload = json.dumps({"orders": swept.sent}, separators=(",", ":"))
    reason = f"{len(swept.sent)} order(s) PeakWMS packed that the shop has not fulfilled, sent on as packed: {shown}"
    return PollEvent(POLL_TOPIC, reason, payload)


STREAMS: dict[str, StreamHandler] = {STREAM: PeakwmsOrderStream()}
