"""Reading orders and refunds through the Admin GraphQL API: for the reconciliation sweep and for re-driving one order.

Webhooks bring orders to Crossdock; these queries find the ones webhooks missed. `orders_updated` lists the orders
updated in a window, oldest update first, with only what the sweep needs to decide (status, refund state);
`fetch_order` and `fetch_refund` then read one order or refund whole and hand it over in the webhook's REST shape
(`order_rest`), so the rest of Crossdock handles it exactly like a delivered webhook.

Costs: Shopify refuses a single query above 1,000 points and charges about 1 per object plus `first` × the node's
cost for a connection. Page sizes are chosen to stay well under that (about 700 points for an order with 50 lines);
longer orders and refunds are read in further pages. Shopify's orders search only covers the last 60 days without
the `read_all_orders` scope; the sweep's window is minutes to hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from crossdock.connectors.shopify import order_rest
from crossdock.connectors.shopify.graphql import ShopifyAdmin

SUMMARY_PAGE: Final = 100
LINE_PAGE: Final = 50
REFUND_LINE_PAGE: Final = 50
REFUNDS_PER_ORDER: Final = 50  # Shopify's `Order.refunds(first:)`; no order is refunded this often
# What the client waits for in the shop's cost bucket before each call (the requested cost, roughly).
SUMMARY_COST: Final = 2 + SUMMARY_PAGE
ORDER_COST: Final = 760
REFUND_COST: Final = 820
REFUND_LIST_COST: Final = 2 + REFUNDS_PER_ORDER

_MONEY = "{ shopMoney { amount } }"
_MONEY_WITH_CURRENCY = "{ shopMoney { amount currencyCode } }"
_TAX_LINES = f"taxLines {{ title rate priceSet {_MONEY} }}"
_ADDRESS = (
    "{ firstName lastName name company address1 address2 city zip province provinceCode country countryCodeV2 phone }"
)
# What `order_rest.line_item` reads; a refund's lines need no discounts (the refund carries its own subtotal).
_REFUND_LINE_ITEM = (
    f"id sku title quantity isGiftCard originalUnitPriceSet {_MONEY} {_TAX_LINES} "
    "variant { legacyResourceId } product { id }"
)
_LINE_ITEM = f"{_REFUND_LINE_ITEM} totalDiscountSet {_MONEY} discountAllocations {{ allocatedAmountSet {_MONEY} }}"
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"

ORDERS_UPDATED: Final = f"""
query OrdersUpdated($query: String!, $first: Int!, $after: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      id
      legacyResourceId
      name
      updatedAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
    }}
    {_PAGE_INFO}
  }}
}}
"""

ORDER: Final = f"""
query Order($id: ID!, $lines: Int!) {{
  order(id: $id) {{
    id
    legacyResourceId
    name
    number
    email
    phone
    currencyCode
    taxesIncluded
    displayFinancialStatus
    displayFulfillmentStatus
    cancelledAt
    createdAt
    updatedAt
    processedAt
    sourceName
    subtotalPriceSet {_MONEY}
    totalDiscountsSet {_MONEY}
    totalTaxSet {_MONEY}
    totalPriceSet {_MONEY}
    customer {{ legacyResourceId email firstName lastName phone }}
    billingAddress {_ADDRESS}
    shippingAddress {_ADDRESS}
    lineItems(first: $lines) {{ nodes {{ {_LINE_ITEM} }} {_PAGE_INFO} }}
    shippingLines(first: 10) {{
      nodes {{ id title code originalPriceSet {_MONEY} discountedPriceSet {_MONEY} {_TAX_LINES} }}
    }}
  }}
}}
"""

ORDER_LINE_ITEMS: Final = f"""
query OrderLineItems($id: ID!, $lines: Int!, $after: String!) {{
  order(id: $id) {{
    lineItems(first: $lines, after: $after) {{ nodes {{ {_LINE_ITEM} }} {_PAGE_INFO} }}
  }}
}}
"""

ORDER_REFUNDS: Final = f"""
query OrderRefunds($id: ID!) {{
  order(id: $id) {{
    refunds(first: {REFUNDS_PER_ORDER}) {{ id legacyResourceId createdAt }}
  }}
}}
"""

_REFUND_LINE = (
    "id quantity restockType location { legacyResourceId } "
    f"subtotalSet {_MONEY} totalTaxSet {_MONEY} lineItem {{ {_REFUND_LINE_ITEM} }}"
)

REFUND: Final = f"""
query Refund($id: ID!, $lines: Int!) {{
  refund(id: $id) {{
    id
    legacyResourceId
    note
    createdAt
    refundLineItems(first: $lines) {{ nodes {{ {_REFUND_LINE} }} {_PAGE_INFO} }}
    refundShippingLines(first: 5) {{
      nodes {{ id shippingLine {{ id }} subtotalAmountSet {_MONEY_WITH_CURRENCY} taxAmountSet {_MONEY_WITH_CURRENCY} }}
    }}
    transactions(first: 10) {{ nodes {{ id kind status gateway amountSet {_MONEY} }} }}
    orderAdjustments(first: 5) {{ nodes {{ id amountSet {_MONEY} taxAmountSet {_MONEY} }} }}
  }}
}}
"""

REFUND_LINE_ITEMS: Final = f"""
query RefundLineItems($id: ID!, $lines: Int!, $after: String!) {{
  refund(id: $id) {{
    refundLineItems(first: $lines, after: $after) {{ nodes {{ {_REFUND_LINE} }} {_PAGE_INFO} }}
  }}
}}
"""

# The financial states an order is left in by a refund that returned money.
REFUNDED_STATES: Final = frozenset({"partially_refunded", "refunded"})


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def refund_gid(refund_id: str) -> str:
    return refund_id if refund_id.startswith("gid://") else f"gid://shopify/Refund/{refund_id}"


def search_time(moment: float) -> str:
    """A search value for `updated_at`, to the second (Shopify's timestamps have no finer grain)."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class OrderSummary:
    """What the sweep decides on, without reading the whole order."""

    order_id: str  # numeric
    name: str
    updated_at: str  # ISO 8601, UTC
    financial_status: str | None  # REST spelling: "paid", "partially_refunded", …
    fulfillment_status: str | None  # REST spelling: None, "partial", "fulfilled"
    cancelled: bool

    @property
    def refunded(self) -> bool:
        return self.financial_status in REFUNDED_STATES


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderSummary]
    next_cursor: str | None  # None: this was the last page


def orders_updated(admin: ShopifyAdmin, since: float, until: float, after: str | None = None) -> OrderPage:
    """One page of the orders updated in [since, until), oldest update first; pass `next_cursor` for the next."""
    window = f"updated_at:>='{search_time(since)}' AND updated_at:<'{search_time(until)}'"
    variables = {"query": window, "first": SUMMARY_PAGE, "after": after}
    page = admin.run(ORDERS_UPDATED, variables, expected_cost=SUMMARY_COST)["orders"]
    orders = [
        OrderSummary(
            order_id=str(node["legacyResourceId"]),
            name=str(node.get("name") or node["legacyResourceId"]),
            updated_at=str(node["updatedAt"]),
            financial_status=order_rest.financial_status(node.get("displayFinancialStatus")),
            fulfillment_status=order_rest.fulfillment_status(node.get("displayFulfillmentStatus")),
            cancelled=node.get("cancelledAt") is not None,
        )
        for node in page["nodes"]
    ]
    info = page["pageInfo"]
    return OrderPage(orders, info["endCursor"] if info["hasNextPage"] else None)


def fetch_order(admin: ShopifyAdmin, order_id: str) -> dict[str, Any] | None:
    """The order in the REST shape of its webhooks (`orders.parse_order` reads it), or None when the shop has no
    such order. `order_id` is the numeric id (a GID is accepted too)."""
    gid = order_gid(order_id)
    node = admin.run(ORDER, {"id": gid, "lines": LINE_PAGE}, expected_cost=ORDER_COST)["order"]
    if node is None:
        return None
    lines = node["lineItems"]["nodes"]
    cursor = _next(node["lineItems"])
    while cursor is not None:
        variables = {"id": gid, "lines": LINE_PAGE, "after": cursor}
        more = admin.run(ORDER_LINE_ITEMS, variables, expected_cost=ORDER_COST)["order"]["lineItems"]
        lines.extend(more["nodes"])
        cursor = _next(more)
    return order_rest.rest_order(node, lines)


@dataclass(frozen=True)
class RefundSummary:
    refund_id: str  # numeric
    created_at: str  # ISO 8601, UTC


def order_refunds(admin: ShopifyAdmin, order_id: str) -> list[RefundSummary]:
    """The order's refunds, oldest first (ids and dates only)."""
    node = admin.run(ORDER_REFUNDS, {"id": order_gid(order_id)}, expected_cost=REFUND_LIST_COST)["order"]
    if node is None:
        return []
    return [RefundSummary(str(refund["legacyResourceId"]), str(refund["createdAt"])) for refund in node["refunds"]]


def fetch_refund(admin: ShopifyAdmin, order_id: str, refund_id: str) -> dict[str, Any] | None:
    """The refund in the shape of the `refunds/create` webhook (`refunds.parse_refund` reads it), or None."""
    gid = refund_gid(refund_id)
    node = admin.run(REFUND, {"id": gid, "lines": REFUND_LINE_PAGE}, expected_cost=REFUND_COST)["refund"]
    if node is None:
        return None
    lines = node["refundLineItems"]["nodes"]
    cursor = _next(node["refundLineItems"])
    while cursor is not None:
        variables = {"id": gid, "lines": REFUND_LINE_PAGE, "after": cursor}
        more = admin.run(REFUND_LINE_ITEMS, variables, expected_cost=REFUND_COST)["refund"]["refundLineItems"]
        lines.extend(more["nodes"])
        cursor = _next(more)
    return order_rest.rest_refund(node, order_id, lines)


def _next(connection: dict[str, Any]) -> str | None:
    info = connection.get("pageInfo") or {}
    return str(info["endCursor"]) if info.get("hasNextPage") and info.get("endCursor") else None
