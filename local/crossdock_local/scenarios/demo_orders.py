"""The demo's after-sales part (issue #4): refunds of paid orders become booked credit notes, and cancelled unpaid
orders never reach Rackbeat. Audited against the simulators' own state."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock.store import events
from crossdock_local.stack import LocalConnection, LocalStack


@dataclass
class AfterSalesAudit:
    refunds: int = 0
    credit_notes: int = 0
    problems: list[str] = field(default_factory=list)
    cancelled: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.credit_notes == self.refunds


def _refunded(refund: dict[str, Any]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund"), Decimal(0))


def refund_and_cancel(stack: LocalStack, connection: LocalConnection, seed: int, share: float = 0.1) -> AfterSalesAudit:
    """Refunds about `share` of the paid orders (half fully with shipping, half one unit of one line, some delivered
    twice) and cancels about `share` of the unpaid ones; then settles and audits."""
    rng = random.Random(seed)
    orders = list(stack.shopify.shop(connection.shop_domain).orders.values())
    result = AfterSalesAudit()
    refunds: list[dict[str, Any]] = []
    for order in orders:
        lines = [line for line in order["line_items"] if line.get("sku")]
        if order.get("financial_status") == "paid" and lines and rng.random() < share:
            if rng.random() < 0.5:
                picked = [(line["id"], line["quantity"]) for line in lines]
                refund = stack.shopify.refund(
                    connection.shop_domain, order["id"], picked, shipping=True, duplicate=rng.random() < 0.3
                )
            else:
                refund = stack.shopify.refund(connection.shop_domain, order["id"], [(lines[0]["id"], 1)])
            refunds.append(refund)
        elif order.get("financial_status") != "paid" and rng.random() < share:
            stack.shopify.cancel(connection.shop_domain, order["id"])
            result.cancelled += 1
    stack.settle()
    _audit(stack, connection, refunds, result)
    return result


def _audit(
    stack: LocalStack, connection: LocalConnection, refunds: list[dict[str, Any]], result: AfterSalesAudit
) -> None:
    notes = stack.rackbeat.credit_notes(connection.rackbeat_account_id)
    result.refunds, result.credit_notes = len(refunds), len(notes)
    for refund in refunds:
        found = [n for n in notes if f"Shopify refund {refund['id']} " in str(n.get("other_reference"))]
        if len(found) != 1:
            result.problems.append(f"refund {refund['id']}: {len(found)} credit notes")
        elif not found[0]["is_booked"] or Decimal(str(found[0]["total"])) != _refunded(refund):
            result.problems.append(f"refund {refund['id']}: credit note {found[0]['number']} unbooked or wrong total")
    for event in events.list_events(stack.table, connection.connection_id):
        if event["topic"] == "orders/cancelled" and event["status"] != "done":
            result.problems.append(f"cancellation: {event['status']} {event.get('reason')}")


def render(result: AfterSalesAudit) -> list[tuple[str, str]]:
    return [
        ("refunds / credit notes (booked, equal totals)", f"{result.refunds} / {result.credit_notes}"),
        ("unpaid orders cancelled (none transferred)", str(result.cancelled)),
        ("after-sales problems", str(len(result.problems))),
    ]
