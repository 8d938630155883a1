"""The catalog through the Admin GraphQL API: Location, InventoryItem, InventoryLevel, ProductVariant, Product and
BulkOperation derived from the stored REST products, and the catalog's query root fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from crossdock_local.sims.shopify.catalog import CatalogStore
from crossdock_local.sims.shopify.catalog_values import WEIGHT_ENUMS, check_quantity_names, legacy_of
from crossdock_local.sims.shopify.customs import gql_customs
from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.order_search import bulk_orders
from crossdock_local.sims.shopify.paging import LazyConnection, page_by_id
from crossdock_local.sims.shopify.search import Getter, SearchTerm, as_list, exact_skus, matching, parse_search
from crossdock_local.sims.shopify.state import (
    DEFAULT_TITLE,
    BulkOperation,
    InventoryItem,
    InventoryLevel,
    Location,
    Shop,
    ShopCatalog,
)
from crossdock_local.sims.shopify.values import gid, gql_datetime, gql_decimal


class CatalogViews(CatalogStore):
    """GraphQL views of the catalog and its query resolvers."""

    def gql_location(self, location: Location) -> dict[str, Any]:
        return {
            "id": location.gid,
            "legacyResourceId": str(location.id),
            "name": location.name,
            "isActive": location.active,
            "fulfillsOnlineOrders": location.active,
            "shipsInventory": location.active,
            "createdAt": lambda _args: gql_datetime(location.created_at),
            "updatedAt": lambda _args: gql_datetime(location.created_at),
        }

    def _gql_level(self, shop: Shop, level: InventoryLevel) -> dict[str, Any]:
        catalog = shop.catalog

        def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
            check_quantity_names(args.get("names"))
            return [
                {
                    "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
                    f"?inventory_item_id={level.inventory_item_id}&name={name}",
                    "name": name,
                    "quantity": level.quantity(name),
                    "updatedAt": lambda _args: gql_datetime(level.updated_at),
                }
                for name in as_list(args.get("names") or [])
            ]

        return {
            "id": level.gid,
            "canDeactivate": level.committed == 0,
            "createdAt": lambda _args: gql_datetime(catalog.items[level.inventory_item_id].created_at),
            "updatedAt": lambda _args: gql_datetime(level.updated_at),
            "location": lambda _args: self.gql_location(catalog.locations[level.location_id]),
            "item": lambda _args: self.gql_item(shop, catalog.items[level.inventory_item_id]),
            "quantities": quantities,
        }

    def gql_item(self, shop: Shop, item: InventoryItem) -> dict[str, Any]:
        catalog, variant = shop.catalog, item.variant

        def level_at(args: dict[str, Any]) -> dict[str, Any] | None:
            location_id = legacy_of(args.get("locationId"), "Location")
            level = catalog.levels.get(item.id, {}).get(location_id) if location_id is not None else None
            return None if level is None else self._gql_level(shop, level)

        def levels() -> list[dict[str, Any]]:
            return [self._gql_level(shop, level) for level in catalog.levels.get(item.id, {}).values()]

        unit = variant.get("weight_unit") or "kg"
        return {
            "id": gid("InventoryItem", item.id),
            "legacyResourceId": str(item.id),
            "sku": item.sku,
            "tracked": item.tracked,
            "requiresShipping": variant.get("requires_shipping", True),
            "createdAt": lambda _args: gql_datetime(item.created_at),
            "updatedAt": lambda _args: gql_datetime(item.updated_at),
            "unitCost": lambda _args: (
                None if item.cost is None else {"amount": gql_decimal(item.cost), "currencyCode": shop.currency}
            ),
            "measurement": lambda _args: {
                "id": gid("InventoryItemMeasurement", item.id),
                "weight": {"unit": WEIGHT_ENUMS.get(unit, "KILOGRAMS"), "value": float(variant.get("weight") or 0)},
            },
            "inventoryLevel": level_at,
            "inventoryLevels": LazyConnection(levels),
            "variant": lambda _args: self.gql_variant(shop, variant),
            **gql_customs(item),
        }

    def gql_variant(self, shop: Shop, variant: dict[str, Any]) -> dict[str, Any]:
        catalog = shop.catalog
        product = catalog.products[variant["product_id"]]
        item = catalog.items[variant["inventory_item_id"]]

        def selected_options(_args: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {"name": option["name"], "value": variant.get(f"option{option['position']}")}
                for option in product["options"]
            ]

        return {
            "id": variant["admin_graphql_api_id"],
            "legacyResourceId": str(variant["id"]),
            "sku": variant.get("sku"),
            "title": variant.get("title"),
            "displayName": lambda _args: f"{product['title']} - {variant.get('title')}",
            "price": variant.get("price"),  # `Money` scalar: two decimals, as REST
            "compareAtPrice": variant.get("compare_at_price"),
            "barcode": variant.get("barcode"),
            "position": variant.get("position"),
            "inventoryQuantity": variant.get("inventory_quantity"),
            "inventoryPolicy": str(variant.get("inventory_policy") or "deny").upper(),
            "taxable": variant.get("taxable"),
            "availableForSale": product["status"] == "active"
            and (
                not item.tracked or variant.get("inventory_policy") == "continue" or variant["inventory_quantity"] > 0
            ),
            "createdAt": lambda _args: gql_datetime(variant.get("created_at")),
            "updatedAt": lambda _args: gql_datetime(variant.get("updated_at")),
            "selectedOptions": selected_options,
            "product": lambda _args: self.gql_product(shop, product),
            "inventoryItem": lambda _args: self.gql_item(shop, item),
        }

    def gql_product(self, shop: Shop, product: dict[str, Any]) -> dict[str, Any]:
        variants = product["variants"]

        def options(_args: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "id": gid("ProductOption", option["id"]),
                    "name": option["name"],
                    "position": option["position"],
                    "values": list(option["values"]),
                    "optionValues": [
                        {"id": gid("ProductOptionValue", f"{option['id']}{n}"), "name": value, "hasVariants": True}
                        for n, value in enumerate(option["values"])
                    ],
                }
                for option in product["options"]
            ]

        return {
            "id": product["admin_graphql_api_id"],
            "legacyResourceId": str(product["id"]),
            "title": product["title"],
            "handle": product["handle"],
            "descriptionHtml": product.get("body_html") or "",
            "productType": product.get("product_type") or "",
            "vendor": product.get("vendor"),
            "status": str(product["status"]).upper(),
            "tags": [tag.strip() for tag in str(product.get("tags") or "").split(",") if tag.strip()],
            "totalInventory": lambda _args: sum(int(v.get("inventory_quantity") or 0) for v in variants),
            "tracksInventory": lambda _args: any(v.get("inventory_management") == "shopify" for v in variants),
            "hasOnlyDefaultVariant": lambda _args: len(variants) == 1 and variants[0].get("title") == DEFAULT_TITLE,
            "createdAt": lambda _args: gql_datetime(product.get("created_at")),
            "updatedAt": lambda _args: gql_datetime(product.get("updated_at")),
            "variantsCount": lambda _args: {"count": len(variants), "precision": "EXACT"},
            "variants": LazyConnection(lambda: [self.gql_variant(shop, v) for v in variants]),
            "options": options,
            "__typename": "Product",  # as a Publishable
            "publishedAt": lambda _args: gql_datetime(product.get("published_at")),
            "publishedOnPublication": lambda args: (
                legacy_of(args["publicationId"], "Publication") in shop.catalog.publications_of(product)
            ),
        }

    def gql_bulk_operation(self, operation: BulkOperation) -> dict[str, Any]:
        def timestamp(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        done = operation.status == "COMPLETED"
        return {
            "id": operation.gid,
            "status": operation.status,
            "errorCode": operation.error_code,
            # UnsignedInt64 travels as a string in Shopify's JSON.
            "objectCount": str(operation.object_count),
            "rootObjectCount": str(operation.root_object_count),
            "fileSize": None if operation.file_size is None else str(operation.file_size),
            "url": operation.url if done else None,
            "partialDataUrl": None,
            "createdAt": timestamp(operation.created_at),
            "completedAt": timestamp(operation.completed_at),
            "type": "QUERY",
            "query": operation.query,
        }

    def resolve_location(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        if f.args.get("id") is None:
            return self.gql_location(shop.catalog.primary_location)  # no id: the shop's primary location
        location_id = legacy_of(f.args["id"], "Location")
        location = shop.catalog.locations.get(location_id) if location_id is not None else None
        return None if location is None else self.gql_location(location)

    def resolve_inventory_item(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        item_id = legacy_of(f.args["id"], "InventoryItem")
        item = shop.catalog.items.get(item_id) if item_id is not None else None
        return None if item is None else self.gql_item(shop, item)

    def resolve_variant(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        variant_id = legacy_of(f.args["id"], "ProductVariant")
        variant = shop.catalog.variants.get(variant_id) if variant_id is not None else None
        return None if variant is None else self.gql_variant(shop, variant)

    def resolve_product(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        product_id = legacy_of(f.args["id"], "Product")
        product = shop.catalog.products.get(product_id) if product_id is not None else None
        return None if product is None else self.gql_product(shop, product)

    def resolve_connection(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        _, items, id_of, to_node = self.root_source(shop, f.name, f.args)
        return page_by_id(items, f.args, id_of, to_node)

    def root_source(
        self, shop: Shop, name: str, args: dict[str, Any]
    ) -> tuple[str, Sequence[Any], Callable[[Any], int], Callable[[Any], dict[str, Any]]]:
        """A root connection's node type, its matching objects in id order, their id, and their GraphQL node."""
        if name == "orders":
            return bulk_orders(self.sim, shop, args)
        catalog = shop.catalog
        groups = parse_search(args.get("query"))
        if name == "locations":
            locations = [loc for loc in catalog.locations.values() if loc.active or args.get("includeInactive")]
            return "Location", locations, lambda loc: int(loc.id), self.gql_location
        if name == "inventoryItems":
            items = self._search_items(catalog, groups)
            return "InventoryItem", items, lambda item: int(item.id), lambda item: self.gql_item(shop, item)
        if name == "productVariants":
            found = self._search_items(catalog, groups, for_variants=True)
            variants = sorted((item.variant for item in found), key=lambda v: int(v["id"]))
            return "ProductVariant", variants, lambda v: int(v["id"]), lambda v: self.gql_variant(shop, v)
        products = matching(catalog.products.values(), groups, self._product_fields(catalog), ("title", "sku"))
        return "Product", products, lambda p: int(p["id"]), lambda p: self.gql_product(shop, p)

    def _search_items(
        self, catalog: ShopCatalog, groups: list[list[SearchTerm]], *, for_variants: bool = False
    ) -> list[InventoryItem]:
        skus = exact_skus(groups)
        if skus is not None:
            index = self._sku_index(catalog)
            ids = sorted({item_id for sku in skus for item_id in index.get(sku, ())})
            return [catalog.items[item_id] for item_id in ids]
        if for_variants:
            fields: dict[str, Getter] = {
                "sku": lambda item: item.sku,
                "id": lambda item: item.variant["id"],
                "product_id": lambda item: item.variant["product_id"],
                "inventory_item_id": lambda item: item.id,
                "barcode": lambda item: item.variant.get("barcode"),
                "title": lambda item: (
                    f"{catalog.products[item.variant['product_id']]['title']} {item.variant['title']}"
                ),
                "created_at": lambda item: item.variant.get("created_at"),
                "updated_at": lambda item: item.variant.get("updated_at"),
            }
        else:
            fields = {
                "sku": lambda item: item.sku,
                "id": lambda item: item.id,
                "created_at": lambda item: item.created_at,
                "updated_at": lambda item: item.updated_at,
            }
        return matching(catalog.items.values(), groups, fields, ("sku", "title") if for_variants else ("sku",))

    def _product_fields(self, catalog: ShopCatalog) -> dict[str, Getter]:
        return {
            "sku": lambda p: [v.get("sku") for v in p["variants"]],
            "barcode": lambda p: [v.get("barcode") for v in p["variants"]],
            "id": lambda p: p["id"],
            "title": lambda p: p["title"],
            "handle": lambda p: p["handle"],
            "status": lambda p: p["status"],
            "vendor": lambda p: p.get("vendor"),
            "product_type": lambda p: p.get("product_type"),
            "created_at": lambda p: p.get("created_at"),
            "updated_at": lambda p: p.get("updated_at"),
        }

    def _sku_index(self, catalog: ShopCatalog) -> dict[str, list[int]]:
        if catalog.sku_index is None:
            index: dict[str, list[int]] = {}
            for item in catalog.items.values():
                if item.sku:
                    index.setdefault(item.sku.casefold(), []).append(item.id)
            catalog.sku_index = index
        return catalog.sku_index

    def resolve_bulk_operation(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        self.sim.before_lookup(shop)
        operation_id = legacy_of(f.args["id"], "BulkOperation")
        for operation in shop.catalog.bulk_operations:
            if operation.id == operation_id:
                return self.gql_bulk_operation(operation)
        return None

    def resolve_current_bulk_operation(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        self.sim.before_lookup(shop)
        if str(f.args.get("type") or "QUERY") != "QUERY":
            return None  # bulk mutations are not modelled
        operations = shop.catalog.bulk_operations
        return self.gql_bulk_operation(operations[-1]) if operations else None
