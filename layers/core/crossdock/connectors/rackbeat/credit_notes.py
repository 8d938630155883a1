"""Rackbeat credit notes for Shopify refunds, made idempotent by a look-up before every write.

The fact sheet has `POST /customer-invoices/{n}/create-creditnote` ("seen") and the invoice's `stock_returned`; the
body, the `/customer-credit-notes` resource and its `book` transition are guesses (marked) until checked against
the real API. A credit note carries the refund's reference in `other_reference`, so a replay — or a retry after
Rackbeat committed and the response was lost — finds it instead of making a second one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable

PLURAL = "customer_credit_notes"


def refund_reference(refund_id: int | str, order_name: str) -> str:
    return f"Shopify refund {refund_id} of {order_name}"


def find(client: RackbeatClient, reference: str) -> dict[str, Any] | None:
    return client.find_one("customer-credit-notes", PLURAL, "other_reference", reference)


def create(
    client: RackbeatClient, invoice_number: int, reference: str, lines: list[dict[str, Any]], stock_return: bool
) -> dict[str, Any]:
    """Guess: body `{lines, other_reference, heading, stock_return}` → `{"customer_credit_note": {...}}`."""
    body = {"lines": lines, "other_reference": reference, "heading": reference, "stock_return": stock_return}
    created: dict[str, Any] = client.post(f"customer-invoices/{invoice_number}/create-creditnote", body)[
        "customer_credit_note"
    ]
    return created


def book(client: RackbeatClient, credit_note: dict[str, Any]) -> None:
    """Guess: `POST /customer-credit-notes/{n}/book`; booking returns the goods to stock when `stock_return`."""
    if credit_note.get("is_booked"):
        return
    number = int(credit_note["number"])
    try:
        client.post(f"customer-credit-notes/{number}/book")
    except Unprocessable as refused:
        again = client.get(f"customer-credit-notes/{number}")["customer_credit_note"]
        if not again.get("is_booked"):
            raise refused from None


def total(credit_note: dict[str, Any]) -> Decimal:
    return Decimal(str(credit_note.get("total") or 0))
