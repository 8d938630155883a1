"""Products both ways (SPEC §1.3 `product_sync`): Rackbeat → Shopify or Shopify → Rackbeat, never both.

Echo prevention: Rackbeat writes carry `suppress_webhooks`, and each side remembers the fingerprint of the fields
it last synced for an item (`CatalogItem.fingerprint`) in the mapping; a change whose fingerprint matches is a
no-op or our own write coming back, and is skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from crossdock.bodies import json_object
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.products import ItemKind
from crossdock.connectors.shopify import inventory
from crossdock.connectors.shopify import products as shopify_products
from crossdock.connectors.shopify import publications as shopify_publications
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.order_values import MAX_ID
from crossdock.connectors.shopify.products import ShopifyProduct
from crossdock.errors import PermanentError
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store import mappings
from crossdock.store.outcome import Outcome, first_error

ITEM = "item"  # mapping entity: a Rackbeat item ⇄ the Shopify variant(s) carrying its SKU
PRODUCT = "product"  # mapping entity: a Shopify product → the item numbers of its variants


@dataclass(frozen=True)
class ProductDeps:
    table: Any
    rackbeat: Callable[[RackbeatShopifyConnection], RackbeatClient]
    shopify: Callable[[RackbeatShopifyConnection], ShopifyAdmin]


# ---- Rackbeat → Shopify ------------------------------------------------------------------------------------------


def push_item(connection: RackbeatShopifyConnection, number: str, kind: ItemKind, deps: ProductDeps) -> Outcome:
    """Upsert the Shopify variant for a Rackbeat item (runs on the shop's outbound queue)."""
    sync = connection.settings.product_sync
    if sync.master != "rackbeat":
        return Outcome.skipped(f"product_sync.master is {sync.master}")
    rackbeat = deps.rackbeat(connection)
    raw = rackbeat_products.read_item(rackbeat, number, kind)
    if raw is None:
        return Outcome.skipped(f"item {number} no longer exists in Rackbeat; the shop's product is left as it is")
    online = (
        rackbeat_products.is_online(rackbeat, number, sync.online_availability)
        if kind == "product"
        else (sync.online_availability == "always_online")
    )
    item = rackbeat_products.to_catalog_item(
        raw, prices_exclude_vat=sync.prices_exclude_vat, cost_price=sync.cost_price, published=online
    )
    fingerprint = item.fingerprint()
    mapped = mappings.get_mapping(deps.table, connection.id, ITEM, "rackbeat", number)
    if mapped and mapped.get("fingerprint") == fingerprint:
        return Outcome.skipped(f"item {number} is unchanged since the last sync")
    shopify = deps.shopify(connection)
    refs = shopify_products.variants_with_sku(shopify, number)
    if not refs:
        location, quantity = _initial_stock(connection, number, rackbeat, shopify)
        ref = shopify_products.create_product(shopify, item, location, quantity)
        action = f"created Shopify product {ref.product_id}"
        refs = [ref]
    else:
        for ref in refs:
            shopify_products.update_product(shopify, ref, item)
        action = f"updated {len(refs)} Shopify variant(s)" + (" sharing the SKU" if len(refs) > 1 else "")
    # Only a product that is this one item follows its online availability (as its title and status do): a product
    # with several variants is the merchant's to publish.
    own = [ref for ref in refs if ref.product_variants == 1]
    for ref in own:
        shopify_publications.set_online(shopify, ref.product_id, item.published)
    if own:
        action += "; in the Online Store" if item.published else "; not in the Online Store"
    mappings.put_mapping(
        deps.table, connection.id, ITEM, "rackbeat", number, refs[0].variant_id, fingerprint=fingerprint
    )
    return Outcome.done(f"item {number}: {action}")


def _initial_stock(
    connection: RackbeatShopifyConnection, number: str, rackbeat: RackbeatClient, shopify: ShopifyAdmin
) -> tuple[str, int]:
    """A new product starts with Rackbeat's stock when stock sync is on (else 0, the shop's default)."""
    settings = connection.settings
    chosen = settings.fulfillment.shopify_location
    location = inventory.location_gid(chosen) if chosen else inventory.primary_location(shopify)
    if not settings.stock_sync.enabled:
        return location, 0
    quantity = rackbeat_products.stock_quantity(
        rackbeat, number, settings.stock_sync.quantity, settings.fulfillment.rackbeat_location
    )
    return location, quantity or 0


# ---- Shopify → Rackbeat ------------------------------------------------------------------------------------------


def shopify_product_changed(
    connection: RackbeatShopifyConnection, topic: str, payload: str, deps: ProductDeps
) -> Outcome:
    sync = connection.settings.product_sync
    if sync.master != "shopify":
        return Outcome.skipped(f"product_sync.master is {sync.master}")
    try:
        body = json_object(payload)
        if topic == "products/delete":
            return _product_deleted(connection, _product_id(body.get("id")), deps)
        product = ShopifyProduct.model_validate(body)
    except (ValueError, KeyError, TypeError, ValidationError) as invalid:
        return Outcome.needs_attention(f"product payload is invalid: {first_error(invalid)}")
    items, reports = shopify_products.catalog_items(product)
    rackbeat = deps.rackbeat(connection)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    failures: list[str] = []
    for item in items:
        mapped = mappings.get_mapping(deps.table, connection.id, ITEM, "shopify", item.number)
        if mapped and mapped.get("fingerprint") == item.fingerprint():
            counts["unchanged"] += 1
            continue
        try:
            result = rackbeat_products.upsert_item(rackbeat, item, sync.default_product_group)
        except PermanentError as refused:
            failures.append(f"{item.number}: {refused.reason}")
            continue
        counts[result] += 1
        mappings.put_mapping(
            deps.table, connection.id, ITEM, "shopify", item.number, str(product.id), fingerprint=item.fingerprint()
        )
    mappings.put_mapping(
        deps.table, connection.id, PRODUCT, "shopify", str(product.id), ",".join(i.number for i in items)
    )
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "no items"
    notes = [f"variant {r.variant_id}: {r.reason}" for r in reports]
    if failures:
        return Outcome.needs_attention(f"product {product.id}: {summary}; refused: {'; '.join(failures + notes)}")
    if notes:
        summary += "; not synced: " + "; ".join(notes)
    if not counts["created"] and not counts["updated"] and not failures:
        return Outcome.skipped(f"product {product.id}: {summary} (unchanged since the last sync)")
    return Outcome.done(f"product {product.id}: {summary}")


def _product_id(value: Any) -> int:
    """A Shopify product id: a positive int64 (not `true`, 1e400 or "12")."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(f"id: {str(value)[:40]!r} is not a Shopify product id")
    return value


def _product_deleted(connection: RackbeatShopifyConnection, product_id: int, deps: ProductDeps) -> Outcome:
    """Rackbeat items are kept: they carry stock and order history, and Rackbeat refuses to delete an item that
    has had stock. The deletion is reported so the merchant can bar the items if they wish."""
    mapped = mappings.get_mapping(deps.table, connection.id, PRODUCT, "shopify", str(product_id))
    numbers = [n for n in (mapped or {}).get("target_id", "").split(",") if n]
    if not numbers:
        return Outcome.skipped(f"product {product_id} was deleted in Shopify; it was never synced")
    return Outcome.done(
        f"product {product_id} was deleted in Shopify; Rackbeat items {', '.join(numbers)} are kept (not deleted)"
    )
