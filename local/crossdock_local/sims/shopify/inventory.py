"""`inventorySetQuantities` with the 2026-04 rules, and `@idempotent(key:)` for every catalog mutation.

`changeFromQuantity` on every quantity (explicit null skips the compare; a stale value → CHANGE_FROM_QUANTITY_STALE
and nothing is applied) and a mandatory `@idempotent(key:)`; a key replays its first result for 24 h and refuses
other input. At most 250 quantities per call.
"""

from __future__ import annotations

import json
from typing import Any

from crossdock_local.sims.shopify.catalog_values import (
    IDEMPOTENCY_REQUIRED_FROM,
    IDEMPOTENCY_TTL,
    IDEMPOTENT_REQUIRED,
    INVENTORY_REASONS,
    MAX_INPUT_ARRAY,
    MAX_QUANTITY,
    SETTABLE_QUANTITY_NAMES,
    at_least,
    invalid_input,
    legacy_of,
    user_error,
)
from crossdock_local.sims.shopify.catalog_views import CatalogViews
from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import (
    GqlField,
    RootResolver,
)
from crossdock_local.sims.shopify.state import InventoryLevel, Replay, Shop
from crossdock_local.sims.shopify.values import gid, gql_datetime


class InventoryMutations(CatalogViews):
    """Stock writes, all or nothing."""

    def idempotent(self, resolve: RootResolver) -> RootResolver:
        """`@idempotent(key:)`: the first answer for a key is kept 24 h and replayed for the same input.

        From 2026-04 the directive is mandatory on the stock mutations ("Mutations Crossdock needs"); a missing key
        is refused before anything is applied. The key is compared with the mutation's arguments, so reusing a
        key for other input is an error rather than a silent replay of the wrong answer.
        """

        def run(shop: Shop, f: GqlField, version: str) -> Any:
            directive = f.directives.get("idempotent")
            key = directive.get("key") if directive is not None else None
            if directive is not None and (not isinstance(key, str) or not key.strip()):
                raise ApiError("The @idempotent directive needs a non-blank `key`", "BAD_REQUEST")
            if key is None:
                if f.name in IDEMPOTENT_REQUIRED and at_least(version, IDEMPOTENCY_REQUIRED_FROM):
                    raise ApiError(
                        f"The @idempotent directive is required for {f.name} from API version "
                        f'{IDEMPOTENCY_REQUIRED_FROM}; add @idempotent(key: "...") to the field',
                        "IDEMPOTENCY_KEY_REQUIRED",
                    )
                return resolve(shop, f, version)
            now, store = self.sim.clock(), shop.catalog.idempotency
            # Keys are stored in the order they were first used, all with the same lifetime, so the expired ones are
            # at the front: a stock burst of tens of thousands of keys costs no scan of them all per call.
            while store:
                oldest = next(iter(store))
                if store[oldest].expires > now:
                    break
                del store[oldest]
            fingerprint = json.dumps({"field": f.name, "args": f.args}, sort_keys=True, default=str)
            replay = store.get(key)
            if replay is not None:
                if replay.fingerprint != fingerprint:
                    raise ApiError(
                        "The same idempotency key cannot be used with different operation parameters.",
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    )
                return replay.result
            result = resolve(shop, f, version)
            store[key] = Replay(fingerprint, result, now + IDEMPOTENCY_TTL)
            return result

        return run

    def set_quantities(self, shop: Shop, f: GqlField, version: str) -> dict[str, Any]:
        """All-or-nothing: every quantity is checked before any is applied."""
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise ApiError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value")
        quantities = data.get("quantities")
        if not isinstance(quantities, list) or not all(isinstance(q, dict) for q in quantities):
            raise invalid_input("quantities", "Expected value to be a list of InventoryQuantityInput")
        if len(quantities) > MAX_INPUT_ARRAY:
            raise ApiError(
                f"The input array size of {len(quantities)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
            )
        for index, quantity in enumerate(quantities):
            if at_least(version, IDEMPOTENCY_REQUIRED_FROM) and "changeFromQuantity" not in quantity:
                raise invalid_input(
                    f"quantities.{index}.changeFromQuantity",
                    "Expected value to be present (pass null to skip the compare-and-set check)",
                )
            for required in ("inventoryItemId", "locationId", "quantity"):
                if quantity.get(required) is None:
                    raise invalid_input(f"quantities.{index}.{required}", "Expected value to not be null")
        for required in ("name", "reason"):
            if data.get(required) is None:
                raise invalid_input(required, "Expected value to not be null")
        name, reason = str(data["name"]), str(data["reason"])
        errors: list[dict[str, Any]] = []
        if name not in SETTABLE_QUANTITY_NAMES:
            errors.append(
                user_error(
                    ["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME"
                )
            )
        if reason not in INVENTORY_REASONS:
            errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
        changes = self._check_quantities(shop, quantities, name, errors)
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        return {"inventoryAdjustmentGroup": self._apply_quantities(shop, changes, name, data), "userErrors": []}

    def _check_quantities(
        self, shop: Shop, quantities: list[dict[str, Any]], name: str, errors: list[dict[str, Any]]
    ) -> list[tuple[InventoryLevel, int]]:
        catalog, checked, seen = shop.catalog, [], set()
        for index, quantity in enumerate(quantities):
            path = ["input", "quantities", str(index)]
            item_id = legacy_of(quantity["inventoryItemId"], "InventoryItem")
            location_id = legacy_of(quantity["locationId"], "Location")
            value = quantity["quantity"]
            if not isinstance(value, int) or isinstance(value, bool):
                raise invalid_input(f"quantities.{index}.quantity", "Expected value to be an Int")
            if item_id not in catalog.items:
                errors.append(
                    user_error(
                        [*path, "inventoryItemId"],
                        "The specified inventory item could not be found.",
                        "INVALID_INVENTORY_ITEM",
                    )
                )
                continue
            if location_id not in catalog.locations:
                errors.append(
                    user_error([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
                )
                continue
            assert item_id is not None and location_id is not None
            level = catalog.levels.get(item_id, {}).get(location_id)
            if level is None:
                errors.append(
                    user_error(
                        [*path, "locationId"],
                        "The specified inventory item is not stocked at the location.",
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                    )
                )
                continue
            if (item_id, location_id) in seen:
                errors.append(
                    user_error(
                        path,
                        "The combination of inventoryItemId and locationId must be unique.",
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    )
                )
                continue
            seen.add((item_id, location_id))
            if value > MAX_QUANTITY:
                errors.append(
                    user_error(
                        [*path, "quantity"],
                        "The quantity can't be higher than 1,000,000,000.",
                        "INVALID_QUANTITY_TOO_HIGH",
                    )
                )
            elif value < -MAX_QUANTITY:
                errors.append(
                    user_error(
                        [*path, "quantity"],
                        "The quantity can't be lower than -1,000,000,000.",
                        "INVALID_QUANTITY_TOO_LOW",
                    )
                )
            elif name == "on_hand" and value < 0:
                errors.append(
                    user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
                )
            expected = quantity.get("changeFromQuantity")
            if expected is not None and expected != level.quantity(name):
                errors.append(
                    user_error(
                        [*path, "changeFromQuantity"],
                        "The changeFromQuantity value does not match persisted value.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
            checked.append((level, value))
        return checked

    def _apply_quantities(
        self, shop: Shop, changes: list[tuple[InventoryLevel, int]], name: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        catalog, recorded = shop.catalog, []
        for level, value in changes:
            before_available, before_on_hand = level.available, level.on_hand
            available = value if name == "available" else value - level.not_available
            self.set_level(shop, level, available=available)
            item, location = catalog.items[level.inventory_item_id], catalog.locations[level.location_id]
            for quantity_name, before in (("available", before_available), ("on_hand", before_on_hand)):
                after = level.quantity(quantity_name)
                if after != before:
                    recorded.append((quantity_name, after - before, after, item, location))
        if not recorded:
            return None  # nothing changed: Shopify answers without an adjustment group
        return {
            "id": gid("InventoryAdjustmentGroup", self.sim.new_id()),
            "createdAt": gql_datetime(self.sim.shop_time(shop)),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": [
                {
                    "name": quantity_name,
                    "delta": delta,
                    "quantityAfterChange": after,
                    "ledgerDocumentUri": None,
                    "item": self.gql_item(shop, item),
                    "location": self.gql_location(location),
                }
                for quantity_name, delta, after, item, location in recorded
            ],
        }
