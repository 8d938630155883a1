"""Message 101 EanUpdates → the variant's barcode (`messages.ean_updates`; docs/peakwms.md "Messages to the shop").

[guess] the payload is `{productId, variantId, ean}`. PeakWMS's product keys are the main shop's Shopify ids, so
the main shop sets that variant's barcode straight away; another shop sets it on its variants carrying the product's
SKU (its `itemNumber`, from the account's product versions or PeakWMS). Setting the same barcode again changes
nothing, so a repeat needs no look first; Shopify echoes `products/update`, which the product webhooks see as a
version PeakWMS has already (the EAN equal).
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.peakwms.shapes import EanUpdated
from crossdock.connectors.shopify import barcodes
from crossdock.connectors.shopify.products import variants_with_sku
from crossdock.errors import Skip
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_basics import require_switch, sku_of
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome

MESSAGE = "ean_updates"


def ean_updated(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    require_switch(connection, MESSAGE)
    update = EanUpdated.parse(body)
    if update.variant_id is None:
        return Outcome.needs_attention(f"EAN update of product {update.product_id} without variantId")
    shopify = ports.clients.shopify(connection)
    shown = update.ean or "(none)"
    if connection.settings.main_shop:
        barcodes.set_barcode(shopify, update.product_id, update.variant_id, update.ean)
        return Outcome.done(f"variant {update.variant_id}: barcode set to {shown}")
    sku = sku_of(connection, ports.table, ports.clients.peakwms(connection), update.product_id, update.variant_id)
    if sku is None:
        raise Skip(f"PeakWMS product {update.product_id}/{update.variant_id} has no item number (SKU)")
    refs = variants_with_sku(shopify, sku)
    if not refs:
        raise Skip(f"the shop has no variant with SKU {sku}")
    for ref in refs:
        barcodes.set_barcode(shopify, ref.product_id, ref.variant_id, update.ean)
    named = ", ".join(ref.variant_id.rsplit("/", 1)[-1] for ref in refs)
    return Outcome.done(f"SKU {sku} (variant {named}): barcode set to {shown}")
