"""Cancellations (`orders/cancelled`, SPEC §1.4): cancel the Rackbeat order, or flag it, depending on how far it got.

Never a half state: the order's own workflow is waited for (the cancellation retries while it runs), then one of
three things happens in one step —
- it never reached Rackbeat: a "cancelled" mark in the mapping makes any later transfer of it skip;
- a draft or a booked order with nothing shipped or invoiced: Rackbeat cancels it (an unshipped shipment goes too);
- shipped or invoiced: goods or money have moved, so nothing is undone automatically; the Rackbeat order gets a
  note saying so, and the event is needs_attention for the merchant to credit or return it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.store import mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event

WorkflowStatus = Callable[[str], str | None]  # execution ARN → RUNNING / SUCCEEDED / … or None if never started


def _moved(order: dict[str, Any]) -> list[str]:
    states = [("is_shipped", "shipped"), ("is_partly_shipped", "partly shipped"), ("is_invoiced", "invoiced")]
    return [label for flag, label in states if order.get(flag)]


def cancel_stage(
    context: dict[str, Any],
    client: RackbeatClient,
    table: Any,
    workflow_status: WorkflowStatus,
    order_execution: str,
) -> dict[str, Any]:
    connection_id, order_id = context["connection_id"], context["order_id"]
    name = context.get("order_name") or order_id
    # The mark goes first: a transfer that has not looked yet will see it and skip.
    mappings.mark_cancelled_if_unmapped(table, connection_id, "order", "shopify", order_id)
    if workflow_status(order_execution) == "RUNNING":
        raise RetryableError(f"Shopify order {name} is still being transferred; cancelling it once that has finished")
    mapping = mappings.get_mapping(table, connection_id, "order", "shopify", order_id) or {}
    if not mapping.get("target_id"):
        return _finish(context, f"Shopify order {name} was cancelled before it reached Rackbeat; it will not be", table)
    number = int(mapping["target_id"])
    order = rackbeat.get_order(client, number)
    if order.get("is_cancelled"):
        return _finish(context, f"Shopify order {name} cancelled: Rackbeat order {number} is cancelled", table)
    moved = _moved(order)
    if moved:
        state = " and ".join(moved)
        note = f"Cancelled in Shopify ({name}); not cancelled here because it is already {state}."
        client.put(f"orders/{number}", {"note": note})
        raise PermanentError(
            f"Shopify order {name} was cancelled, but Rackbeat order {number} is already {state}, so it was not "
            "cancelled (a note on the order says so); credit or return it in Rackbeat",
            FailureClass.VALIDATION,
        )
    was = "booked" if order.get("is_booked") else "a draft"
    rackbeat.cancel(client, number)
    mappings.put_mapping(
        table, connection_id, "order", "shopify", order_id, str(number), **{**_details(mapping), "status": "cancelled"}
    )
    return _finish(context, f"Shopify order {name} cancelled: Rackbeat order {number} cancelled (it was {was})", table)


def _details(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in ("pk", "sk", "target_id", "synced_at")}


def _finish(context: dict[str, Any], reason: str, table: Any) -> dict[str, Any]:
    finish_event(table, context["connection_id"], context["event_sk"], EventStatus.DONE, reason)
    return {**context, "next": "done"}
