"""Shopify's catalog in the simulator: locations, products, variants, inventory items and levels, bulk export.

Follows the fact sheet `../shared/reference/shopify.md`:

- "Versions and API style": products are stored REST-shaped exactly as the `products/create` webhook carries them
  (the shape of `../shared/fixtures/shopify/2025-01/product_*.json`); GraphQL's `Product`, `ProductVariant`,
  `InventoryItem` and `InventoryLevel` are derived from that store. `products/create|update|delete`,
  `inventory_levels/update` and `bulk_operations/finish` go through the simulator's signed outbox.
- "Limits": at most 250 quantities per `inventorySetQuantities`; connections page ≤ 250 with
  `pageInfo { hasNextPage endCursor }`. Top-level cursors name the last id (as Shopify's do), so a product deleted
  between two pages makes nothing else skip a page.
- "Mutations Crossdock needs": `productSet` replaces the lists it is sent (variants not sent are deleted),
  `productUpdate` and `productVariantsBulkUpdate` change only the fields given, cost lives on the inventory item
  (`inventoryItemUpdate`). `inventorySetQuantities` from 2026-04: `changeFromQuantity` on every quantity (explicit
  null skips the compare; a stale value → CHANGE_FROM_QUANTITY_STALE and nothing is applied) and a mandatory
  `@idempotent(key:)`; a key replays its first result for 24 h and refuses other input.
- "Rate limits" (bulk operations): at most 5 running per shop; the JSONL has one line per node of the root
  connection and one per node of a nested connection, carrying `__parentId`. An operation completes once
  `bulk_duration` seconds of simulator clock have passed, checked lazily whenever its shop is looked at.

Search arguments (`query:`) follow Shopify's syntax as far as Crossdock needs it: `field:value`,
`field:"quoted \\"value\\""`, `OR`, `AND` (also implicit), `-`/`NOT`, a trailing `*` for a prefix and `<`, `>`
on dates. Unknown fields are ignored as Shopify ignores them; bare words match title or SKU.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crossdock_local.sims.shopify.catalog_values import (
    CENT,
    DEFAULT_LOCATION_NAME,
    GRAMS_PER_UNIT,
    MAX_OPTIONS,
    PRODUCT_STATUSES,
    grams_of,
    rest_money,
    slugify,
    tags_text,
)
from crossdock_local.sims.shopify.customs import rest_customs
from crossdock_local.sims.shopify.state import (
    DEFAULT_TITLE,
    BulkFile,
    InventoryItem,
    InventoryLevel,
    Location,
    Shop,
    ShopCatalog,
    UnknownInventoryItem,
    UnknownLocation,
    UnknownProduct,
    UnknownVariant,
)
from crossdock_local.sims.shopify.values import gid
from crossdock_local.sims.shopify.webhooks import WebhookDelivery

# Names for the generated catalog: a Danish homeware shop, like the order generator's.
SEED_PRODUCTS = (
    "Uldsokker",
    "Kaffekop",
    "Lærredsnet",
    "Hørviskestykke",
    "Stearinlys",
    "Keramikskål",
    "Plaid",
    "Bordlampe",
    "Tekande",
    "Skærebræt",
)


SEED_SIZES = ("S", "M", "L", "XL", "XXL")


SEED_PRICES = ("49.00", "79.95", "99.00", "129.00", "149.00", "199.00", "249.00", "299.95", "399.00", "549.00")


SEED_VENDORS = ("Nordisk Hjem", "Fanø Væveri", "Bornholm Keramik")


class CatalogStore:
    """Catalog state lives on each `Shop.catalog`; this owns the REST-side logic. It shares the simulator's
    lock, ids, clock and outbox: every public method takes the lock."""

    def __init__(self, sim: WebhookDelivery) -> None:
        self.sim = sim
        self.bulk_files: dict[str, BulkFile] = {}

    def open_shop(self, shop: Shop) -> ShopCatalog:
        """Every shop starts with one active location, its primary one."""
        catalog = ShopCatalog()
        location = Location(self.sim.new_id(), DEFAULT_LOCATION_NAME, True, self.sim.shop_time(shop))
        catalog.locations[location.id] = location
        return catalog

    def add_location(self, domain: str, name: str, *, active: bool = True) -> dict[str, Any]:
        with self.sim.lock:
            shop = self.sim.shop(domain)
            location = Location(self.sim.new_id(), name, active, self.sim.shop_time(shop))
            shop.catalog.locations[location.id] = location
            return location.rest()

    def _location(self, catalog: ShopCatalog, location_id: int | None) -> Location:
        if location_id is None:
            return catalog.primary_location
        location = catalog.locations.get(int(location_id))
        if location is None:
            raise UnknownLocation(location_id)
        return location

    def create_product(self, domain: str, product: dict[str, Any], *, emit: bool = True) -> dict[str, Any]:
        """Store a REST product (the fixtures' `{"product": {...}}` envelope is accepted too).

        Ids of the product, its variants, options and inventory items are always assigned here; each variant's
        `inventory_quantity` becomes `available` at the primary location.
        """
        with self.sim.lock:
            shop = self.sim.shop(domain)
            if set(product) == {"product"}:
                product = product["product"]
            stored = self._admit_product(shop, copy.deepcopy(product))
            if emit:
                self.sim.emit(shop, "products/create", stored)
            return copy.deepcopy(stored)

    def _admit_product(self, shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
        catalog, now = shop.catalog, self.sim.shop_time(shop)
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValueError("a product needs a title")
        status = str(data.get("status") or "active")
        if status not in PRODUCT_STATUSES:
            raise ValueError(f"status must be one of {PRODUCT_STATUSES}")
        product_id = self.sim.new_id()
        product: dict[str, Any] = {
            "id": product_id,
            "title": title,
            "body_html": data.get("body_html"),
            "vendor": data.get("vendor") or shop.domain.split(".")[0],  # Shopify's default vendor: the shop
            "product_type": data.get("product_type") or "",
            "created_at": now,
            "handle": self.free_handle(catalog, data.get("handle") or slugify(title)),
            "updated_at": now,
            "published_at": data.get("published_at", now if status == "active" else None),
            "template_suffix": data.get("template_suffix"),
            "published_scope": data.get("published_scope") or "web",
            "tags": tags_text(data.get("tags")),
            "status": status,
            "admin_graphql_api_id": gid("Product", product_id),
            "variants": [],
            "options": [],
            "images": [],
            "image": None,
        }
        for position, wanted in enumerate(data.get("variants") or [{}], start=1):
            variant = self.new_variant(shop, product, position, now, tracked=True)
            stock = int(wanted.get("inventory_quantity") or 0)
            self._apply_rest_variant(shop, variant, {k: v for k, v in wanted.items() if k != "inventory_quantity"})
            level = self.stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, now)
            level.available = stock
            self.refresh_quantity(catalog, variant)
        names = [str(option.get("name")) for option in data.get("options") or [] if option.get("name")]
        if not names and any(v.get("option1") not in (None, DEFAULT_TITLE) for v in product["variants"]):
            # Options nobody named: REST calls the first "Title"
            width = max(sum(v[f"option{n}"] is not None for n in (1, 2, 3)) for v in product["variants"])
            names = ["Title", "Option2", "Option3"][:width]
        self.rebuild_options(product, names)
        catalog.products[product_id] = product
        catalog.handles[product["handle"]] = product_id
        return product

    def update_product(
        self,
        domain: str,
        product_id: int | str,
        changes: dict[str, Any],
        *,
        variant_changes: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change REST fields of the product and, by variant id, of its variants; emits `products/update`.

        A variant's `inventory_quantity` sets `available` at the primary location (and emits
        `inventory_levels/update` when it changes), as editing stock in the Shopify admin does.
        """
        with self.sim.lock:
            shop = self.sim.shop(domain)
            catalog = shop.catalog
            product = self._product(catalog, product_id)
            if set(changes) == {"product"}:
                changes = changes["product"]
            fixed = {"id", "admin_graphql_api_id", "variants", "options", "created_at"} & set(changes)
            if fixed:
                raise ValueError(f"cannot change {sorted(fixed)} (use variant_changes for variants)")
            if "status" in changes and changes["status"] not in PRODUCT_STATUSES:
                raise ValueError(f"status must be one of {PRODUCT_STATUSES}")
            own = {v["id"] for v in product["variants"]}
            for variant_id in variant_changes or {}:
                if int(variant_id) not in own:
                    raise UnknownVariant(variant_id)
            updates = dict(changes)
            if "handle" in updates:
                self.rehandle(catalog, product, str(updates.pop("handle")))
            if "tags" in updates:
                updates["tags"] = tags_text(updates["tags"])
            product.update(updates)
            for variant_id, wanted in (variant_changes or {}).items():
                variant = catalog.variants[int(variant_id)]
                stock = wanted.get("inventory_quantity")
                self._apply_rest_variant(shop, variant, {k: v for k, v in wanted.items() if k != "inventory_quantity"})
                if stock is not None:
                    level = self.stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, None)
                    self.set_level(shop, level, available=int(stock))
            renamed = {"title", "option1", "option2", "option3"}
            if any(set(wanted) & renamed for wanted in (variant_changes or {}).values()):
                self.rebuild_options(product, [str(option["name"]) for option in product["options"]])
            product["updated_at"] = self.sim.shop_time(shop)
            self.sim.emit(shop, "products/update", product)
            return copy.deepcopy(product)

    def delete_product(self, domain: str, product_id: int | str) -> None:
        with self.sim.lock:
            shop = self.sim.shop(domain)
            product = self._product(shop.catalog, product_id)
            self._delete_product(shop, product)
            self.sim.emit(shop, "products/delete", {"id": product["id"]})

    def _delete_product(self, shop: Shop, product: dict[str, Any]) -> None:
        catalog = shop.catalog
        for variant in list(product["variants"]):
            self.drop_variant(catalog, variant)
        catalog.handles.pop(product["handle"], None)
        del catalog.products[product["id"]]

    def products(self, domain: str) -> list[dict[str, Any]]:
        with self.sim.lock:
            return copy.deepcopy(list(self.sim.shop(domain).catalog.products.values()))

    def _product(self, catalog: ShopCatalog, product_id: int | str) -> dict[str, Any]:
        text = str(product_id).rsplit("/", 1)[-1]
        product = catalog.products.get(int(text)) if text.isdigit() else None
        if product is None:
            raise UnknownProduct(product_id)
        return product

    def set_available(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Set `available` (stocking the item at the location first if needed); returns the REST level."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            location = self._location(shop.catalog, location_id)
            level = self.stock(shop.catalog, self._item(shop.catalog, inventory_item_id).id, location.id, None)
            self.set_level(shop, level, available=int(quantity))
            return level.rest()

    def set_committed(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Units reserved by unfulfilled orders: `on_hand` grows with them, `available` does not change."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            location = self._location(shop.catalog, location_id)
            level = self.stock(shop.catalog, self._item(shop.catalog, inventory_item_id).id, location.id, None)
            level.committed = int(quantity)
            level.updated_at = self.sim.shop_time(shop)
            return level.rest()

    def inventory_item(self, domain: str, inventory_item_id: int | str) -> dict[str, Any]:
        """REST-shaped (fixture `inventory_item.json` plus `cost`, a decimal string as REST writes money)."""
        with self.sim.lock:
            item = self._item(self.sim.shop(domain).catalog, inventory_item_id)
            return {
                "id": item.id,
                "sku": item.sku,
                "created_at": item.created_at,
                "updated_at": item.updated_at,
                "requires_shipping": item.variant.get("requires_shipping", True),
                "cost": None if item.cost is None else str(item.cost),
                "tracked": item.tracked,
                **rest_customs(item),
                "admin_graphql_api_id": gid("InventoryItem", item.id),
            }

    def inventory(self, domain: str, sku: str) -> list[dict[str, Any]]:
        with self.sim.lock:
            catalog = self.sim.shop(domain).catalog
            return [
                {
                    "inventory_item_id": item.id,
                    "location_id": level.location_id,
                    "available": level.available,
                    "on_hand": level.on_hand,
                }
                for item in catalog.items.values()
                if item.sku == sku
                for level in catalog.levels.get(item.id, {}).values()
            ]

    def _item(self, catalog: ShopCatalog, inventory_item_id: int | str) -> InventoryItem:
        text = str(inventory_item_id).rsplit("/", 1)[-1]
        item = catalog.items.get(int(text)) if text.isdigit() else None
        if item is None:
            raise UnknownInventoryItem(inventory_item_id)
        return item

    def stock(self, catalog: ShopCatalog, item_id: int, location_id: int, now: str | None) -> InventoryLevel:
        """The item's level at the location, created (stocked there, 0 available) when missing."""
        levels = catalog.levels.setdefault(item_id, {})
        level = levels.get(location_id)
        if level is None:
            level = InventoryLevel(item_id, location_id, 0, 0, now or catalog.items[item_id].updated_at)
            levels[location_id] = level
        return level

    def set_level(self, shop: Shop, level: InventoryLevel, *, available: int) -> bool:
        """Set `available`; on a change refresh the variant's total and emit `inventory_levels/update`."""
        if level.available == available:
            return False
        level.available = available
        level.updated_at = self.sim.shop_time(shop)
        item = shop.catalog.items[level.inventory_item_id]
        self.refresh_quantity(shop.catalog, item.variant)
        self.sim.emit(shop, "inventory_levels/update", level.rest())
        return True

    def refresh_quantity(self, catalog: ShopCatalog, variant: dict[str, Any]) -> None:
        # REST's inventory_quantity is the variant's total available over all locations.
        levels = catalog.levels.get(variant["inventory_item_id"], {}).values()
        total = sum(level.available for level in levels)
        variant["inventory_quantity"] = total
        variant["old_inventory_quantity"] = total

    def new_variant(
        self, shop: Shop, product: dict[str, Any], position: int, now: str, *, tracked: bool
    ) -> dict[str, Any]:
        """A REST variant with every key the fixtures have, and its inventory item; registered in the catalog."""
        variant_id, item_id = self.sim.new_id(), self.sim.new_id()
        variant: dict[str, Any] = {
            "id": variant_id,
            "product_id": product["id"],
            "title": DEFAULT_TITLE,
            "price": "0.00",
            "position": position,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": DEFAULT_TITLE,
            "option2": None,
            "option3": None,
            "created_at": now,
            "updated_at": now,
            "taxable": True,
            "barcode": None,
            "fulfillment_service": "manual",
            "grams": 0,
            "inventory_management": "shopify" if tracked else None,
            "requires_shipping": True,
            "sku": "",
            "weight": 0.0,
            "weight_unit": "kg",
            "inventory_item_id": item_id,
            "inventory_quantity": 0,
            "old_inventory_quantity": 0,
            "presentment_prices": [],
            "admin_graphql_api_id": gid("ProductVariant", variant_id),
            "image_id": None,
        }
        self.set_price(shop, variant, "0.00", None)
        product["variants"].append(variant)
        catalog = shop.catalog
        catalog.variants[variant_id] = variant
        catalog.items[item_id] = InventoryItem(item_id, variant, None, now, now)
        catalog.sku_index = None
        return variant

    def drop_variant(self, catalog: ShopCatalog, variant: dict[str, Any]) -> None:
        item_id = variant["inventory_item_id"]
        catalog.variants.pop(variant["id"], None)
        catalog.items.pop(item_id, None)
        catalog.levels.pop(item_id, None)
        catalog.sku_index = None

    def set_price(self, shop: Shop, variant: dict[str, Any], price: str, compare_at: str | None) -> None:
        variant["price"], variant["compare_at_price"] = price, compare_at
        variant["presentment_prices"] = [
            {"price": {"amount": price, "currency_code": shop.currency}, "compare_at_price": compare_at}
        ]

    def set_weight(self, variant: dict[str, Any], value: float, unit: str) -> None:
        variant["weight"], variant["weight_unit"], variant["grams"] = value, unit, grams_of(value, unit)

    def _apply_rest_variant(self, shop: Shop, variant: dict[str, Any], changes: dict[str, Any]) -> None:
        """REST variant fields; identity and links are the simulator's and are never taken over."""
        derived = {
            "id",
            "product_id",
            "inventory_item_id",
            "admin_graphql_api_id",
            "inventory_quantity",
            "old_inventory_quantity",
            "presentment_prices",
            "created_at",
            "updated_at",
            "image_id",
        }
        updates = {key: value for key, value in changes.items() if key not in derived}
        price = rest_money(updates.pop("price", variant["price"]), "price")
        compare_at = updates.pop("compare_at_price", variant["compare_at_price"]) or None
        self.set_price(shop, variant, price, None if compare_at is None else rest_money(compare_at, "compare_at_price"))
        if {"weight", "weight_unit"} & set(updates):
            unit = str(updates.pop("weight_unit", variant["weight_unit"]))
            self.set_weight(variant, float(updates.pop("weight", variant["weight"]) or 0), unit)
            updates.pop("grams", None)
        elif "grams" in updates:  # grams alone: keep the unit, convert
            grams = Decimal(str(updates.pop("grams") or 0))
            self.set_weight(variant, float(grams / GRAMS_PER_UNIT[variant["weight_unit"]]), variant["weight_unit"])
        if "sku" in updates:
            shop.catalog.sku_index = None
        options = {"option1", "option2", "option3"}
        if updates.get("title") and not options & set(updates):
            # A variant's title is made of its option values ("S / Rød"), so a title alone names the options.
            values = str(updates["title"]).split(" / ")[:MAX_OPTIONS]
            updates.update({f"option{n}": value for n, value in enumerate(values, start=1)})
        variant.update(updates)
        if options & set(updates):
            self.retitle(variant)
        variant["updated_at"] = self.sim.shop_time(shop)

    def retitle(self, variant: dict[str, Any]) -> None:
        values = [variant.get(f"option{n}") for n in (1, 2, 3)]
        variant["title"] = " / ".join(str(v) for v in values if v is not None) or DEFAULT_TITLE

    def rebuild_options(self, product: dict[str, Any], names: list[str]) -> None:
        """`options` from the option names and the values the variants use; ids are kept for names kept."""
        if not names:
            names = ["Title"]
            for variant in product["variants"]:
                variant["option1"] = variant.get("option1") or DEFAULT_TITLE
                self.retitle(variant)
        existing = {option["name"]: option for option in product["options"]}
        options = []
        for position, name in enumerate(names[:MAX_OPTIONS], start=1):
            values = list(dict.fromkeys(v[f"option{position}"] for v in product["variants"] if v[f"option{position}"]))
            option_id = existing[name]["id"] if name in existing else self.sim.new_id()
            options.append(
                {"id": option_id, "product_id": product["id"], "name": name, "position": position, "values": values}
            )
        product["options"] = options

    def free_handle(self, catalog: ShopCatalog, wanted: str) -> str:
        handle, number = wanted, 0
        while handle in catalog.handles:
            number += 1
            handle = f"{wanted}-{number}"
        return handle

    def rehandle(self, catalog: ShopCatalog, product: dict[str, Any], wanted: str) -> None:
        if wanted == product["handle"]:
            return
        catalog.handles.pop(product["handle"], None)
        product["handle"] = self.free_handle(catalog, wanted)
        catalog.handles[product["handle"]] = product["id"]

    def seed_catalog(
        self,
        domain: str,
        variants: int,
        *,
        variants_per_product: int = 3,
        stock: Callable[[int], int] | None = None,
        sku: Callable[[int], str | None] | None = None,
        seed: int = 0,
    ) -> None:
        """`variants` variants in products of `variants_per_product` sizes, stocked at the primary location.

        Deterministic for a given `seed` (ids follow the simulator's seed) and quick: 30,000 variants take about
        a second, and no webhooks are emitted. `sku(i)` names variant i (None or "" leaves it without a
        SKU, repeating a value makes duplicate SKUs); the default is `RB-000001`, ... `stock(i)` is its available
        quantity (default: 0-40). Built directly rather than through `create_product`, which does per-call work
        (copies, handle search, option rebuilding) that 30,000 variants cannot afford.
        """
        if variants_per_product < 1:
            raise ValueError("variants_per_product must be at least 1")
        rng = random.Random(seed)
        with self.sim.lock:
            shop = self.sim.shop(domain)
            catalog, now = shop.catalog, self.sim.shop_time(shop)
            location_id = catalog.primary_location.id
            sizes = list(SEED_SIZES[:variants_per_product]) + [
                f"Str. {n}" for n in range(len(SEED_SIZES) + 1, variants_per_product + 1)
            ]
            first_product = len(catalog.products)
            slugs = {name: slugify(name) for name in SEED_PRODUCTS}
            for index in range(0, variants, variants_per_product):
                number = first_product + index // variants_per_product + 1
                count = min(variants_per_product, variants - index)
                product_id = self.sim.new_id()
                name = rng.choice(SEED_PRODUCTS)
                title = f"{name} {number:05d}"
                handle = self.free_handle(catalog, f"{slugs[name]}-{number:05d}")
                single = variants_per_product == 1
                product: dict[str, Any] = {
                    "id": product_id,
                    "title": title,
                    "body_html": f"<p>{title}</p>",
                    "vendor": rng.choice(SEED_VENDORS),
                    "product_type": "Boligtekstil" if number % 2 else "Køkken",
                    "created_at": now,
                    "handle": handle,
                    "updated_at": now,
                    "published_at": now,
                    "template_suffix": None,
                    "published_scope": "web",
                    "tags": "",
                    "status": "active",
                    "admin_graphql_api_id": gid("Product", product_id),
                    "variants": [],
                    "options": [
                        {
                            "id": self.sim.new_id(),
                            "product_id": product_id,
                            "name": "Title" if single else "Størrelse",
                            "position": 1,
                            "values": [DEFAULT_TITLE] if single else sizes[:count],
                        }
                    ],
                    "images": [],
                    "image": None,
                }
                price = rng.choice(SEED_PRICES)
                weight = rng.choice((0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0))
                for offset in range(count):
                    position = index + offset
                    variant_id, item_id = self.sim.new_id(), self.sim.new_id()
                    quantity = stock(position) if stock is not None else int(rng.random() * 41)
                    option = DEFAULT_TITLE if single else sizes[offset]
                    variant = {
                        "id": variant_id,
                        "product_id": product_id,
                        "title": option,
                        "price": price,
                        "position": offset + 1,
                        "inventory_policy": "deny",
                        "compare_at_price": None,
                        "option1": option,
                        "option2": None,
                        "option3": None,
                        "created_at": now,
                        "updated_at": now,
                        "taxable": True,
                        "barcode": f"57{position + 1:011d}",  # 57: GS1 Denmark
                        "fulfillment_service": "manual",
                        "grams": int(weight * 1000),
                        "inventory_management": "shopify",
                        "requires_shipping": True,
                        "sku": sku(position) if sku is not None else f"RB-{position + 1:06d}",
                        "weight": weight,
                        "weight_unit": "kg",
                        "inventory_item_id": item_id,
                        "inventory_quantity": quantity,
                        "old_inventory_quantity": quantity,
                        "presentment_prices": [
                            {"price": {"amount": price, "currency_code": shop.currency}, "compare_at_price": None}
                        ],
                        "admin_graphql_api_id": gid("ProductVariant", variant_id),
                        "image_id": None,
                    }
                    product["variants"].append(variant)
                    catalog.variants[variant_id] = variant
                    cost = (Decimal(price) * Decimal("0.4")).quantize(CENT)
                    catalog.items[item_id] = InventoryItem(item_id, variant, cost, now, now)
                    catalog.levels[item_id] = {location_id: InventoryLevel(item_id, location_id, quantity, 0, now)}
                catalog.products[product_id] = product
                catalog.handles[handle] = product_id
            catalog.sku_index = None
