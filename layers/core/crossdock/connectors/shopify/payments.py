"""An order's payment as Shopify keeps it: its transactions and what is left to capture (reference/shopify_wms.md
"Reads", "Writes" → Capture).

A shop that captures when the warehouse packs (PeakWMS "order packed — capture payment") has orders whose payment
was only authorised at checkout: an AUTHORIZATION transaction, captured later by a CAPTURE whose parent it is.
Amounts are read in the order's presentment currency, the one `orderCapture` takes. `authorizationExpiresAt` and
`multiCapturable` exist only with Shopify Payments / Plus [doc H3], so a missing one reads as None / False.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

MAX_TRANSACTIONS = 50  # an order has a handful: authorisation, captures, refunds
ORDER_PAYMENT_COST = 2 + MAX_TRANSACTIONS

ORDER_PAYMENT = f"""
query OrderPayment($id: ID!) {{
  order(id: $id) {{
    id
    currencyCode
    presentmentCurrencyCode
    displayFinancialStatus
    totalCapturableSet {{ presentmentMoney {{ amount currencyCode }} }}
    transactions(first: {MAX_TRANSACTIONS}) {{
      id kind status gateway manuallyCapturable multiCapturable authorizationExpiresAt
      amountSet {{ presentmentMoney {{ amount currencyCode }} }}
      totalUnsettledSet {{ presentmentMoney {{ amount currencyCode }} }}
      parentTransaction {{ id }}
    }}
  }}
}}
"""


@dataclass(frozen=True)
class Transaction:
    """One `OrderTransaction`: kind (AUTHORIZATION, CAPTURE, SALE, REFUND, VOID …), status (SUCCESS …), the amount
    in presentment currency and the parent's GID (a capture's or refund's authorisation or sale)."""

    id: str
    kind: str
    status: str
    amount: Decimal
    parent_id: str | None
    gateway: str | None
    manually_capturable: bool
    multi_capturable: bool
    unsettled: Decimal = Decimal("0")  # what an authorisation still holds (`totalUnsettledSet`)
    authorization_expires_at: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"


@dataclass(frozen=True)
class OrderPayment:
    order_id: str
    currency: str  # the shop's
    presentment_currency: str  # the buyer's, which captures are made in
    financial_status: str
    transactions: tuple[Transaction, ...]
    capturable: Decimal

    def captured_for(self, parent_id: str) -> Transaction | None:
        """The successful CAPTURE of the authorisation `parent_id`, the latest if several; None when there is none."""
        found = [t for t in self.transactions if t.kind == "CAPTURE" and t.succeeded and t.parent_id == parent_id]
        return found[-1] if found else None

    def authorizations(self) -> list[Transaction]:
        """Successful authorisations that can still be captured now, oldest first."""
        return [t for t in self.transactions if t.kind == "AUTHORIZATION" and t.succeeded and t.manually_capturable]

    @property
    def paid(self) -> Decimal:
        """What was taken: successful sales and captures, in presentment currency."""
        return sum((t.amount for t in self.transactions if t.kind in ("SALE", "CAPTURE") and t.succeeded), Decimal(0))


def order_gid(order_id: str | int) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def order_payment(admin: ShopifyAdmin, order_id: str | int) -> OrderPayment:
    """The order's transactions and capturable amount; `PermanentError` when the shop has no such order."""
    gid = order_gid(order_id)
    order = (admin.run(ORDER_PAYMENT, {"id": gid}, expected_cost=ORDER_PAYMENT_COST) or {}).get("order")
    if order is None:
        raise PermanentError(f"{admin.shop_domain} has no order {gid}", FailureClass.VALIDATION)
    currency = str(order.get("currencyCode") or "")
    return OrderPayment(
        order_id=str(order["id"]),
        currency=currency,
        presentment_currency=str(order.get("presentmentCurrencyCode") or currency),
        financial_status=str(order.get("displayFinancialStatus") or ""),
        transactions=tuple(transaction_of(node) for node in order.get("transactions") or []),
        capturable=_presentment(order.get("totalCapturableSet")),
    )


def transaction_of(node: dict[str, Any]) -> Transaction:
    """An `OrderTransaction` node read leniently (fields only some gateways answer may be missing or null)."""
    parent = node.get("parentTransaction") or {}
    return Transaction(
        id=str(node["id"]),
        kind=str(node.get("kind") or ""),
        status=str(node.get("status") or ""),
        amount=_presentment(node.get("amountSet")),
        parent_id=str(parent["id"]) if parent.get("id") else None,
        gateway=node.get("gateway"),
        manually_capturable=bool(node.get("manuallyCapturable")),
        multi_capturable=bool(node.get("multiCapturable")),
        unsettled=_presentment(node.get("totalUnsettledSet")),
        authorization_expires_at=node.get("authorizationExpiresAt"),
    )


def _presentment(bag: Any) -> Decimal:
    amount = ((bag or {}).get("presentmentMoney") or {}).get("amount") if isinstance(bag, dict) else None
    try:
        return Decimal(str(amount)) if amount is not None else Decimal("0")
    except InvalidOperation:
        return Decimal("0")
