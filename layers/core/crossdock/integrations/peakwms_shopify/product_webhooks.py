"""Shopify's product webhooks on a `peakwms_shopify` connection (source `shopify`; docs/peakwms.md "Products"),
subscribed by setup step 1 (`setup_products`):

- main shop, `products/create|update`: the product's variants upserted in PeakWMS, a variant Shopify no longer
  has deleted there; `products/delete`: its PeakWMS products deleted (`product_writes`);
- another shop: nothing is written to PeakWMS; the product's variants are bound to the main shop's PeakWMS products
  by SKU, and a deleted product's bindings removed. A variant without SKU, or whose SKU no main-shop product
  carries, needs attention naming `sku`.

Duplicates: ingest queues a delivery once (Shopify's event id); a repeat that reaches here anyway, or an update
whose `updated_at` is older than the version PeakWMS has, is skipped — an older update never overwrites a newer
one, whatever order Shopify delivers them in. A deletion is remembered at the time it was received, so an update
sent before it and delivered after it is older too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from crossdock.bodies import json_object
from crossdock.connectors.shopify.catalog_export import CatalogVariant
from crossdock.connectors.shopify.order_values import MAX_ID
from crossdock.connectors.shopify.products import WEIGHT_IN_GRAMS, ShopifyProduct, ShopifyVariant
from crossdock.connectors.shopify.webhooks import PRODUCT_TOPICS
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integration import Route
from crossdock.integrations.peakwms_shopify import product_map
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_writes import (
    Tally,
    delete_main_product,
    match_variants,
    write_main_product,
)
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome, first_error

SOURCE = "shopify"
DELETE = "products/delete"


class WarehouseProduct(ShopifyProduct):
    """The REST product of `products/create|update` with what a warehouse also needs."""

    vendor: str | None = None
    updated_at: str | None = None


def product_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = PeakwmsShopifyConnection.of(event.connection)
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no clients", FailureClass.BUG)
    product: WarehouseProduct | None = None
    try:
        body = json_object(event.payload)
        if event.topic == DELETE:
            product_id = _product_id(body.get("id"))
        else:
            product = WarehouseProduct.model_validate(body)
            product_id = _product_id(product.id)
    except (ValueError, KeyError, TypeError, ValidationError) as invalid:
        return Outcome.needs_attention(f"product payload is invalid: {first_error(invalid)}")
    try:
        if product is None:
            return _deleted(connection, product_id, event, ports)
        return _changed(connection, product, ports)
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


def _changed(connection: PeakwmsShopifyConnection, product: WarehouseProduct, ports: DispatchPorts) -> Outcome:
    variants = [catalog_variant(product, variant) for variant in product.variants]
    if connection.settings.main_shop:
        client = ports.clients.peakwms(connection)
        tally = write_main_product(
            connection, client, ports.table, str(product.id), product.updated_at or "", variants, complete=True
        )
        if tally.older:
            raise Skip(f"product {product.id}: this update ({product.updated_at}) is older than what PeakWMS has")
    else:
        tally = match_variants(connection, ports.table, variants, complete=True)
    return _outcome(f"product {product.id}", tally)


def _deleted(
    connection: PeakwmsShopifyConnection, product_id: int, event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    if not connection.settings.main_shop:
        removed = _unbind_product(connection, str(product_id), ports.table)
        return Outcome.done(f"product {product_id} deleted in the shop: {removed} variant binding(s) removed")
    client = ports.clients.peakwms(connection)
    tally = delete_main_product(connection, client, ports.table, str(product_id), event.received_at)
    if not tally.deleted:
        return Outcome.skipped(f"product {product_id} was deleted in Shopify; PeakWMS has none of its variants")
    return Outcome.done(f"product {product_id} deleted in Shopify: {tally.deleted} PeakWMS product(s) deleted")


def _unbind_product(connection: PeakwmsShopifyConnection, product_id: str, table: Any) -> int:
    bound = product_map.bound_variants(table, connection.id, product_id)
    for variant_id in bound:
        product_map.unbind_variant(table, connection.id, variant_id)
    product_map.bind_product(table, connection.id, product_id, [])
    return len(bound)


def _outcome(what: str, tally: Tally) -> Outcome:
    summary = f"{what}: {tally.summary()}"
    if tally.refused:
        return Outcome.needs_attention(summary)
    if tally.no_sku or tally.unmatched:
        # Named by the field to set: a variant PeakWMS cannot hold, or another shop cannot sell from its stock.
        return Outcome.needs_attention(f"{summary} (set each variant's sku)", FailureClass.UNMAPPED)
    return Outcome.done(summary)


def catalog_variant(product: WarehouseProduct, variant: ShopifyVariant) -> CatalogVariant:
    """A webhook's variant in the export's shape, so both write through `product_writes` alike."""
    return CatalogVariant(
        product_id=str(product.id),
        variant_id=str(variant.id),
        inventory_item_id="",
        sku=(variant.sku or "").strip(),
        product_title=product.title,
        variant_title=variant.title,
        barcode=variant.barcode or None,
        price=variant.price,
        grams=_grams(variant),
        vendor=(product.vendor or "").strip() or None,
        product_updated_at=product.updated_at or "",
    )


def _grams(variant: ShopifyVariant) -> Decimal | None:
    if variant.grams is not None:
        return Decimal(variant.grams)
    if variant.weight is not None and variant.weight_unit in WEIGHT_IN_GRAMS:
        return (variant.weight * WEIGHT_IN_GRAMS[variant.weight_unit]).quantize(Decimal(1))
    return None


def _product_id(value: Any) -> int:
    """A Shopify product id: a positive int64 (not `true`, 1e400 or "12")."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(f"id: {str(value)[:40]!r} is not a Shopify product id")
    return value


ROUTES: tuple[Route, ...] = (Route(SOURCE, PRODUCT_TOPICS, product_event),)
