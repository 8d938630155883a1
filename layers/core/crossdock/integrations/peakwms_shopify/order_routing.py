"""Which PeakWMS warehouse ships a Shopify order, from the setting `locations` (Shopify location id → warehouse).

An empty map sends every order to PeakWMS's default warehouse, and the shop is not asked. Otherwise the order's
location is where Shopify assigned its fulfillment orders (reference/shopify_wms.md "Reads"), one read; a POS
sale's is its till's (`location_id`), no read. A location not in the map needs attention naming `locations`; so
does an order Shopify split over locations that map to different warehouses (one PeakWMS sales order has one
warehouse). An order with no fulfillment order yet is retried: Shopify makes them just after the order
(`fulfillment_orders/order_routing_complete`), and reading at once can be too early [seen H9].
"""

from __future__ import annotations

from crossdock.connectors.shopify import order_locations
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.peakwms_shopify.order_payload import WarehouseOrder

FINISHED = frozenset({"CLOSED", "CANCELLED"})


def warehouse_of(order: WarehouseOrder, locations: dict[str, str], shopify: ShopifyAdmin) -> str | None:
    """The warehouse `locations` names for the order; None (PeakWMS's default) when the map is empty."""
    if not locations:
        return None
    if order.is_pos and order.location_id is not None:
        placed = [str(order.location_id)]
    else:
        placed = _assigned_locations(order, shopify)
    unmapped = sorted({location for location in placed if location not in locations})
    if unmapped:
        raise PermanentError(
            f"Shopify order {order.name} is assigned to location {', '.join(unmapped)}, which locations does not "
            f"map to a PeakWMS warehouse (mapped: {', '.join(sorted(locations))})",
            FailureClass.UNMAPPED,
        )
    warehouses = sorted({locations[location] for location in placed})
    if len(warehouses) > 1:
        raise PermanentError(
            f"Shopify order {order.name} is split over locations {', '.join(sorted(set(placed)))}, which locations "
            f"maps to different PeakWMS warehouses ({', '.join(warehouses)}); a PeakWMS sales order ships from one",
            FailureClass.VALIDATION,
        )
    return warehouses[0]


def _assigned_locations(order: WarehouseOrder, shopify: ShopifyAdmin) -> list[str]:
    found = order_locations.assigned_locations(shopify, order.id)
    # Where something is left to ship; an order all of whose fulfillment orders are finished keeps where it was.
    open_ones = [fo for fo in found if fo.status not in FINISHED]
    placed = [fo.location_id for fo in open_ones or found if fo.location_id]
    if not placed:
        raise RetryableError(
            f"Shopify has not assigned order {order.name} to a location yet (no fulfillment order)", retry_after=30.0
        )
    return placed
