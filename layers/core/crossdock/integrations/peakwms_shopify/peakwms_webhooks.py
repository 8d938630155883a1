"""PeakWMS's messages to the shop on a `peakwms_shopify` connection (source `peakwms`, topics `peakwms/<event>`;
docs/peakwms.md "Messages to the shop"), registered by setup step 5 (`setup_messages`):

| event | message (`messages.*`) | handler |
|---|---|---|
| 100 stock_adjust | stock_adjustments | `message_stock`: the shop's available quantity |
| 101 ean_updates | ean_updates | `message_ean`: the variant's barcode |
| 102 pick_order_packed | order_packed_capture / payment_captured | `message_packed`: fulfil the lines, capture |
| 103 inbound_order_closed | average_cost_price, purchase_order_closed | `message_purchase`: cost; for the ERP |
| 104 order_refunded | order_refunded | `message_refund`: a Shopify refund |
| 109 order_state_changed | payment_captured | `message_packed`: fulfil what PeakWMS captured |

A message switched off (in the settings in force when the event arrived) ends `skipped` "message switched off";
PeakWMS was answered 2xx by ingest already. The other PeakWMS events (105–108, 110, 111) have no route: a
registration for them is none of this step's, and their events end skipped. A payload missing what names its
subject needs attention naming the field; Shopify's or PeakWMS's refusals need attention in their words; what is
retryable (throttling, a busy order lease) is raised for the queue's retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossdock.bodies import json_object
from crossdock.connectors.peakwms.webhook_events import topic
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integration import Route
from crossdock.integrations.peakwms_shopify import (
    message_ean,
    message_packed,
    message_purchase,
    message_refund,
    message_stock,
)
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome

SOURCE = "peakwms"

Handler = Callable[[PeakwmsShopifyConnection, dict[str, Any], InboundEvent, DispatchPorts], Outcome]
HANDLERS: dict[str, Handler] = {
    topic("stock_adjust"): message_stock.stock_adjusted,
    topic("ean_updates"): message_ean.ean_updated,
    topic("pick_order_packed"): message_packed.order_packed,
    topic("inbound_order_closed"): message_purchase.purchase_order_closed,
    topic("order_refunded"): message_refund.order_refunded,
    topic("order_state_changed"): message_packed.order_state_changed,
}


def message_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = PeakwmsShopifyConnection.of(event.connection)
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no clients", FailureClass.BUG)
    try:
        body = json_object(event.payload)
    except ValueError as unreadable:
        return Outcome.needs_attention(f"PeakWMS's {event.topic} payload is invalid: {unreadable}")
    try:
        return HANDLERS[event.topic](connection, body, event, ports)
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


ROUTES: tuple[Route, ...] = (Route(SOURCE, frozenset(HANDLERS), message_event),)
