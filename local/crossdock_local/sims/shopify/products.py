"""Product mutations ("Mutations Crossdock needs"): `productSet` replaces the lists it is sent (variants not sent are
deleted), `productUpdate` and `productVariantsBulkUpdate` change only the fields given, cost lives on the inventory
item (`inventoryItemUpdate`)."""

from __future__ import annotations

import copy
from typing import Any

from crossdock_local.sims.shopify.catalog_values import (
    MAX_INPUT_ARRAY,
    MAX_OPTIONS,
    SETTABLE_QUANTITY_NAMES,
    cost_amount,
    default_variant,
    invalid_input,
    legacy_of,
    product_status,
    rest_money,
    slugify,
    tags_text,
    user_error,
    weight_input,
)
from crossdock_local.sims.shopify.customs import apply_customs, customs_errors
from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.inventory import InventoryMutations
from crossdock_local.sims.shopify.state import DEFAULT_TITLE, InventoryItem, Shop, ShopCatalog
from crossdock_local.sims.shopify.values import gid


class ProductMutations(InventoryMutations):
    """productSet, productUpdate, productVariantsBulkUpdate, inventoryItemUpdate."""

    def product_set(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Create, or update the identified product; lists sent (variants, productOptions) replace the old ones."""
        catalog = shop.catalog
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise ApiError("Variable $input of type ProductSetInput! was provided invalid value")
        identifier = f.args.get("identifier") or {}
        failed = {"product": None, "productSetOperation": None}
        product: dict[str, Any] | None = None
        if identifier.get("id") is not None or data.get("id") is not None:
            where = ["identifier", "id"] if identifier.get("id") is not None else ["input", "id"]
            if identifier.get("id") is not None and data.get("id") is not None and identifier["id"] != data["id"]:
                return {**failed, "userErrors": [user_error(where, "The id differs from input.id.", "INVALID_INPUT")]}
            product_id = legacy_of(identifier.get("id") or data.get("id"), "Product")
            product = catalog.products.get(product_id) if product_id is not None else None
            if product is None:
                return {**failed, "userErrors": [user_error(where, "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]}
        elif identifier.get("handle"):
            by_handle = catalog.handles.get(str(identifier["handle"]))
            product = catalog.products.get(by_handle) if by_handle is not None else None
            data = {"handle": identifier["handle"], **data}
        errors = self._check_product_set(shop, product, data)
        if errors:
            return {**failed, "userErrors": errors}
        created = product is None
        product = self._apply_product_set(shop, product, data)
        self.sim.emit(shop, "products/create" if created else "products/update", product)
        if f.args.get("synchronous", True) is False:
            # Asynchronous: Shopify answers with an operation to poll; here it has already finished.
            operation = {"id": gid("ProductSetOperation", self.sim.new_id()), "status": "COMPLETE"}
            return {"product": None, "productSetOperation": operation, "userErrors": []}
        return {"product": self.gql_product(shop, product), "productSetOperation": None, "userErrors": []}

    def _check_product_set(
        self, shop: Shop, product: dict[str, Any] | None, data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        catalog, errors = shop.catalog, []
        if "status" in data:
            product_status(data["status"])
        if product is None and not str(data.get("title") or "").strip():
            errors.append(user_error(["input", "title"], "Title can't be blank", "INVALID_INPUT"))
        if data.get("handle") and catalog.handles.get(str(data["handle"]), None) not in (
            None,
            product["id"] if product else None,
        ):
            errors.append(
                user_error(["input", "handle"], f"Handle '{data['handle']}' already in use.", "INVALID_INPUT")
            )
        option_names = self._option_names(product, data)
        if len(option_names) > MAX_OPTIONS:
            errors.append(
                user_error(["input", "productOptions"], "A product can have at most 3 options.", "INVALID_INPUT")
            )
        variants = data.get("variants")
        if variants is None:
            return errors
        if not isinstance(variants, list):
            raise invalid_input("variants", "Expected value to be a list of ProductVariantSetInput")
        own = {v["id"] for v in product["variants"]} if product else set()
        combinations: set[tuple[str, ...]] = set()
        for index, variant in enumerate(variants):
            path = ["input", "variants", str(index)]
            if variant.get("id") is not None and legacy_of(variant["id"], "ProductVariant") not in own:
                errors.append(
                    user_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
                )
            values = self._option_values(variant, option_names)
            if values is None:
                errors.append(
                    user_error(
                        [*path, "optionValues"],
                        f"Option values must be given for each product option ({', '.join(option_names)}).",
                        "INVALID_VARIANT",
                    )
                )
            elif values in combinations:
                errors.append(
                    user_error(
                        [*path, "optionValues"],
                        f"The variant '{' / '.join(values)}' already exists.",
                        "VARIANT_ALREADY_EXISTS",
                    )
                )
            else:
                combinations.add(values)
            self._check_variant_input(variant)
            for number, stock in enumerate(variant.get("inventoryQuantities") or []):
                where = [*path, "inventoryQuantities", str(number)]
                if legacy_of(stock.get("locationId"), "Location") not in catalog.locations:
                    errors.append(user_error([*where, "locationId"], "Location does not exist", "INVALID_INPUT"))
                if stock.get("name") not in SETTABLE_QUANTITY_NAMES:
                    errors.append(
                        user_error(
                            [*where, "name"], "The quantity name must be 'available' or 'on_hand'.", "INVALID_INPUT"
                        )
                    )
                if not isinstance(stock.get("quantity"), int):
                    raise invalid_input(f"variants.{index}.inventoryQuantities.{number}.quantity", "Expected an Int")
        return errors

    def _option_names(self, product: dict[str, Any] | None, data: dict[str, Any]) -> list[str]:
        """The option names after this productSet: those sent, else from the variants, else the current ones."""
        if data.get("productOptions") is not None:
            return [str(option.get("name")) for option in data["productOptions"]]
        names: list[str] = []
        for variant in data.get("variants") or []:
            for value in variant.get("optionValues") or []:
                if value.get("optionName") and value["optionName"] not in names:
                    names.append(str(value["optionName"]))
        if names:
            return names
        if product is not None and product["options"] and product["options"][0]["name"] != "Title":
            return [str(option["name"]) for option in product["options"]]
        return []

    def _option_values(self, variant: dict[str, Any], names: list[str]) -> tuple[str, ...] | None:
        """The variant's value for each option, in option order; None when one is missing."""
        given = {str(v.get("optionName")): str(v.get("name")) for v in variant.get("optionValues") or []}
        if not names:
            return (DEFAULT_TITLE,) if not given or set(given) == {"Title"} else None
        if set(given) != set(names):
            return None
        return tuple(given[name] for name in names)

    def _check_variant_input(self, variant: dict[str, Any]) -> None:
        """Type checks that would fail while applying, so a bad value never leaves half an update behind."""
        if variant.get("price") is not None:
            rest_money(variant["price"], "price")
        if variant.get("compareAtPrice") is not None:
            rest_money(variant["compareAtPrice"], "compareAtPrice")
        policy = variant.get("inventoryPolicy")
        if policy is not None and str(policy) not in ("DENY", "CONTINUE"):
            raise ApiError(f"Invalid value for ProductVariantInventoryPolicy: {policy!r}", "INVALID_VARIABLE")
        item = variant.get("inventoryItem")
        if isinstance(item, dict):
            cost_amount(item.get("cost"))
            weight_input(item.get("measurement"))

    def _apply_product_set(self, shop: Shop, product: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
        catalog, now = shop.catalog, self.sim.shop_time(shop)
        names = self._option_names(product, data)
        if product is None:
            product_id = self.sim.new_id()
            product = {
                "id": product_id,
                "title": str(data["title"]).strip(),
                "body_html": None,
                "vendor": shop.domain.split(".")[0],
                "product_type": "",
                "created_at": now,
                "handle": self.free_handle(catalog, str(data.get("handle") or slugify(str(data["title"])))),
                "updated_at": now,
                "published_at": None,
                "template_suffix": None,
                "published_scope": "web",
                "tags": "",
                "status": "active",
                "admin_graphql_api_id": gid("Product", product_id),
                "variants": [],
                "options": [],
                "images": [],
                "image": None,
            }
            catalog.products[product_id] = product
            catalog.handles[product["handle"]] = product_id
            catalog.published[product_id] = set()  # made through the API: on no sales channel until published
            if data.get("variants") is None:
                data = {**data, "variants": [default_variant(data)]}  # a product always has a variant
        self._apply_product_fields(catalog, product, data)
        if data.get("variants") is not None:
            self._replace_variants(shop, product, data["variants"], names, now)
        self.rebuild_options(product, names)
        product["updated_at"] = now
        return product

    def _apply_product_fields(self, catalog: ShopCatalog, product: dict[str, Any], data: dict[str, Any]) -> None:
        """The product's own fields that `data` carries (productSet and productUpdate alike)."""
        if data.get("title") is not None:
            product["title"] = str(data["title"]).strip()
        if "descriptionHtml" in data:
            product["body_html"] = data["descriptionHtml"]
        if "productType" in data:
            product["product_type"] = data["productType"] or ""
        if "vendor" in data:
            product["vendor"] = data["vendor"]
        if data.get("status") is not None:
            product["status"] = product_status(data["status"])
        if "tags" in data:
            product["tags"] = tags_text(data["tags"])
        if data.get("handle"):
            self.rehandle(catalog, product, str(data["handle"]))

    def _replace_variants(
        self, shop: Shop, product: dict[str, Any], wanted: list[dict[str, Any]], names: list[str], now: str
    ) -> None:
        """The sent list becomes the variant list: matched by id, else by option values; the rest is deleted."""
        catalog = shop.catalog
        by_id = {v["id"]: v for v in product["variants"]}
        width = max(len(names), 1)
        by_options = {tuple(v[f"option{n}"] for n in range(1, width + 1)): v for v in product["variants"]}
        kept: list[dict[str, Any]] = []
        kept_ids: set[int] = set()
        new_ones: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for spec in wanted:
            values = self._option_values(spec, names) or (DEFAULT_TITLE,)
            existing = by_id.get(legacy_of(spec["id"], "ProductVariant") or 0) if spec.get("id") else None
            existing = existing or by_options.get(values)
            if existing is not None and existing["id"] not in kept_ids:
                variant = existing
            else:
                variant = self.new_variant(shop, product, 0, now, tracked=False)
                new_ones.append((variant, spec))
            for number in (1, 2, 3):
                variant[f"option{number}"] = values[number - 1] if number <= len(values) else None
            self.retitle(variant)
            self._apply_variant_input(shop, variant, spec)
            kept.append(variant)
            kept_ids.add(variant["id"])
        for variant in product["variants"]:
            if variant["id"] not in kept_ids:
                self.drop_variant(catalog, variant)
        for position, variant in enumerate(kept, start=1):
            variant["position"] = position
        product["variants"] = kept
        for variant, spec in new_ones:
            # Stock is set when a variant is created; without quantities it is stocked at the primary location.
            stocks = spec.get("inventoryQuantities") or []
            if not stocks:
                self.stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, now)
            for stock in stocks:
                location_id = legacy_of(stock["locationId"], "Location")
                assert location_id is not None
                level = self.stock(catalog, variant["inventory_item_id"], location_id, now)
                level.available = stock["quantity"] - (level.not_available if stock["name"] == "on_hand" else 0)
            self.refresh_quantity(catalog, variant)

    def _apply_variant_input(self, shop: Shop, variant: dict[str, Any], data: dict[str, Any]) -> None:
        """GraphQL variant input (ProductVariantSetInput / ProductVariantsBulkInput): only the fields given."""
        if "price" in data or "compareAtPrice" in data:
            price = rest_money(data["price"], "price") if data.get("price") is not None else variant["price"]
            compare_at = data.get("compareAtPrice", variant["compare_at_price"])
            self.set_price(
                shop, variant, price, None if compare_at is None else rest_money(compare_at, "compareAtPrice")
            )
        if "barcode" in data:
            variant["barcode"] = data["barcode"]
        if "taxable" in data:
            variant["taxable"] = bool(data["taxable"])
        if data.get("inventoryPolicy") is not None:
            variant["inventory_policy"] = str(data["inventoryPolicy"]).lower()
        if "sku" in data:
            variant["sku"] = data["sku"]
            shop.catalog.sku_index = None
        item_input = data.get("inventoryItem")
        if isinstance(item_input, dict):
            self._apply_item_input(shop, shop.catalog.items[variant["inventory_item_id"]], item_input)
        variant["updated_at"] = self.sim.shop_time(shop)

    def _apply_item_input(self, shop: Shop, item: InventoryItem, data: dict[str, Any]) -> None:
        """InventoryItemInput: cost here; SKU, tracking and weight on the REST variant the webhooks carry."""
        variant = item.variant
        if "cost" in data:
            item.cost = cost_amount(data["cost"])
        if "sku" in data:
            variant["sku"] = data["sku"]
            shop.catalog.sku_index = None
        if data.get("tracked") is not None:
            variant["inventory_management"] = "shopify" if data["tracked"] else None
        if data.get("requiresShipping") is not None:
            variant["requires_shipping"] = bool(data["requiresShipping"])
        weight = weight_input(data.get("measurement"))
        if weight is not None:
            self.set_weight(variant, *weight)
        item.updated_at = self.sim.shop_time(shop)

    def product_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Only the fields given change; variants and options are never touched."""
        data = f.args.get("product", f.args.get("input"))  # `input` is the deprecated name of the argument
        if not isinstance(data, dict):
            raise ApiError("Field 'productUpdate' is missing required arguments: product", "missingRequiredArguments")
        product_id = legacy_of(data["id"], "Product") if data.get("id") is not None else None
        product = shop.catalog.products.get(product_id) if product_id is not None else None
        if product is None:
            return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
        if "status" in data:
            product_status(data["status"])
        if data.get("title") is not None and not str(data["title"]).strip():
            return {"product": None, "userErrors": [user_error(["title"], "Title can't be blank")]}
        self._apply_product_fields(shop.catalog, product, data)
        product["updated_at"] = self.sim.shop_time(shop)
        self.sim.emit(shop, "products/update", product)
        return {"product": self.gql_product(shop, product), "userErrors": []}

    def variants_bulk_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Only the fields given change. With an error nothing is applied unless `allowPartialUpdates: true`."""
        catalog = shop.catalog
        product_id = legacy_of(f.args["productId"], "Product")
        product = catalog.products.get(product_id) if product_id is not None else None
        if product is None:
            error = user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return {"product": None, "productVariants": None, "userErrors": [error]}
        specs = f.args["variants"]
        if not isinstance(specs, list):
            raise invalid_input("variants", "Expected value to be a list of ProductVariantsBulkInput")
        if len(specs) > MAX_INPUT_ARRAY:
            raise ApiError(
                f"The input array size of {len(specs)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
            )
        own = {v["id"]: v for v in product["variants"]}
        errors: list[dict[str, Any]] = []
        valid: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for index, spec in enumerate(specs):
            path = ["variants", str(index)]
            before = len(errors)
            variant_id = legacy_of(spec["id"], "ProductVariant") if spec.get("id") is not None else None
            if variant_id not in own:
                errors.append(
                    user_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
                )
            if spec.get("inventoryQuantities"):
                errors.append(
                    user_error(
                        [*path, "inventoryQuantities"],
                        "Inventory quantities can only be provided during create. To update inventory for existing "
                        "variants, use inventorySetQuantities.",
                        "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
                    )
                )
            self._check_variant_input(spec)
            if len(errors) == before and variant_id is not None:
                valid.append((own[variant_id], spec))
        if errors and not f.args.get("allowPartialUpdates"):
            return {"product": None, "productVariants": None, "userErrors": errors}
        for variant, spec in valid:
            self._apply_variant_input(shop, variant, spec)
        if valid:
            product["updated_at"] = self.sim.shop_time(shop)
            self.sim.emit(shop, "products/update", product)
        return {
            "product": self.gql_product(shop, product),
            "productVariants": [self.gql_variant(shop, variant) for variant, _ in valid],
            "userErrors": errors,
        }

    def inventory_item_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        item_id = legacy_of(f.args["id"], "InventoryItem")
        item = shop.catalog.items.get(item_id) if item_id is not None else None
        if item is None:
            return {"inventoryItem": None, "userErrors": [user_error(["id"], "Inventory item does not exist")]}
        data = f.args["input"]
        if not isinstance(data, dict):
            raise invalid_input("input", "Expected value to be an InventoryItemInput")
        cost_amount(data.get("cost"))
        weight_input(data.get("measurement"))
        refused = customs_errors(data)
        if refused:
            return {"inventoryItem": None, "userErrors": refused}
        before = copy.deepcopy(item.variant)
        self._apply_item_input(shop, item, data)
        apply_customs(item, data)
        # SKU, tracking and weight are in the product payload; a cost change alone is not.
        if any(item.variant[key] != before[key] for key in ("sku", "inventory_management", "weight", "weight_unit")):
            product = shop.catalog.products[item.variant["product_id"]]
            product["updated_at"] = item.variant["updated_at"] = self.sim.shop_time(shop)
            self.sim.emit(shop, "products/update", product)
        return {"inventoryItem": self.gql_item(shop, item), "userErrors": []}
