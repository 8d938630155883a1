"""A basket Shopbox cancelled after the sale (`canceled: true` with a new `tstamp`): its Rackbeat order is cancelled
while that undoes it, or credited once it is invoiced (SPEC §1.4's rules for Shopify cancellations and refunds).

Never a half state: the basket's own workflow is waited for (the cancellation retries while it runs), then one of
four things happens in one stage —
- it never reached Rackbeat: a "cancelled" mark in the mapping makes any later transfer of it skip;
- a draft or a booked order with nothing shipped or invoiced: Rackbeat cancels it;
- invoiced: a credit note for the whole order is made from the invoice and booked (the goods go back to stock when
  the order's shipment drew them); it carries the basket's reference, so a replay finds it instead of a second;
- shipped but not invoiced: there is no invoice to credit and the goods have moved, so nothing is undone
  automatically; the order gets a note saying so and the event needs attention.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat import credit_notes
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.ports import WorkflowStatus
from crossdock.store import mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event

SYSTEM = "shopbox"
CREDIT_LINE_FIELDS = ("item_id", "name", "quantity", "line_price", "discount_percentage", "vat_percentage")


def credit_reference(basket_uid: str, order_number: int) -> str:
    return f"Shopbox basket {basket_uid} cancelled (order {order_number})"


def cancel_stage(
    context: dict[str, Any],
    client: RackbeatClient,
    table: Any,
    workflow_status: WorkflowStatus,
    order_execution: str,
) -> dict[str, Any]:
    connection_id, uid = context["connection_id"], str(context["order_id"])
    # The mark goes first: a transfer that has not looked yet will see it and skip.
    mappings.mark_cancelled_if_unmapped(table, connection_id, "order", SYSTEM, uid)
    if workflow_status(order_execution) == "RUNNING":
        raise RetryableError(f"Shopbox basket {uid} is still being transferred; cancelling it once that has finished")
    mapping = mappings.get_mapping(table, connection_id, "order", SYSTEM, uid) or {}
    if not mapping.get("target_id"):
        return _finish(context, f"Shopbox basket {uid} was cancelled before it reached Rackbeat; it will not", table)
    number = int(mapping["target_id"])
    order = rackbeat.get_order(client, number)
    if order.get("is_cancelled"):
        _mark(table, connection_id, uid, mapping, "cancelled")
        return _finish(context, f"Shopbox basket {uid} cancelled: Rackbeat order {number} is cancelled", table)
    if order.get("is_invoiced"):
        note = _credit(client, uid, number, order, mapping)
        _mark(table, connection_id, uid, mapping, "credited", credit_note=str(note["number"]))
        return _finish(
            context,
            f"Shopbox basket {uid} cancelled: Rackbeat order {number} credited (credit note {note['number']})",
            table,
        )
    if order.get("is_shipped") or order.get("is_partly_shipped"):
        client.put(f"orders/{number}", {"note": f"Cancelled in Shopbox (basket {uid}); shipped, not invoiced."})
        raise PermanentError(
            f"Shopbox basket {uid} was cancelled, but Rackbeat order {number} is shipped and not invoiced, so it was "
            "neither cancelled nor credited (a note on the order says so); return the goods in Rackbeat",
            FailureClass.VALIDATION,
        )
    was = "booked" if order.get("is_booked") else "a draft"
    rackbeat.cancel(client, number)
    _mark(table, connection_id, uid, mapping, "cancelled")
    return _finish(context, f"Shopbox basket {uid} cancelled: Rackbeat order {number} cancelled (it was {was})", table)


def _credit(
    client: RackbeatClient, uid: str, number: int, order: dict[str, Any], mapping: dict[str, Any]
) -> dict[str, Any]:
    """The booked credit note of the whole order, found again by its reference before one is made."""
    reference = credit_reference(uid, number)
    note = credit_notes.find(client, reference)
    if note is None:
        invoice = mapping.get("rackbeat_invoice")
        if not invoice:
            found = rackbeat.find_invoice(client, number)
            if found is None:
                raise RetryableError(f"Rackbeat order {number} is invoiced but its invoice is not listed yet")
            invoice = found["number"]
        lines = [
            {key: line[key] for key in CREDIT_LINE_FIELDS if line.get(key) is not None}
            for line in order.get("lines") or []
            if float(line.get("quantity") or 0) > 0
        ]
        note = credit_notes.create(client, int(invoice), reference, lines, stock_return=bool(order.get("is_shipped")))
    credit_notes.book(client, note)
    return note


def _mark(table: Any, connection_id: str, uid: str, mapping: dict[str, Any], status: str, **more: str) -> None:
    replaced = {"pk", "sk", "target_id", "synced_at", "status", *more}
    kept = {k: v for k, v in mapping.items() if k not in replaced}
    mappings.put_mapping(
        table, connection_id, "order", SYSTEM, uid, str(mapping["target_id"]), **kept, status=status, **more
    )


def _finish(context: dict[str, Any], reason: str, table: Any) -> dict[str, Any]:
    finish_event(table, context["connection_id"], context["event_sk"], EventStatus.DONE, reason)
    return {**context, "next": "done"}
