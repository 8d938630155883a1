"""Message 100 StockAdjust → the shop's available quantity (`messages.stock_adjustments`; docs/peakwms.md
"Messages to the shop").

An older total never wins. PeakWMS's 100 carries the stock item's new absolute `quantity` but no time and no
sequence [seen P1], and its deliveries may repeat and come out of order [guess], so the payload cannot say which of
two totals is newer. The message is therefore taken as "this variant's stock changed": the handler reads the
shop's level first, then PeakWMS's current stock of the variant (`stock_of`), then writes it with Shopify's
compare-and-set against the level it read. Any write that lands between the two reads makes this one's
compare-and-set stale (`CHANGE_FROM_QUANTITY_STALE`), and then both are read again; a write that landed before the
shop's read was made from a PeakWMS read older than this one's. So the value written is always from the newest
read of PeakWMS, whatever order the messages arrive in — a late message of an older total writes the current one
(usually: nothing to change). What is set is what setup step 4 set: `quantity − reservedQuantity` summed over the
variant's PeakWMS stock (what PeakWMS has not promised to a released order; the shop counts those as committed),
at the stock location (`message_basics.stock_location`), by SKU. The cost: one PeakWMS read, one Shopify read and
(when the level differs) one mutation per message.

Only this connection's shop: every shop sharing the PeakWMS account registered its own webhooks, and PeakWMS sends
each of them the message, so each sets its own variants carrying the SKU (another shop's variants are matched by
SKU, as its orders are). The idempotency key comes from the event and the exact input (`inventory.set_quantities`),
so a retry after a lost answer replays rather than writes twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from crossdock.connectors.peakwms import stock as peak_stock
from crossdock.connectors.peakwms.shapes import StockAdjusted
from crossdock.connectors.shopify import inventory
from crossdock.connectors.shopify.inventory import QuantityChange
from crossdock.errors import FailureClass, RetryableError, Skip
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_basics import require_switch, sku_of, stock_location
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome

MESSAGE = "stock_adjustments"
ATTEMPTS = 3  # compare-and-set rounds before the queue's retry takes over (each is a sale or another message)
STALE = "CHANGE_FROM_QUANTITY_STALE"


def stock_adjusted(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    require_switch(connection, MESSAGE)
    adjusted = StockAdjusted.parse(body)
    if adjusted.variant_id is None:
        return Outcome.needs_attention(f"stock adjustment of product {adjusted.product_id} without variantId")
    peakwms = ports.clients.peakwms(connection)
    shopify = ports.clients.shopify(connection)
    sku = sku_of(
        connection, ports.table, peakwms, adjusted.product_id, adjusted.variant_id, adjusted.stock_host_identifier
    )
    if sku is None:
        raise Skip(f"PeakWMS product {adjusted.product_id}/{adjusted.variant_id} has no item number (SKU)")
    location = stock_location(connection, shopify)
    scope = "peakwms-100-" + hashlib.sha256(f"{connection.id}\n{event.sk}".encode()).hexdigest()[:24]
    for _ in range(ATTEMPTS):
        # The shop first, PeakWMS second: see the module docstring for why that order keeps an older total out.
        levels = [
            level for level in inventory.levels_for_skus(shopify, [sku], location) if level.tracked and level.stocked
        ]
        if not levels:
            raise Skip(f"SKU {sku}: the shop has no tracked item of it stocked at {location}")
        current = peak_stock.stock_of(peakwms, adjusted.product_id, adjusted.variant_id)
        if current is None:
            raise Skip(f"SKU {sku}: PeakWMS keeps no stock of {adjusted.product_id}/{adjusted.variant_id}")
        wanted = max(0, current.quantity - current.reserved_quantity)
        told = _told(adjusted, current.quantity)
        changes = [
            QuantityChange(level.inventory_item_id, wanted, level.quantities.get("available"))
            for level in levels
            if level.quantities.get("available") != wanted
        ]
        if not changes:
            return Outcome.skipped(f"SKU {sku}: the shop's available at {location} is {wanted} already{told}")
        errors = inventory.set_quantities(shopify, scope, "available", location, changes)
        if not errors:
            return Outcome.done(
                f"SKU {sku}: available at {location} set to {wanted} (PeakWMS {current.quantity} on the shelf − "
                f"{current.reserved_quantity} reserved){told}"
            )
        if not any(error.get("code") == STALE for error in errors):
            detail = "; ".join(str(error.get("message")) for error in errors)
            return Outcome.needs_attention(f"Shopify refused the stock of SKU {sku}: {detail}", FailureClass.VALIDATION)
    raise RetryableError(f"SKU {sku}: the shop's stock kept changing while it was set ({ATTEMPTS} rounds)")


def _told(adjusted: StockAdjusted, now: int) -> str:
    """When the message's total is not PeakWMS's any more: an older message, or one overtaken by newer stock."""
    if adjusted.quantity == now:
        return ""
    return f"; this message said {adjusted.quantity}, PeakWMS has {now} now (a newer total wins)"
