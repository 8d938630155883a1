"""Capturing an authorised payment: `orderCapture` (reference/shopify_wms.md "Writes" → Capture).

Never twice. Whether `orderCapture` takes an `@idempotent` key is not confirmed [guess, fact sheet], so a repeated
call after a lost answer could take the money again. So every call reads the order's transactions first and
returns the successful CAPTURE of that authorisation when there is one: the retry of a call whose answer was lost
adopts what the first call did. One capture per authorisation through this path, therefore; a Plus shop's further
partial captures of the same authorisation are the merchant's.

`currency` must be the order's presentment currency (required by Shopify when it differs from the shop's): the
caller's, else the one read from the order. `amount` at most what the authorisation holds; Shopify's refusals
(too much, an expired or already-captured authorisation, a wrong currency) are `userErrors`, raised here as a
`PermanentError` naming the input field. When PeakWMS reports `paymentCaptured=true` it has captured through the
payment provider already, and the caller must not come here at all.
"""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import Transaction, order_gid, order_payment, transaction_of
from crossdock.errors import FailureClass, PermanentError, RetryableError

MUTATION_COST = 10

ORDER_CAPTURE = """
mutation CapturePayment($input: OrderCaptureInput!) {
  orderCapture(input: $input) {
    transaction {
      id kind status gateway manuallyCapturable multiCapturable authorizationExpiresAt
      amountSet { presentmentMoney { amount currencyCode } }
      totalUnsettledSet { presentmentMoney { amount currencyCode } }
      parentTransaction { id }
    }
    userErrors { field message }
  }
}
"""


def transaction_gid(transaction_id: str | int) -> str:
    text = str(transaction_id)
    return text if text.startswith("gid://") else f"gid://shopify/OrderTransaction/{text}"


def capture(
    admin: ShopifyAdmin,
    order_id: str | int,
    parent_transaction_id: str | int,
    amount: Decimal,
    currency: str | None = None,
    final_capture: bool = True,
) -> Transaction:
    """Capture `amount` of the authorisation `parent_transaction_id`; returns the CAPTURE (the existing one when the
    authorisation was captured already). A lost answer is re-read: the capture is adopted when it went through,
    else `RetryableError` for the caller's retry (which reads first again)."""
    parent = transaction_gid(parent_transaction_id)
    payment = order_payment(admin, order_id)
    existing = payment.captured_for(parent)
    if existing is not None:
        return existing
    variables = {
        "input": {
            "id": order_gid(order_id),
            "parentTransactionId": parent,
            "amount": str(amount),
            "currency": currency or payment.presentment_currency,
            "finalCapture": final_capture,
        }
    }
    try:
        answer = (admin.run(ORDER_CAPTURE, variables, expected_cost=MUTATION_COST) or {})["orderCapture"]
    except RetryableError:
        adopted = order_payment(admin, order_id).captured_for(parent)
        if adopted is not None:
            return adopted
        raise
    errors = answer.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        raise PermanentError(f"Shopify refused the capture of {parent}: {detail}", FailureClass.VALIDATION)
    return transaction_of(answer["transaction"])
