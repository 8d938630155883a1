"""Shopify products: REST-shaped webhook payloads in, GraphQL writes out (reference/shopify.md).

Writes never delete by omission. `productSet` replaces whole lists (variants, options), so it is used only to
create a product Crossdock owns from the start; an existing product is changed with `productUpdate` (product
fields) and `productVariantsBulkUpdate` (the one variant carrying the SKU), which leave everything not sent alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError
from crossdock.model.product import CatalogItem, money

DEFAULT_VARIANT = "Default Title"
WEIGHT_IN_GRAMS = {"g": Decimal(1), "kg": Decimal(1000), "lb": Decimal("453.59237"), "oz": Decimal("28.349523125")}


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyVariant(_Tolerant):
    id: int
    title: str | None = None
    sku: str | None = None
    price: Decimal | None = None
    barcode: str | None = None
    grams: int | None = None
    weight: Decimal | None = None
    weight_unit: str | None = None


class ShopifyProduct(_Tolerant):
    """The `products/create|update` webhook body (fixtures/shopify/2025-01/product_*.json)."""

    id: int
    title: str
    body_html: str | None = None
    status: str | None = None
    variants: list[ShopifyVariant] = []


@dataclass(frozen=True)
class VariantReport:
    variant_id: int
    reason: str


def plain_text(body_html: str | None) -> str | None:
    """Rackbeat descriptions are plain text: tags dropped, entities decoded, whitespace collapsed."""
    if not body_html:
        return None
    text = html.unescape(re.sub(r"<[^>]+>", " ", body_html))
    return re.sub(r"\s+", " ", text).strip() or None


def catalog_items(product: ShopifyProduct) -> tuple[list[CatalogItem], list[VariantReport]]:
    """One item per variant with a SKU; variants without a SKU, and a SKU used twice in one product, are
    reported instead (SPEC: handled explicitly, never crash the batch)."""
    items: list[CatalogItem] = []
    skipped: list[VariantReport] = []
    seen: dict[str, int] = {}
    for variant in product.variants:
        sku = (variant.sku or "").strip()
        if not sku:
            skipped.append(VariantReport(variant.id, "variant has no SKU"))
            continue
        if sku in seen:
            skipped.append(VariantReport(variant.id, f"SKU {sku} is also on variant {seen[sku]}"))
            continue
        seen[sku] = variant.id
        items.append(
            CatalogItem(
                number=sku,
                name=variant_name(product.title, variant.title),
                description=plain_text(product.body_html),
                sales_price=money(variant.price),
                barcode=variant.barcode or None,
                weight=_grams(variant),
                weight_unit="g" if _grams(variant) is not None else None,
            )
        )
    return items, skipped


def variant_name(product_title: str, variant_title: str | None) -> str:
    if not variant_title or variant_title == DEFAULT_VARIANT:
        return product_title
    return f"{product_title} - {variant_title}"


def _grams(variant: ShopifyVariant) -> Decimal | None:
    if variant.grams is not None:
        return Decimal(variant.grams)
    if variant.weight is not None and variant.weight_unit in WEIGHT_IN_GRAMS:
        return (variant.weight * WEIGHT_IN_GRAMS[variant.weight_unit]).quantize(Decimal(1))
    return None


# ---- writes (master = rackbeat) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopifyVariantRef:
    variant_id: str
    product_id: str
    inventory_item_id: str
    product_variants: int


def sku_query(skus: list[str]) -> str:
    """Shopify search syntax for "any of these SKUs"; values quoted so spaces and colons are literal."""
    return " OR ".join(f'sku:"{_escape(sku)}"' for sku in skus)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def variants_with_sku(shopify: ShopifyAdmin, sku: str) -> list[ShopifyVariantRef]:
    data = shopify.run(queries.VARIANTS_BY_SKU, {"query": sku_query([sku])}, expected_cost=42)
    refs = []
    for node in data["productVariants"]["nodes"]:
        if node.get("sku") != sku:  # search is fuzzy in places; the SKU must match exactly
            continue
        product = node["product"]
        refs.append(
            ShopifyVariantRef(
                variant_id=node["id"],
                product_id=product["id"],
                inventory_item_id=node["inventoryItem"]["id"],
                product_variants=int((product.get("variantsCount") or {}).get("count", 1)),
            )
        )
    return refs


def create_product(shopify: ShopifyAdmin, item: CatalogItem, location_id: str, quantity: int) -> ShopifyVariantRef:
    """A new single-variant product with its stock at the shop location."""
    variant: dict[str, Any] = {
        "optionValues": [{"optionName": "Title", "name": DEFAULT_VARIANT}],
        "sku": item.number,
        "price": str(item.sales_price or 0),
        "inventoryItem": {"tracked": True, **({"cost": str(item.cost)} if item.cost is not None else {})},
        "inventoryQuantities": [{"locationId": location_id, "name": "available", "quantity": quantity}],
    }
    if item.barcode:
        variant["barcode"] = item.barcode
    product_input = {
        **_product_fields(item),
        "productOptions": [{"name": "Title", "values": [{"name": DEFAULT_VARIANT}]}],
        "variants": [variant],
    }
    data = shopify.run(queries.CREATE_PRODUCT, {"input": product_input})["productSet"]
    _raise_user_errors(data, f"create product {item.number}")
    product = data["product"]
    node = product["variants"]["nodes"][0]
    return ShopifyVariantRef(node["id"], product["id"], node["inventoryItem"]["id"], 1)


def update_product(shopify: ShopifyAdmin, ref: ShopifyVariantRef, item: CatalogItem) -> None:
    """Product-level fields only when the product is this one item (a product with several variants is the
    merchant's; renaming it after one variant would be wrong); the variant's own fields always."""
    if ref.product_variants == 1:
        data = shopify.run(queries.UPDATE_PRODUCT, {"product": {"id": ref.product_id, **_product_fields(item)}})
        _raise_user_errors(data["productUpdate"], f"update product {item.number}")
    variant: dict[str, Any] = {"id": ref.variant_id, "price": str(item.sales_price or 0), "barcode": item.barcode or ""}
    if item.cost is not None:
        variant["inventoryItem"] = {"cost": str(item.cost)}
    data = shopify.run(queries.UPDATE_VARIANTS, {"productId": ref.product_id, "variants": [variant]})
    _raise_user_errors(data["productVariantsBulkUpdate"], f"update variant {item.number}")


def _product_fields(item: CatalogItem) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": item.name,
        "descriptionHtml": html.escape(item.description) if item.description else "",
        # Online availability is the Online Store publication (`publications.set_online`), not the status: an active
        # product that is not published online still sells in the shop's other channels (POS).
        "status": "ACTIVE" if item.sellable else "DRAFT",
    }
    if item.category:
        fields["productType"] = item.category
    return fields


def _raise_user_errors(payload: dict[str, Any], what: str) -> None:
    errors = payload.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        raise PermanentError(f"Shopify refused to {what}: {detail}", FailureClass.VALIDATION)
