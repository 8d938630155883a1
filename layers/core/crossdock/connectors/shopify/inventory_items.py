"""Customs facts and cost of Shopify inventory items (reference/shopify_wms.md "Customs and cost").

Read: `InventoryItem { sku harmonizedSystemCode countryCodeOfOrigin unitCost { amount currencyCode } }`, a batch of
items per call as aliased `inventoryItem(id:)` fields (one document, one cost check, no search syntax to get
wrong). Write: `inventoryItemUpdate(id, input: {cost})` — the cost is a Decimal in the shop's currency [doc H6];
PeakWMS's average cost after a purchase order closes goes there. `set_customs` writes the HS code (6–13 digits) and
country of origin. Setting the same value twice changes nothing, so a retry needs no look first. Shopify's refusals
are `userErrors`, raised as a `PermanentError` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

BATCH = 50  # items per read; each costs a few points, so a batch stays far below the 1,000-point query limit
MUTATION_COST = 10
ITEM_FIELDS = "id sku harmonizedSystemCode countryCodeOfOrigin unitCost { amount currencyCode }"

INVENTORY_ITEM_UPDATE = """
mutation UpdateInventoryItem($id: ID!, $input: InventoryItemInput!) {
  inventoryItemUpdate(id: $id, input: $input) {
    inventoryItem { id sku harmonizedSystemCode countryCodeOfOrigin unitCost { amount currencyCode } }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class InventoryItemFacts:
    """An inventory item's SKU, customs facts and cost (None when the merchant left them empty)."""

    id: str
    sku: str | None
    harmonized_system_code: str | None
    country_code_of_origin: str | None
    cost: Decimal | None
    currency: str | None


def inventory_item_gid(inventory_item_id: str | int) -> str:
    text = str(inventory_item_id)
    return text if text.startswith("gid://") else f"gid://shopify/InventoryItem/{text}"


def inventory_items(admin: ShopifyAdmin, ids: Iterable[str | int]) -> list[InventoryItemFacts]:
    """The facts of these items in the order asked; an id the shop does not have is left out."""
    gids = [inventory_item_gid(item_id) for item_id in ids]
    found: list[InventoryItemFacts] = []
    for start in range(0, len(gids), BATCH):
        batch = gids[start : start + BATCH]
        declared = ", ".join(f"$i{index}: ID!" for index in range(len(batch)))
        fields = "\n  ".join(
            f"i{index}: inventoryItem(id: $i{index}) {{ {ITEM_FIELDS} }}" for index in range(len(batch))
        )
        document = f"query InventoryItems({declared}) {{\n  {fields}\n}}"
        variables = {f"i{index}": gid for index, gid in enumerate(batch)}
        data = admin.run(document, variables, expected_cost=2 + len(batch) * 3) or {}
        found += [facts_of(data[f"i{index}"]) for index in range(len(batch)) if data.get(f"i{index}")]
    return found


def facts_of(node: dict[str, Any]) -> InventoryItemFacts:
    cost = node.get("unitCost") or {}
    return InventoryItemFacts(
        id=str(node["id"]),
        sku=(str(node["sku"]).strip() or None) if node.get("sku") else None,
        harmonized_system_code=(str(node["harmonizedSystemCode"]).strip() or None)
        if node.get("harmonizedSystemCode")
        else None,
        country_code_of_origin=str(node["countryCodeOfOrigin"]) if node.get("countryCodeOfOrigin") else None,
        cost=_decimal(cost.get("amount")),
        currency=str(cost["currencyCode"]) if cost.get("currencyCode") else None,
    )


def set_cost(admin: ShopifyAdmin, inventory_item_id: str | int, cost: Decimal) -> InventoryItemFacts:
    """The item's cost per unit, in the shop's currency; returns the item as Shopify then has it."""
    if cost < 0:
        raise ValueError(f"cost must not be negative, got {cost}")
    return _update(admin, inventory_item_id, {"cost": str(cost)})


def set_customs(
    admin: ShopifyAdmin,
    inventory_item_id: str | int,
    *,
    harmonized_system_code: str | None = None,
    country_code_of_origin: str | None = None,
) -> InventoryItemFacts:
    """The item's HS code and/or ISO-2 country of origin (only those given are sent)."""
    changes: dict[str, Any] = {}
    if harmonized_system_code is not None:
        changes["harmonizedSystemCode"] = harmonized_system_code
    if country_code_of_origin is not None:
        changes["countryCodeOfOrigin"] = country_code_of_origin.upper()
    if not changes:
        raise ValueError("set_customs needs a harmonized_system_code or a country_code_of_origin")
    return _update(admin, inventory_item_id, changes)


def _update(admin: ShopifyAdmin, inventory_item_id: str | int, changes: dict[str, Any]) -> InventoryItemFacts:
    gid = inventory_item_gid(inventory_item_id)
    answer = admin.run(INVENTORY_ITEM_UPDATE, {"id": gid, "input": changes}, expected_cost=MUTATION_COST)
    payload = (answer or {})["inventoryItemUpdate"]
    errors = payload.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        raise PermanentError(f"Shopify refused the update of {gid}: {detail}", FailureClass.VALIDATION)
    return facts_of(payload["inventoryItem"])


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
