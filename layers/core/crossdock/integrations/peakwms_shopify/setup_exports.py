"""A setup step's Shopify bulk export, started once and followed inside a chunk (`bulk_export`): what the
catalogue, customs and history steps share.

The operation's id is kept in the step's state as soon as Shopify accepted it, so a chunk re-run after a crash
follows the same export instead of starting a second. A chunk waits on the pacing clock (the stack's virtual one
locally) for at most `WAIT_SECONDS`, asking every `POLL_SECONDS` (a call costing 1 point), then hands back to the
runner, which runs the next chunk.
"""

from __future__ import annotations

from typing import Any

from crossdock import pacing
from crossdock.connectors.shopify import bulk_export
from crossdock.connectors.shopify.bulk_export import BulkOperation
from crossdock.connectors.shopify.graphql import ShopifyAdmin

WAIT_SECONDS = 50.0
POLL_SECONDS = 5.0


def follow_export(
    shopify: ShopifyAdmin, state: dict[str, Any], query: str, what: str
) -> tuple[dict[str, Any], BulkOperation | None]:
    """The state with the export's id, and the finished export (None while Shopify still runs it); an export that
    failed is a `PermanentError` naming `what`."""
    operation_id = state.get("operation")
    if not operation_id:
        operation_id = bulk_export.start(shopify, query)
        state = {**state, "operation": operation_id}
    operation = bulk_export.status(shopify, operation_id)
    waited = 0.0
    while operation.running and waited < WAIT_SECONDS:
        pacing.clock.sleep(POLL_SECONDS)
        waited += POLL_SECONDS
        operation = bulk_export.status(shopify, operation_id)
    if operation.running:
        return state, None
    return state, bulk_export.finished(operation, what)
