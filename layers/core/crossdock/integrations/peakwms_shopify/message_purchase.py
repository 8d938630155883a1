"""Message 103 InboundOrderClosed: a purchase order received in PeakWMS (docs/peakwms.md "Messages to the shop").

Two messages ride on it, each with its switch:

- `messages.average_cost_price`: each line's `averageCostPrice` [guess: the 103's lines carry it; PeakWMS computes
  it only with its purchasing module] becomes the cost of the shop's inventory items carrying the line's SKU
  (`inventoryItemUpdate` cost, in the shop's currency [guess: PeakWMS's prices are in the shop's]). Setting the same
  cost again changes nothing, so a repeat needs no look first.
- `messages.purchase_order_closed` (for an ERP): the event itself, kept in this connection's event log with the
  purchase order as PeakWMS sent it, is the record; and when a `rackbeat_shopify` connection claims the same shop,
  an event `peakwms/purchase_order_closed` (source `crossdock`, done) with the purchase order is recorded on that
  connection, where its operator and the ERP side can read it. Nothing is written to Rackbeat: the ERP link's own
  purchase orders are its business, and booking PeakWMS's receipt there is a decision no setting makes yet.
  The event's id comes from this event's, so a repeat records it once.
"""

from __future__ import annotations

import json
from typing import Any

from crossdock.connectors.peakwms.shapes import PurchaseOrderClosed
from crossdock.connectors.shopify import inventory_items
from crossdock.connectors.shopify.products import variants_with_sku
from crossdock.errors import Skip
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_basics import SWITCHED_OFF, sku_of
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import connection_lookup, events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, finish_event
from crossdock.topics import CROSSDOCK_SOURCE

COST = "average_cost_price"
CLOSED = "purchase_order_closed"
ERP_KIND = "rackbeat_shopify"
ERP_TOPIC = "peakwms/purchase_order_closed"


def purchase_order_closed(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    messages = connection.settings.messages
    if not (messages.average_cost_price or messages.purchase_order_closed):
        raise Skip(f"{SWITCHED_OFF} (messages.{COST}, messages.{CLOSED})")
    purchase = PurchaseOrderClosed.parse(body)
    name = purchase.number or purchase.purchase_order_id or "(no number)"
    parts = []
    parts.append(_costs(connection, purchase, ports) if messages.average_cost_price else f"{COST}: switched off")
    parts.append(
        _for_erp(connection, purchase, event, ports) if messages.purchase_order_closed else f"{CLOSED}: switched off"
    )
    return Outcome.done(f"purchase order {name} closed in PeakWMS: " + "; ".join(parts))


def _costs(connection: PeakwmsShopifyConnection, purchase: PurchaseOrderClosed, ports: DispatchPorts) -> str:
    shopify = ports.clients.shopify(connection)
    peakwms = ports.clients.peakwms(connection)
    set_, unknown = [], []
    for line in purchase.lines:
        if line.average_cost_price is None or line.product_id is None:
            continue
        sku = sku_of(connection, ports.table, peakwms, line.product_id, line.variant_id, line.item_number)
        refs = variants_with_sku(shopify, sku) if sku else []
        if not refs:
            unknown.append(sku or f"{line.product_id}/{line.variant_id}")
            continue
        for ref in refs:
            inventory_items.set_cost(shopify, ref.inventory_item_id, line.average_cost_price)
        set_.append(f"{sku} {line.average_cost_price}")
    text = f"cost set of {len(set_)} SKU(s)" + (f" ({', '.join(set_[:10])})" if set_ else "")
    if unknown:
        text += f"; not in the shop: {', '.join(unknown[:10])}"
    return text


def _for_erp(
    connection: PeakwmsShopifyConnection, purchase: PurchaseOrderClosed, event: InboundEvent, ports: DispatchPorts
) -> str:
    erp = connection_lookup.connection_for_account(ports.table, ERP_KIND, "shopify", connection.shop_domain)
    if erp is None:
        return f"{CLOSED}: kept in this event (no {ERP_KIND} connection on {connection.shop_domain})"
    detail = {
        "peakwms_shopify_connection": connection.id,
        "shop": connection.shop_domain,
        "purchase_order_id": purchase.purchase_order_id,
        "purchase_order_number": purchase.number,
        "purchase_order": dict(purchase.raw),
    }
    event_id = f"peakwms-po-{connection.id}-{event.sk.rsplit('#', 1)[-1]}"[:200]
    sk = events.record_received(
        ports.table, erp, event_id, CROSSDOCK_SOURCE, ERP_TOPIC, json.dumps(detail), event.received_at
    )
    finish_event(
        ports.table,
        erp,
        sk,
        EventStatus.DONE,
        f"PeakWMS closed purchase order {purchase.number or purchase.purchase_order_id} for {connection.shop_domain} "
        f"(from {connection.id}); nothing was written to Rackbeat",
    )
    return f"{CLOSED}: recorded on {erp} for the ERP side (nothing written to Rackbeat)"
