"""Refunding through the Admin API: `refundCreate` with its mandatory idempotency key (reference/shopify_wms.md
"Writes" → Refund, "Idempotency keys").

From API version 2026-04 `refundCreate` fails at runtime without `@idempotent(key:)`, and a replayed key answers
the first result [doc H5]; so a retry after a lost answer is safe as long as the caller passes the same key,
derived from its own command (e.g. `peak:104:{orderId}:{hash of the refund}`), never a fresh random one.

Lines: `restock_type` RETURN (fulfilled units back to stock at `location_id`), CANCEL (unfulfilled units taken off
the order) or NO_RESTOCK (money only; no `location_id` then) [doc H7]. Money: each transaction refunds part of a
SALE or CAPTURE (`parent_id`), through its gateway. Partial and repeated refunds are allowed [doc H7]. Shopify's
refusals (too many units, an amount above what is left, a wrong parent) are `userErrors`, raised as a
`PermanentError` naming the input field.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import order_gid
from crossdock.errors import FailureClass, PermanentError

MUTATION_COST = 10
RESTOCK_TYPES = frozenset({"RETURN", "CANCEL", "NO_RESTOCK"})  # LEGACY_RESTOCK is refused by Shopify [doc H7]

REFUND_CREATE = """
mutation CreateRefund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id totalRefundedSet { presentmentMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""


class RefundLine(NamedTuple):
    line_item_id: str | int
    quantity: int
    restock_type: str = "NO_RESTOCK"
    location_id: str | int | None = None


class RefundMoney(NamedTuple):
    parent_id: str | int  # the SALE or CAPTURE transaction refunded
    amount: Decimal
    gateway: str


def _gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def create_refund(
    admin: ShopifyAdmin,
    order_id: str | int,
    lines: Iterable[RefundLine | tuple[Any, ...]],
    transactions: Iterable[RefundMoney | tuple[Any, ...]],
    idempotency_key: str,
    notify: bool = False,
    note: str | None = None,
) -> str:
    """Create one refund of these lines and this money; returns the refund's GID (the first one's, when the key was
    used before). `ValueError` for input Shopify would refuse anyway (no key, a restock type it refuses)."""
    if not idempotency_key.strip():
        raise ValueError("refundCreate needs an idempotency key derived from the caller's command")
    order = order_gid(order_id)
    refund_lines = [_line(RefundLine(*line)) for line in lines]
    money = [
        {
            "orderId": order,
            "parentId": _gid("OrderTransaction", t.parent_id),
            "amount": str(t.amount),
            "gateway": t.gateway,
            "kind": "REFUND",
        }
        for t in (RefundMoney(*row) for row in transactions)
    ]
    refund: dict[str, Any] = {
        "orderId": order,
        "notify": notify,
        "refundLineItems": refund_lines,
        "transactions": money,
    }
    if note:
        refund["note"] = note
    answer = admin.run(REFUND_CREATE, {"input": refund, "key": idempotency_key}, expected_cost=MUTATION_COST)
    payload = (answer or {})["refundCreate"]
    errors = payload.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        raise PermanentError(f"Shopify refused the refund of {order}: {detail}", FailureClass.VALIDATION)
    return str(payload["refund"]["id"])


def _line(line: RefundLine) -> dict[str, Any]:
    restock = line.restock_type.upper()
    if restock not in RESTOCK_TYPES:
        raise ValueError(f"restock_type must be one of {sorted(RESTOCK_TYPES)}, got {line.restock_type!r}")
    row: dict[str, Any] = {
        "lineItemId": _gid("LineItem", line.line_item_id),
        "quantity": int(line.quantity),
        "restockType": restock,
    }
    if restock != "NO_RESTOCK" and line.location_id is not None:
        row["locationId"] = _gid("Location", line.location_id)
    return row
