"""Shopify stock: read levels by SKU, set absolute quantities with compare-and-set (reference/shopify.md).

From API version 2026-04 every quantity carries `changeFromQuantity` (the value we last read, so a sale that
happened in between is not overwritten blindly) and the mutation needs an `@idempotent` key; the key is derived
from the exact input, so a retry of the same command reuses it and Shopify applies it once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.products import sku_query
from crossdock.errors import FailureClass, PermanentError

QuantityName = Literal["available", "on_hand"]
# Requested cost of INVENTORY_BY_SKU at 250 nodes (2 + 250 × 3 objects): the client waits for this much budget.
INVENTORY_QUERY_COST = 752
MUTATION_COST = 10


@dataclass(frozen=True)
class InventoryLevel:
    inventory_item_id: str
    sku: str
    tracked: bool
    stocked: bool  # the item has a level at the location
    quantities: dict[str, int]


@dataclass(frozen=True)
class QuantityChange:
    inventory_item_id: str
    quantity: int
    change_from: int | None


def primary_location(shopify: ShopifyAdmin) -> str:
    location = shopify.run(queries.PRIMARY_LOCATION, expected_cost=2)["location"]
    if location is None:
        raise PermanentError(f"shop {shopify.shop_domain} has no location", FailureClass.VALIDATION)
    return str(location["id"])


def location_gid(value: str) -> str:
    """Settings may hold a numeric location id or its GID."""
    return value if value.startswith("gid://") else f"gid://shopify/Location/{value}"


def levels_for_skus(shopify: ShopifyAdmin, skus: list[str], location_id: str) -> list[InventoryLevel]:
    """Every inventory item carrying one of `skus` (exact match), with its quantities at the location."""
    wanted = set(skus)
    levels: list[InventoryLevel] = []
    after: str | None = None
    while True:
        variables = {"query": sku_query(skus), "first": queries.PAGE_SIZE, "after": after, "locationId": location_id}
        page = shopify.run(queries.INVENTORY_BY_SKU, variables, expected_cost=INVENTORY_QUERY_COST)["inventoryItems"]
        for node in page["nodes"]:
            if node.get("sku") not in wanted:
                continue
            level = node.get("inventoryLevel")
            quantities = {q["name"]: int(q["quantity"]) for q in (level or {}).get("quantities", [])}
            levels.append(
                InventoryLevel(node["id"], node["sku"], bool(node.get("tracked")), level is not None, quantities)
            )
        if not page["pageInfo"]["hasNextPage"]:
            return levels
        after = page["pageInfo"]["endCursor"]


def idempotency_key(scope: str, payload: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:40]
    return f"crossdock-{scope}-{digest}"


def set_quantities(
    shopify: ShopifyAdmin, scope: str, name: QuantityName, location_id: str, changes: list[QuantityChange]
) -> list[dict[str, Any]]:
    """One `inventorySetQuantities` for up to 250 changes; returns Shopify's user errors (empty when applied).
    Shopify applies all or nothing, so on a user error nothing changed."""
    payload = {
        "name": name,
        "reason": "correction",
        "referenceDocumentUri": f"crossdock://stock/{scope}",
        "quantities": [
            {
                "inventoryItemId": change.inventory_item_id,
                "locationId": location_id,
                "quantity": change.quantity,
                "changeFromQuantity": change.change_from,
            }
            for change in changes
        ],
    }
    variables = {"input": payload, "key": idempotency_key(scope, payload)}
    data = shopify.run(queries.SET_QUANTITIES, variables, expected_cost=MUTATION_COST)["inventorySetQuantities"]
    errors: list[dict[str, Any]] = data.get("userErrors") or []
    return errors
