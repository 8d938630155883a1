"""Capturing an order's authorised payment when PeakWMS packs it ("order packed — capture payment",
`messages.order_packed_capture`; docs/peakwms.md "Messages to the shop").

When: on the first pack of the order, for everything the order still owes (`totalOutstandingSet`), with
`finalCapture`. Not on the last pack: a single-capture authorisation (every shop but a Plus shop's
`multiCapturable` one) takes one capture and releases the rest, so capturing a first pick order's share would
lose the rest of the money; and waiting for the last pack risks the authorisation expiring (7 days with Shopify
Payments [doc H3]) while PeakWMS holds the rest of the order for stock. Every later pack finds nothing
outstanding and captures nothing.

How much: what the order owes, in its presentment currency, never more than its authorisation still holds — an
order edited to a higher total after checkout owes more than was authorised, and is not captured at all but
needs attention (the merchant captures what is authorised, or asks the buyer for the rest, in Shopify).

Once: the caller holds the order's lease (two packs of one order never capture side by side), and
`connectors.shopify.capture` reads the transactions before it writes and adopts a CAPTURE of the authorisation
it finds (a lost answer retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from crossdock.connectors.shopify.capture import capture
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import order_gid, order_payment

OUTSTANDING = """
query OrderOutstanding($id: ID!) {
  order(id: $id) { id totalOutstandingSet { presentmentMoney { amount currencyCode } } }
}
"""


@dataclass(frozen=True)
class Captured:
    """What the capture step did: `ok` False means the merchant must look (nothing was captured then)."""

    ok: bool
    text: str


def capture_outstanding(shopify: ShopifyAdmin, order_id: str) -> Captured:
    payment = order_payment(shopify, order_id)
    currency = payment.presentment_currency
    owed = _outstanding(shopify, order_id)
    if owed <= 0:
        return Captured(True, "nothing to capture: the order is paid")
    authorisations = payment.authorizations()
    earlier = [t for t in payment.transactions if t.kind == "AUTHORIZATION" and payment.captured_for(t.id)]
    if not authorisations:
        if earlier:
            return Captured(True, f"captured already ({owed} {currency} still outstanding, for the merchant)")
        return Captured(False, f"nothing authorised to capture: {owed} {currency} outstanding and no authorisation")
    authorisation = authorisations[-1]
    holds = authorisation.unsettled if authorisation.unsettled > 0 else authorisation.amount
    if owed > holds:
        return Captured(
            False,
            f"the order owes {owed} {currency}, more than the {holds} {currency} authorised: nothing captured "
            "(capture what is authorised in Shopify, or ask the buyer for the rest)",
        )
    done = capture(shopify, order_id, authorisation.id, owed, currency, final_capture=True)
    return Captured(True, f"{done.amount} {currency} captured ({done.id.rsplit('/', 1)[-1]})")


def _outstanding(shopify: ShopifyAdmin, order_id: str) -> Decimal:
    order = (shopify.run(OUTSTANDING, {"id": order_gid(order_id)}, expected_cost=2) or {}).get("order") or {}
    money = (order.get("totalOutstandingSet") or {}).get("presentmentMoney") or {}
    try:
        return Decimal(str(money.get("amount") or "0"))
    except InvalidOperation:
        return Decimal(0)
