"""The transaction a PeakWMS sales order names (`transactionNumber`): the one PeakWMS may capture or refund
[doc P1: "must reference the exact capturable/refundable transaction"].

An authorised order's is its successful authorisation (the last one, should the shop have authorised again); a paid
order's is the successful sale or capture (what a refund is made against). A pending order has none, and the shop
is not asked (one read of the order's transactions otherwise). The webhook body carries no transactions, so they
are read from Shopify (`connectors.shopify.payments`); the id is the numeric one, as PeakWMS keeps every other id.
"""

from __future__ import annotations

from crossdock.connectors.peakwms.shapes import PAYMENT_AUTHORIZED, PAYMENT_CAPTURED, PAYMENT_REFUNDED
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import order_payment

AUTHORISATION_KINDS = frozenset({"AUTHORIZATION"})
MONEY_TAKEN_KINDS = frozenset({"SALE", "CAPTURE"})


def numeric_id(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]


def transaction_number(shopify: ShopifyAdmin, order_id: str, payment_status: int) -> str | None:
    """The transaction for `payment_status` (PeakWMS's 0–3), or None (pending, or the shop shows none)."""
    if payment_status == PAYMENT_AUTHORIZED:
        kinds = AUTHORISATION_KINDS
    elif payment_status in (PAYMENT_CAPTURED, PAYMENT_REFUNDED):
        kinds = MONEY_TAKEN_KINDS
    else:
        return None
    found = order_payment(shopify, order_id)
    chosen = [
        t for t in found.transactions if str(t.kind).upper() in kinds and str(t.status).upper() in ("SUCCESS", "")
    ]
    return numeric_id(chosen[-1].id) if chosen else None
