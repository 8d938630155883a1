"""The refunds parked for their capture (`refunds_parked`), made once it came: by the pack (102) that captured the
order, and looked after by the PeakWMS sweep (docs/peakwms.md "Messages to the shop", 104).

`make_parked` runs in the 102 handler after its fulfilment and capture, under the order's lease (no 104 of the
order is handled meanwhile): every refund parked for the order is made through `message_refund.make_refund`, with
the key it was parked under, from its own 104 event's payload, oldest first, and its outcome recorded on that event
(done, or needs_attention in Shopify's words). A refund still not capturable (a pack PeakWMS captured itself, that
Shopify does not show captured) stays parked. Once: a refund Shopify answered before (a 102 retried after a lost
answer, a second 102) is found by its key and only recorded.

A parked refund of lines is made only when no pack of those lines is still coming (`refund_wait`: every line it
refunds fulfilled in Shopify, or PeakWMS's sales order saying it sends no more of them than Shopify has left after
the refund); one of an amount alone takes no unit and is made at the capture. Shopify takes a refunded unit off what
is left to fulfil: an order packed in two pick orders whose second 102 came first would otherwise lose a unit of the
first pick order to the refund, and that pick order's own 102 would find fewer units left than it packed. A refund
that must wait stays parked; the 102 that fulfils its line makes it. The fulfillment orders are read once per 102,
after its fulfilment, and PeakWMS's sales order at most once, only when a refund of lines of the order is parked
and one of its lines is still to fulfil (a 102 of an order with nothing parked reads nothing more).

`look_at_parked` runs in every `peakwms#orders` run (one GetItem when nothing is parked): a parked refund made
already whose event could not be told then (its 104 still being handled at that moment) is recorded now; one
parked longer than `refunds_parked.TOO_LONG` gets needs_attention on its event naming the order, once, and stays
parked — a pack that comes later still makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crossdock.bodies import json_object
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.sales_orders import get_sales_order
from crossdock.connectors.peakwms.shapes import OrderRefunded
from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.fulfillments import OrderFulfillment
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.peakwms_shopify import refund_wait, refunds_parked
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_refund import NotCapturedYet, made_refund, make_refund, refund_key
from crossdock.integrations.peakwms_shopify.refunds_parked import ParkedRefund
from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome


def make_parked(
    connection: PeakwmsShopifyConnection,
    order_id: str,
    shopify: ShopifyAdmin,
    table: Any,
    peakwms: Callable[[], PeakwmsClient],
) -> str:
    """Every refund parked for the order that no pack still coming waits for made now (the caller holds the order's
    lease, has fulfilled its pick order and captured); what was done, for the 102's outcome ("" when nothing was
    parked). `peakwms` gives the PeakWMS client, asked for only when a parked refund's line is still to fulfil."""
    told = []
    # Each read at most once, and only when a parked refund is still to be made: after this 102's own fulfilment.
    fulfilment = cache(lambda: fulfillments.fulfillment_orders(shopify, order_id, with_lines=True))
    peak_order = cache(lambda: get_sales_order(peakwms(), order_id))
    for parked in refunds_parked.parked(table, connection.id, order_id):
        outcome = _make(connection, parked, shopify, table, fulfilment, peak_order)
        if isinstance(outcome, str):
            told.append(f"the refund parked with event {parked.event_sk} still waits {outcome}")
            continue
        if refunds_parked.record_on_event(table, connection.id, parked.event_sk, outcome):
            refunds_parked.unpark(table, connection.id, parked.key)
        told.append(f"the refund parked with event {parked.event_sk}: {outcome.status.value}, {outcome.reason}")
    return "; ".join(told)


def _make(
    connection: PeakwmsShopifyConnection,
    parked: ParkedRefund,
    shopify: ShopifyAdmin,
    table: Any,
    fulfilment: Callable[[], OrderFulfillment],
    peak_order: refund_wait.PeakOrderRead,
) -> Outcome | str:
    """The parked refund's outcome, or what it still waits for (it stays parked)."""
    made = made_refund(table, connection.id, parked.key)
    if made is not None:
        return Outcome.done(
            f"order {parked.order_id}: refunded in Shopify ({made.rsplit('/', 1)[-1]}) after its capture"
        )
    item = events.load_event(table, connection.id, parked.event_sk)
    try:
        body = json_object(str((item or {}).get("payload") or ""))
    except ValueError:
        body = {}
    if refund_key(parked.order_id, body) != parked.key:
        # The event is gone or its payload was redacted: nothing says what to refund any more.
        return Outcome.needs_attention(
            f"order {parked.order_id}: the refund parked with event {parked.event_sk} cannot be read back from it; "
            "nothing refunded (refund it in Shopify by hand)"
        )
    try:
        refund = OrderRefunded.parse(body)
        unpacked = refund_wait.waits_for(refund, fulfilment(), peak_order) if refund.lines else None
        if unpacked:
            return unpacked
        return make_refund(connection, refund, parked.key, shopify, table)
    except NotCapturedYet:
        return "(nothing captured to refund)"
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


@dataclass
class Looked:
    """What a sweep's look at the parked refunds did: orders whose refund it said waited too long, and parked
    refunds made already whose events it recorded."""

    overdue: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    parked: int = 0


def look_at_parked(connection: PeakwmsShopifyConnection, table: Any, now: float) -> Looked:
    looked = Looked()
    for parked in refunds_parked.parked(table, connection.id):
        looked.parked += 1
        made = made_refund(table, connection.id, parked.key)
        if made is not None:
            reason = f"order {parked.order_id}: refunded in Shopify ({made.rsplit('/', 1)[-1]}) after its capture"
            if refunds_parked.record_on_event(table, connection.id, parked.event_sk, Outcome.done(reason)):
                refunds_parked.unpark(table, connection.id, parked.key)
                looked.recorded.append(parked.order_id)
            continue
        if parked.overdue or now - parked.since <= refunds_parked.TOO_LONG:
            continue
        hours = int((now - parked.since) // 3600)
        reason = (
            f"order {parked.order_id}: the refund has waited {hours} hours for the pack (102) of order "
            f"{parked.order_id} that captures it or fulfils the lines it refunds, which has not come; capture the "
            "order in Shopify if it is not (or void its authorisation) and retry this event — a retry refunds at once "
            "what is captured; it stays parked, and a pack that comes still makes it"
        )
        attention = Outcome.needs_attention(reason, FailureClass.VALIDATION)
        if refunds_parked.record_on_event(table, connection.id, parked.event_sk, attention, (EventStatus.SKIPPED,)):
            refunds_parked.mark_overdue(table, connection.id, parked, now)
            looked.overdue.append(parked.order_id)
    return looked
