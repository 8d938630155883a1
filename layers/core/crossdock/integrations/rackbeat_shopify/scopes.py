"""The Shopify access scopes a `rackbeat_shopify` connection asks for at install: what its settings need."""

from __future__ import annotations

from crossdock.connectors.shopify import oauth
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings


def required_scopes(settings: RackbeatShopifySettings) -> frozenset[str]:
    """The access scopes the connection's settings need: the webhook topics they subscribe to (`activation`) and
    the GraphQL documents they make Crossdock send (`queries.py`). Asking for more than the settings use would make
    merchants grant access the app never needs; a write scope covers its read scope, so only the write one is asked
    for."""
    wanted = {"read_orders"}  # orders/* and refunds/create webhooks, always (SPEC §1.4)
    if settings.product_sync.master == "rackbeat":
        # productSet/productUpdate/productVariantsBulkUpdate; cost and first stock on the inventory item at the
        # primary location; publishablePublish/Unpublish to the Online Store (online_availability)
        wanted |= {"write_products", "write_inventory", "read_locations", "write_publications"}
    if settings.product_sync.master == "shopify":
        # products/* webhooks; the weight lives on the inventory item
        wanted |= {"read_products", "read_inventory"}
    if settings.stock_sync.enabled:
        # inventoryItems by SKU and inventorySetQuantities at the chosen or primary location
        wanted |= {"write_inventory", "read_locations"}
    if settings.initial_sync == "enabled":
        # the bulk export of variants with their inventory levels per location
        wanted |= {"read_products", "read_inventory", "read_locations"}
    return frozenset(scope for scope in wanted if not oauth.covered_by_write(scope, wanted))
