"""Fulfilling a Shopify order with tracking: its fulfillment orders, and `fulfillmentCreate` with `trackingInfo`
(reference/shopify_wms.md, "Reads", "Writes" and "Idempotency handles").

Shopify fulfils fulfillment orders, not orders: each order has one or more, one per location that fulfils it. A
fulfilment names them, with the lines and quantities to fulfil; an empty line list fulfils everything left on that
fulfillment order, which is what a carrier's shipment of the whole order means. All fulfillment orders of one call
must share one location, so an order split over locations takes one call per location.

`fulfillmentCreate` takes no idempotency key, so a retry after a lost answer must look first: a fulfillment order
that is CLOSED has nothing left and is never fulfilled again, and a fulfilment that already carries the tracking
number shows the earlier call went through. Shopify refuses what is wrong with the merchant's data (a closed
fulfillment order, a quantity above what is left) with `userErrors` in a 200 answer, which is read before the
mutation is taken as done. Needs the `write_merchant_managed_fulfillment_orders` (or `write_orders`) scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

# Fulfillment orders that can be fulfilled now; ON_HOLD, SCHEDULED and INCOMPLETE wait for the merchant (a hold
# released, a date reached), CLOSED and CANCELLED have nothing left.
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
FINISHED = frozenset({"CLOSED", "CANCELLED"})
# An order has a fulfillment order per location (a handful); a fulfilment carries a few tracking numbers.
MAX_FULFILLMENT_ORDERS = 20
MAX_FULFILLMENTS = 30
MUTATION_COST = 10
# Requested cost of FULFILLMENT_ORDERS (the order, 20 fulfillment orders with their location, 30 fulfilments with
# up to 5 tracking rows each): the client waits until the shop's bucket holds this much.
FULFILLMENT_ORDERS_COST = 2 + MAX_FULFILLMENT_ORDERS * 3 + MAX_FULFILLMENTS * 6

FULFILLMENT_ORDERS = f"""
query FulfillmentOrders($id: ID!) {{
  order(id: $id) {{
    id
    name
    fulfillmentOrders(first: {MAX_FULFILLMENT_ORDERS}) {{
      nodes {{ id status assignedLocation {{ location {{ id }} }} }}
    }}
    fulfillments(first: {MAX_FULFILLMENTS}) {{ id trackingInfo(first: 5) {{ company number url }} }}
  }}
}}
"""

FULFILLMENT_CREATE = """
mutation FulfilWithTracking($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id name status }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class FulfillmentOrder:
    id: str
    status: str
    location_id: str | None

    @property
    def fulfillable(self) -> bool:
        return self.status in FULFILLABLE


@dataclass(frozen=True)
class Tracking:
    """A shipment's carrier and tracking numbers, as Shopify's `FulfillmentTrackingInput` takes them."""

    company: str | None
    numbers: tuple[str, ...]
    urls: tuple[str, ...] = ()

    def as_input(self) -> dict[str, Any]:
        tracking: dict[str, Any] = {"numbers": list(self.numbers)}
        if self.company:
            tracking["company"] = self.company
        if self.urls:
            tracking["urls"] = list(self.urls)
        return tracking


@dataclass(frozen=True)
class OrderFulfillment:
    """What an order's fulfilment stands at: its name, its fulfillment orders and every tracking number already on
    one of its fulfillments."""

    order_id: str
    name: str
    fulfillment_orders: tuple[FulfillmentOrder, ...]
    tracking_numbers: frozenset[str]

    def fulfillable(self) -> list[FulfillmentOrder]:
        return [fo for fo in self.fulfillment_orders if fo.fulfillable]

    def waiting(self) -> list[FulfillmentOrder]:
        """Fulfillment orders with something left that Shopify will not fulfil now (on hold, scheduled …)."""
        return [fo for fo in self.fulfillment_orders if fo.status not in FULFILLABLE | FINISHED]


def order_gid(order_id: str | int) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def fulfillment_orders(shopify: ShopifyAdmin, order_id: str | int) -> OrderFulfillment:
    """The order's fulfillment orders and the tracking numbers of its fulfillments; `PermanentError` when the shop
    has no such order (deleted, or not this shop's)."""
    gid = order_gid(order_id)
    order = shopify.run(FULFILLMENT_ORDERS, {"id": gid}, expected_cost=FULFILLMENT_ORDERS_COST)["order"]
    if order is None:
        raise PermanentError(f"{shopify.shop_domain} has no order {gid}", FailureClass.VALIDATION)
    orders = tuple(
        FulfillmentOrder(
            str(node["id"]),
            str(node["status"]),
            ((node.get("assignedLocation") or {}).get("location") or {}).get("id"),
        )
        for node in order["fulfillmentOrders"]["nodes"]
    )
    numbers = frozenset(
        str(row["number"])
        for fulfillment in order.get("fulfillments") or []
        for row in fulfillment.get("trackingInfo") or []
        if row.get("number")
    )
    return OrderFulfillment(str(order["id"]), str(order.get("name") or gid), orders, numbers)


def create_fulfillment(
    shopify: ShopifyAdmin, fulfillment_orders: list[FulfillmentOrder], tracking: Tracking, notify: bool
) -> list[str]:
    """Fulfils everything left on `fulfillment_orders` with the tracking, one call per location; returns the new
    fulfillments' ids. `PermanentError` with Shopify's user errors when it refuses (then nothing of that call was
    fulfilled; calls for other locations before it stay done, and a retry finds those fulfillment orders closed)."""
    by_location: dict[str | None, list[FulfillmentOrder]] = {}
    for fulfillment_order in fulfillment_orders:
        by_location.setdefault(fulfillment_order.location_id, []).append(fulfillment_order)
    created = []
    for group in by_location.values():
        variables = {
            "fulfillment": {
                "notifyCustomer": notify,
                "trackingInfo": tracking.as_input(),
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo.id} for fo in group],
            }
        }
        answer = shopify.run(FULFILLMENT_CREATE, variables, expected_cost=MUTATION_COST)["fulfillmentCreate"]
        errors = answer.get("userErrors") or []
        if errors:
            detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
            raise PermanentError(
                f"Shopify refused the fulfilment of {', '.join(fo.id for fo in group)}: {detail}",
                FailureClass.VALIDATION,
            )
        created.append(str(answer["fulfillment"]["id"]))
    return created
