"""The shop's catalogue for a warehouse: every variant with its product, as one bulk export (`bulk_export`).

The variant is the root object, so the export has exactly one line per variant (no child lines) and a chunk is a
range of line numbers. `CatalogVariant` is the part of a line a warehouse needs: ids, SKU, names, barcode, price,
weight, the product's vendor, and the product's `updatedAt`, which orders this snapshot against the product
webhooks that may arrive while the export is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from crossdock.connectors.shopify import bulk_export

CATALOG_FOR_WAREHOUSE: Final = """
{
  productVariants {
    edges {
      node {
        id
        sku
        title
        price
        barcode
        product { id title vendor status updatedAt }
        inventoryItem { id measurement { weight { unit value } } }
      }
    }
  }
}
"""

# Customs and cost per variant (reference/shopify_wms.md "Customs and cost": the inventory item's fields).
CUSTOMS_FOR_WAREHOUSE: Final = """
{
  productVariants {
    edges {
      node {
        id
        sku
        product { id }
        inventoryItem { id harmonizedSystemCode countryCodeOfOrigin unitCost { amount currencyCode } }
      }
    }
  }
}
"""

# Shopify's weight units in grams.
GRAMS: Final = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "POUNDS": Decimal("453.59237"),
    "OUNCES": Decimal("28.349523125"),
}


@dataclass(frozen=True)
class CatalogVariant:
    product_id: str  # numeric, as the REST webhooks and PeakWMS name it
    variant_id: str
    inventory_item_id: str
    sku: str  # "" when the variant has none
    product_title: str
    variant_title: str | None
    barcode: str | None
    price: Decimal | None
    grams: Decimal | None
    vendor: str | None
    product_updated_at: str  # ISO 8601, as Shopify wrote it


def numeric_id(gid: Any) -> str:
    """`gid://shopify/ProductVariant/44201` → `44201` (a numeric id is kept)."""
    return str(gid).rsplit("/", 1)[-1]


def variant_of(line: dict[str, Any]) -> CatalogVariant:
    product = line.get("product") or {}
    item = line.get("inventoryItem") or {}
    weight = (item.get("measurement") or {}).get("weight") or {}
    unit = GRAMS.get(str(weight.get("unit")))
    return CatalogVariant(
        product_id=numeric_id(product.get("id")),
        variant_id=numeric_id(line["id"]),
        inventory_item_id=numeric_id(item.get("id")) if item.get("id") else "",
        sku=str(line.get("sku") or "").strip(),
        product_title=str(product.get("title") or ""),
        variant_title=line.get("title"),
        barcode=line.get("barcode") or None,
        price=_decimal(line.get("price")),
        grams=(Decimal(str(weight["value"])) * unit).quantize(Decimal("0.001"))
        if unit and weight.get("value")
        else None,
        vendor=(str(product["vendor"]).strip() or None) if product.get("vendor") else None,
        product_updated_at=str(product.get("updatedAt") or ""),
    )


@dataclass(frozen=True)
class CustomsFacts:
    product_id: str
    variant_id: str
    sku: str
    harmonized_system_code: str | None
    country_of_origin: str | None  # ISO 3166 alpha-2
    cost: Decimal | None  # per item, in the shop's currency

    @property
    def empty(self) -> bool:
        return self.harmonized_system_code is None and self.country_of_origin is None and self.cost is None


def customs_of(line: dict[str, Any]) -> CustomsFacts:
    item = line.get("inventoryItem") or {}
    return CustomsFacts(
        product_id=numeric_id((line.get("product") or {}).get("id")),
        variant_id=numeric_id(line["id"]),
        sku=str(line.get("sku") or "").strip(),
        harmonized_system_code=str(item["harmonizedSystemCode"]).strip() or None
        if item.get("harmonizedSystemCode")
        else None,
        country_of_origin=str(item["countryCodeOfOrigin"]) if item.get("countryCodeOfOrigin") else None,
        cost=_decimal((item.get("unitCost") or {}).get("amount")),
    )


def lines(url: str, offset: int, size: int) -> Iterator[dict[str, Any]]:
    """Lines [offset, offset + size) of an export whose root has no nested connection, decoded."""
    for index, raw in enumerate(bulk_export.raw_lines(url)):
        if index >= offset + size:
            return
        if index >= offset:
            yield json.loads(raw)


def variants(url: str, offset: int, size: int) -> Iterator[CatalogVariant]:
    """Variants [offset, offset + size) of the export, in the file's order (lines before `offset` are not decoded)."""
    for line in lines(url, offset, size):
        yield variant_of(line)


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
