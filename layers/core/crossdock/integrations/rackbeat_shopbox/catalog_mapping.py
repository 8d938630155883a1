"""Shopbox products and variants as Rackbeat items, and back: the one mapping the initial sync and both product
directions share (SPEC §2, issue 14 items 3 and 4).

A Rackbeat item is one sellable unit with a number. In Shopbox that is a product without variants, or one variant
(`product_variances`) of a product; the item number is the SKU (`sku_code`) either way, so a SKU found in Rackbeat
is the same item however often a sync runs. The item's product group is the Rackbeat group of the product's tag
(`categories`), else `default_category_group`.

Money: Shopbox keeps integer øre, VAT included. With `add_vat` the merchant registers VAT in Rackbeat, so
Rackbeat's sales price is without it (Danish 25 %: øre × 0.8 is exact to the tenth of an øre, so a price copied
across and back is the price it was); without `add_vat` Rackbeat's price is the till's as it is.

A Shopbox product that cannot become items is listed with the reason, never dropped: no SKU, a SKU used by an
earlier product or variant, no product group for its tag.

The mapping rows (`MAP#item#shopbox#<product>[/<variant>]` → the item number, and `MAP#item#rackbeat#<number>` →
the product and variant) are what later syncs find an item by; each carries the fingerprint of the item as both
systems last agreed on it, so a change that equals it (our own write coming back, or nothing new) is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Protocol

from crossdock.store import mappings

if TYPE_CHECKING:
    from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

ITEM = "item"  # mapping entity: a Rackbeat item ⇄ a Shopbox product or variant
PRODUCT = "product"  # mapping entity: a Shopbox product → its items' numbers, as the products poll last read it
SHOPBOX = "shopbox"
RACKBEAT = "rackbeat"
# Rackbeat's price without VAT is the till's × 0.8 (Danish VAT 25 %): exact for any øre at three decimals.
WITHOUT_VAT = Decimal("0.8")
ORE = Decimal(100)


class ShopboxVariance(Protocol):
    uid: Any
    name: str | None
    sku_code: str | None
    code: str | None
    selling_price: int | None


class ShopboxProduct(Protocol):
    uid: Any
    name: str | None
    selling_price: int | None
    tag: Any
    code: str | None
    sku_code: str | None
    inventory_on_variants: bool

    @property
    def product_variances(self) -> Sequence[ShopboxVariance]: ...


class ShopboxStockRow(Protocol):
    product: Any
    product_variance: Any
    quantity: Any


def rackbeat_price(ore: int, add_vat: bool) -> Decimal:
    """A Shopbox price (øre, VAT included) as Rackbeat's sales price in kroner."""
    kroner = Decimal(int(ore)) / ORE
    return (kroner * WITHOUT_VAT).normalize() if add_vat else kroner.normalize()


def shopbox_price(price: Decimal, add_vat: bool) -> int:
    """A Rackbeat sales price as Shopbox's øre, VAT included (to the nearest øre)."""
    gross = price / WITHOUT_VAT if add_vat else price
    return int((gross * ORE).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class CatalogEntry:
    """One Shopbox product or variant as its Rackbeat item."""

    number: str  # the SKU: Rackbeat's item number
    name: str
    price_ore: int  # Shopbox's selling price, VAT included
    barcode: str | None
    group: int
    product_uid: str
    variant_uid: str | None

    @property
    def shopbox_key(self) -> str:
        return shopbox_key(self.product_uid, self.variant_uid)

    def rackbeat_body(self, add_vat: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "number": self.number,
            "name": self.name,
            "sales_price": str(rackbeat_price(self.price_ore, add_vat)),
            "group": {"number": self.group},
        }
        if self.barcode:
            body["barcode"] = self.barcode
        return body

    def fingerprint(self) -> str:
        return fingerprint(self.number, self.name, self.price_ore, self.barcode)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "price_ore": self.price_ore,
            "barcode": self.barcode,
            "group": self.group,
            "product_uid": self.product_uid,
            "variant_uid": self.variant_uid,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CatalogEntry:
        return cls(
            number=str(data["number"]),
            name=str(data["name"]),
            price_ore=int(data["price_ore"]),
            barcode=data.get("barcode"),
            group=int(data["group"]),
            product_uid=str(data["product_uid"]),
            variant_uid=None if data.get("variant_uid") is None else str(data["variant_uid"]),
        )


def fingerprint(number: str, name: str, price_ore: int, barcode: str | None) -> str:
    """The item as both systems show it (Shopbox's øre): equal on both sides when they agree."""
    fields = [number.strip(), name.strip(), int(price_ore), (barcode or "").strip()]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def rackbeat_fingerprint(item: Mapping[str, Any], add_vat: bool) -> str:
    """A Rackbeat item's fingerprint, to compare with the one a sync last wrote."""
    price = Decimal(str(item.get("sales_price") or 0))
    return fingerprint(
        str(item["number"]), str(item.get("name") or ""), shopbox_price(price, add_vat), item.get("barcode") or None
    )


def shopbox_key(product_uid: Any, variant_uid: Any) -> str:
    return f"{product_uid}" if variant_uid is None else f"{product_uid}/{variant_uid}"


def variant_name(product: str, variant: str | None) -> str:
    return f"{product} - {variant}" if variant else product


@dataclass
class CatalogMap:
    """A catalogue read into items: those that map, and those that do not, each with the reason."""

    entries: list[CatalogEntry] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def group_of(tag: Any, settings: RackbeatShopboxSettings) -> int | None:
    if tag is not None and str(tag) in settings.categories:
        return settings.categories[str(tag)]
    return settings.default_category_group


@dataclass(frozen=True)
class Unit:
    """One sellable unit of a Shopbox product as Shopbox shows it: the product itself, or one of its variants."""

    product_uid: str
    variant_uid: str | None
    sku: str
    name: str
    price_ore: int
    barcode: str | None

    @property
    def key(self) -> str:
        return shopbox_key(self.product_uid, self.variant_uid)

    def fingerprint(self) -> str:
        return fingerprint(self.sku, self.name, self.price_ore, self.barcode)


def units(product: ShopboxProduct) -> list[Unit]:
    """The product's units: each variant (named "product - variant", its own price or the product's), or the
    product itself when it has none."""
    name = (product.name or "").strip() or f"Shopbox product {product.uid}"
    variances = list(product.product_variances or [])
    if not variances:
        return [
            Unit(
                str(product.uid),
                None,
                (product.sku_code or "").strip(),
                name,
                int(product.selling_price or 0),
                (product.code or "").strip() or None,
            )
        ]
    return [
        Unit(
            str(product.uid),
            str(v.uid),
            (v.sku_code or "").strip(),
            variant_name(name, (v.name or "").strip()),
            int(v.selling_price if v.selling_price is not None else (product.selling_price or 0)),
            (v.code or "").strip() or None,
        )
        for v in variances
    ]


def product_fingerprint(product: ShopboxProduct) -> str:
    """The product as a products sync reads it (its units and its tag): equal, and there is nothing new to do."""
    fields = [str(product.tag or ""), *(f"{unit.key}:{unit.fingerprint()}" for unit in units(product))]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def product_entries(
    product: ShopboxProduct, settings: RackbeatShopboxSettings, taken: set[str] | None = None
) -> CatalogMap:
    """The items of one Shopbox product: the product itself, or each of its variants. `taken` holds the SKUs
    earlier products used (a SKU is one Rackbeat item; the second product or variant carrying it is listed)."""
    found = CatalogMap()
    seen = taken if taken is not None else set()
    group = group_of(product.tag, settings)
    for unit in units(product):
        where = f"product {unit.product_uid}" + (f" variant {unit.variant_uid}" if unit.variant_uid else "")
        if not unit.sku:
            found.unmapped.append(f"{where} ({unit.name}): no SKU (sku_code), so no Rackbeat item number")
            continue
        if unit.sku in seen:
            found.unmapped.append(f"{where} ({unit.name}): SKU {unit.sku} is used by an earlier product or variant")
            continue
        if group is None:
            found.unmapped.append(
                f"{where} ({unit.name}): tag {product.tag} has no product group in `categories` and there is no "
                "`default_category_group`"
            )
            continue
        seen.add(unit.sku)
        found.entries.append(
            CatalogEntry(
                number=unit.sku,
                name=unit.name,
                price_ore=unit.price_ore,
                barcode=unit.barcode,
                group=group,
                product_uid=unit.product_uid,
                variant_uid=unit.variant_uid,
            )
        )
    return found


def catalog_entries(products: Iterable[ShopboxProduct], settings: RackbeatShopboxSettings) -> CatalogMap:
    """Every product of a catalogue as items, in the catalogue's order."""
    whole = CatalogMap()
    taken: set[str] = set()
    for product in products:
        one = product_entries(product, settings, taken)
        whole.entries += one.entries
        whole.unmapped += one.unmapped
    return whole


@dataclass
class StockMap:
    """Shopbox stock per branch as Rackbeat stock per location: item key → location → quantity, and what could
    not be placed, with the reason."""

    quantities: dict[str, dict[str, int]] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


def stock_by_location(
    rows_by_branch: Mapping[str, Iterable[ShopboxStockRow]],
    products: Mapping[str, ShopboxProduct],
    settings: RackbeatShopboxSettings,
) -> StockMap:
    """Each branch's rows at its Rackbeat location (`locations`, else `main_location_rackbeat`); two branches at
    one location add up. A product with variants whose stock Shopbox keeps on the product (not per variant) has no
    item to put it on, and a negative quantity (sold below zero at the till) is not a count: both are listed."""
    found = StockMap()
    for branch, rows in rows_by_branch.items():
        location = settings.locations.get(str(branch), settings.main_location_rackbeat)
        for row in rows:
            quantity = int(Decimal(str(row.quantity or 0)))
            if quantity == 0:
                continue
            product = products.get(str(row.product))
            variant = None if row.product_variance is None else str(row.product_variance)
            where = (
                f"stock of product {row.product}" + (f" variant {variant}" if variant else "") + f" at branch {branch}"
            )
            if location is None:
                found.unmapped.append(
                    f"{where}: the branch has no Rackbeat location in `locations` and there is no "
                    "`main_location_rackbeat`"
                )
                continue
            if product is None:
                continue  # a row of a product deleted since the catalogue was read: nothing to put it on
            if variant is None and product.product_variances:
                found.unmapped.append(f"{where}: Shopbox keeps it on the product, not per variant ({quantity})")
                continue
            if quantity < 0:
                found.unmapped.append(f"{where}: {quantity} is below zero; Rackbeat's stock there is left as it is")
                continue
            per_location = found.quantities.setdefault(shopbox_key(row.product, variant), {})
            per_location[str(location)] = per_location.get(str(location), 0) + quantity
    return found


# ---- the mapping rows -------------------------------------------------------------------------------------------


def bind(table: Any, connection_id: str, entry: CatalogEntry) -> None:
    """Both rows of an item's binding, with the fingerprint both systems now agree on."""
    bind_item(table, connection_id, entry.number, entry.product_uid, entry.variant_uid, entry.fingerprint())


def bind_item(
    table: Any, connection_id: str, number: str, product_uid: str, variant_uid: str | None, agreed: str
) -> None:
    key = shopbox_key(product_uid, variant_uid)
    mappings.put_mapping(table, connection_id, ITEM, SHOPBOX, key, number, fingerprint=agreed)
    mappings.put_mapping(
        table,
        connection_id,
        ITEM,
        RACKBEAT,
        number,
        key,
        product_uid=product_uid,
        variant_uid=variant_uid,
        fingerprint=agreed,
    )


def item_of(table: Any, connection_id: str, product_uid: Any, variant_uid: Any) -> dict[str, Any] | None:
    """The binding of a Shopbox product or variant: its Rackbeat item number (`target_id`) and fingerprint."""
    return mappings.get_mapping(table, connection_id, ITEM, SHOPBOX, shopbox_key(product_uid, variant_uid))


def shopbox_of(table: Any, connection_id: str, number: str) -> dict[str, Any] | None:
    """The binding of a Rackbeat item: its Shopbox `product_uid`, `variant_uid` and fingerprint."""
    return mappings.get_mapping(table, connection_id, ITEM, RACKBEAT, number)
