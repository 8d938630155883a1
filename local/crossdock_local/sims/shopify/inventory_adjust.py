"""`inventoryAdjustQuantities` with the 2026-04 rules (reference/shopify_wms.md "Writes" → Stock, "Behaviours a
simulator must model" 4): the delta form, kept for returns and restocks.

`inventoryAdjustQuantities(input: {name, reason, referenceDocumentUri, changes: [{inventoryItemId, locationId,
delta, changeFromQuantity, ledgerDocumentUri}]}) @idempotent(key:)` [doc H4, H5]:

- `changeFromQuantity` must be sent on every change (an explicit null skips the compare-and-swap); a value that is
  not the quantity now is `CHANGE_FROM_QUANTITY_STALE` and nothing is applied;
- `ledgerDocumentUri` is required for every quantity name except `available` (`INVALID_QUANTITY_DOCUMENT`), not
  accepted with `available` (`INVALID_AVAILABLE_DOCUMENT`) and may not be a `gid://shopify/…` URI
  (`INTERNAL_LEDGER_DOCUMENT`); the codes are Shopify's enum `InventoryAdjustQuantitiesUserErrorCode`;
- the `@idempotent` key is mandatory (runtime error without it) and a replay answers the first result;
- all or nothing; a change of `available` sends `inventory_levels/update` as every stock change does; the held
  quantities (`damaged`, `quality_control`, `reserved`, `safety_stock`) count in `on_hand`, `incoming` does not.
The wording of the messages follows the enum's descriptions.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.shopify.catalog_values import (
    IDEMPOTENCY_REQUIRED_FROM,
    INVENTORY_REASONS,
    at_least,
    invalid_input,
    legacy_of,
    user_error,
)
from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.inventory import InventoryMutations
from crossdock_local.sims.shopify.state import InventoryLevel, Shop
from crossdock_local.sims.shopify.values import gid, gql_datetime

ADJUSTABLE = ("available", "damaged", "incoming", "quality_control", "reserved", "safety_stock")
LIMIT = 2_000_000_000  # the enum: "can't be higher than 2,000,000,000" / "lower than -2,000,000,000"


class InventoryAdjust:
    """Registers `inventoryAdjustQuantities` on the simulator, over the catalog's stock and idempotency."""

    def __init__(self, catalog: InventoryMutations) -> None:
        self.catalog = catalog
        catalog.sim.resolvers["inventoryAdjustQuantities"] = catalog.idempotent(self._adjust)

    def _adjust(self, shop: Shop, f: GqlField, version: str) -> dict[str, Any]:
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise ApiError("Variable $input of type InventoryAdjustQuantitiesInput! was provided invalid value")
        changes = data.get("changes") or []
        if at_least(version, IDEMPOTENCY_REQUIRED_FROM):
            for index, change in enumerate(changes):
                if "changeFromQuantity" not in change:
                    raise invalid_input(
                        f"changes.{index}.changeFromQuantity",
                        "Expected value to be present (pass null to skip the compare-and-set check)",
                    )
        name, reason = str(data.get("name")), str(data.get("reason"))
        errors: list[dict[str, Any]] = []
        if name not in ADJUSTABLE:
            errors.append(
                user_error(["input", "name"], "The specified quantity name is invalid.", "INVALID_QUANTITY_NAME")
            )
        if reason not in INVENTORY_REASONS:
            errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
        checked = self._check(shop, changes, name, errors) if not errors else []
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        return {"inventoryAdjustmentGroup": self._apply(shop, checked, name, data), "userErrors": []}

    def _check(
        self, shop: Shop, changes: list[dict[str, Any]], name: str, errors: list[dict[str, Any]]
    ) -> list[tuple[InventoryLevel, int, str | None]]:
        catalog, checked = shop.catalog, []
        for index, change in enumerate(changes):
            path = ["input", "changes", str(index)]
            item_id = legacy_of(change.get("inventoryItemId"), "InventoryItem")
            location_id = legacy_of(change.get("locationId"), "Location")
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
                        "The inventory item is not stocked at the location.",
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                    )
                )
                continue
            ledger = change.get("ledgerDocumentUri")
            refusal = _ledger_refusal(name, ledger)
            if refusal is not None:
                errors.append(user_error([*path, "ledgerDocumentUri"], *refusal))
                continue
            delta = int(change.get("delta") or 0)
            expected = change.get("changeFromQuantity")
            if expected is not None and expected != level.quantity(name):
                errors.append(
                    user_error(
                        [*path, "changeFromQuantity"],
                        "The changeFromQuantity argument no longer matches the persisted quantity.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
                continue
            after = level.quantity(name) + delta
            if after > LIMIT or after < -LIMIT:
                code = "INVALID_QUANTITY_TOO_HIGH" if after > LIMIT else "INVALID_QUANTITY_TOO_LOW"
                errors.append(user_error([*path, "delta"], "The quantity is out of range.", code))
                continue
            checked.append((level, delta, ledger))
        return checked

    def _apply(
        self, shop: Shop, checked: list[tuple[InventoryLevel, int, str | None]], name: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        catalog, recorded = shop.catalog, []
        for level, delta, ledger in checked:
            if delta == 0:
                continue
            on_hand_before = level.on_hand
            if name == "available":
                self.catalog.set_level(shop, level, available=level.available + delta)
            else:
                level.held[name] = level.held.get(name, 0) + delta
                level.updated_at = self.catalog.sim.shop_time(shop)
            item, location = catalog.items[level.inventory_item_id], catalog.locations[level.location_id]
            recorded.append((name, delta, level.quantity(name), ledger, item, location))
            if level.on_hand != on_hand_before:
                recorded.append(("on_hand", level.on_hand - on_hand_before, level.on_hand, None, item, location))
        if not recorded:
            return None
        return {
            "id": gid("InventoryAdjustmentGroup", self.catalog.sim.new_id()),
            "createdAt": gql_datetime(self.catalog.sim.shop_time(shop)),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": [
                {
                    "name": quantity_name,
                    "delta": delta,
                    "quantityAfterChange": after,
                    "ledgerDocumentUri": ledger,
                    "item": self.catalog.gql_item(shop, item),
                    "location": self.catalog.gql_location(location),
                }
                for quantity_name, delta, after, ledger, item, location in recorded
            ],
        }


def _ledger_refusal(name: str, ledger: Any) -> tuple[str, str] | None:
    """(message, code) when the ledger document URI breaks the rules for `name` [doc H4]."""
    if name == "available":
        if ledger is not None:
            return "A ledger document URI is not allowed when adjusting available.", "INVALID_AVAILABLE_DOCUMENT"
        return None
    if not ledger:
        return "A ledger document URI is required except when adjusting available.", "INVALID_QUANTITY_DOCUMENT"
    if str(ledger).startswith("gid://shopify/"):
        return (
            "Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API.",
            "INTERNAL_LEDGER_DOCUMENT",
        )
    return None
