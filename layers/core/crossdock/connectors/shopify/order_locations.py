"""Where Shopify assigned an order: the locations of its fulfillment orders (reference/shopify_wms.md "Reads"),
and nothing else, so the read costs a few points (a warehouse link asks it of every new order; the fulfilment's
own read, `fulfillments.fulfillment_orders`, carries lines and tracking and costs far more)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

MAX_FULFILLMENT_ORDERS: Final = 20  # one per location that fulfils the order: a handful
COST: Final = 2 + MAX_FULFILLMENT_ORDERS * 3
LOCATION_GID: Final = "gid://shopify/Location/"

ORDER_LOCATIONS: Final = f"""
query OrderLocations($id: ID!) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: {MAX_FULFILLMENT_ORDERS}) {{
      nodes {{ id status assignedLocation {{ location {{ id }} }} }}
    }}
  }}
}}
"""


@dataclass(frozen=True)
class AssignedLocation:
    fulfillment_order_id: str
    status: str  # OPEN, IN_PROGRESS, SCHEDULED, ON_HOLD, INCOMPLETE, CLOSED, CANCELLED
    location_id: str | None  # numeric


def assigned_locations(shopify: ShopifyAdmin, order_id: str | int) -> list[AssignedLocation]:
    """The order's fulfillment orders with their location (empty: Shopify has not routed it yet);
    `PermanentError` when the shop has no such order."""
    text = str(order_id)
    gid = text if text.startswith("gid://") else f"gid://shopify/Order/{text}"
    order = shopify.run(ORDER_LOCATIONS, {"id": gid}, expected_cost=COST)["order"]
    if order is None:
        raise PermanentError(f"{shopify.shop_domain} has no order {gid}", FailureClass.VALIDATION)
    found = []
    for node in order["fulfillmentOrders"]["nodes"]:
        location = ((node.get("assignedLocation") or {}).get("location") or {}).get("id")
        numeric = str(location).removeprefix(LOCATION_GID) if location else None
        found.append(AssignedLocation(str(node["id"]), str(node["status"]), numeric))
    return found
