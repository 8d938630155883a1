"""Stock moved by a delta: `inventoryAdjustQuantities` with compare-and-swap and its mandatory idempotency key
(reference/shopify_wms.md "Writes" → Stock).

The absolute form (`inventory.set_quantities`) is preferred where the WMS reports the new total (PeakWMS event
100); the delta form is for returns and restocks, where only the change is known. From 2026-04 every change
carries `changeFromQuantity` (the quantity last read; None skips the compare) and the call an `@idempotent` key
derived from the command, so a retry after a lost answer is applied once. `available` takes no ledger document;
the other names (`damaged`, `quality_control`, `reserved`, `safety_stock`, `incoming`) need one that is not a
`gid://shopify/…` URI [doc H4]. `referenceDocumentUri` is ours, e.g. `gid://crossdock/PeakStockAdjust/812`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

MUTATION_COST = 10
MAX_CHANGES = 250  # Shopify's limit on an input array

ADJUST_QUANTITIES = """
mutation AdjustStock($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""


class StockDelta(NamedTuple):
    inventory_item_id: str  # GID
    location_id: str  # GID
    delta: int
    change_from: int | None  # the quantity last read; None skips the compare-and-swap
    ledger_document_uri: str | None = None  # required for every name except available


class StaleQuantity(PermanentError):
    """A quantity changed since it was read (`CHANGE_FROM_QUANTITY_STALE`): read again and decide anew."""


def adjust_quantities(
    admin: ShopifyAdmin,
    changes: list[StockDelta],
    *,
    reason: str,
    reference_document_uri: str,
    idempotency_key: str,
    name: str = "available",
) -> list[dict[str, Any]]:
    """Apply the deltas all or nothing; returns the adjustment group's changes (empty when nothing changed).
    `StaleQuantity` on a compare-and-swap miss, `PermanentError` naming the field on any other refusal."""
    if not changes or len(changes) > MAX_CHANGES:
        raise ValueError(f"between 1 and {MAX_CHANGES} changes a call, got {len(changes)}")
    if not idempotency_key.strip():
        raise ValueError("inventoryAdjustQuantities needs an idempotency key derived from the caller's command")
    rows = []
    for change in changes:
        row: dict[str, Any] = {
            "inventoryItemId": change.inventory_item_id,
            "locationId": change.location_id,
            "delta": int(change.delta),
            "changeFromQuantity": change.change_from,  # sent even when None: an explicit null skips the compare
        }
        if change.ledger_document_uri is not None:
            row["ledgerDocumentUri"] = change.ledger_document_uri
        rows.append(row)
    payload = {"name": name, "reason": reason, "referenceDocumentUri": reference_document_uri, "changes": rows}
    answer = admin.run(ADJUST_QUANTITIES, {"input": payload, "key": idempotency_key}, expected_cost=MUTATION_COST)
    result = (answer or {})["inventoryAdjustQuantities"]
    errors = result.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        if any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in errors):
            raise StaleQuantity(f"Shopify's stock changed since it was read: {detail}", FailureClass.VALIDATION)
        raise PermanentError(f"Shopify refused the stock adjustment: {detail}", FailureClass.VALIDATION)
    group = result.get("inventoryAdjustmentGroup") or {}
    return list(group.get("changes") or [])
