"""Which shop a Rackbeat order came from, and the Shopify shipping line it kept — read from Rackbeat and the store,
without a call to Shopify.

A Rackbeat order made by `rackbeat_shopify` names its Shopify order in `other_reference` (`Shopify #1001 (<id>)`,
`connectors.rackbeat.orders.order_reference`). The shops on the Webshipper connection's Rackbeat account are one
Query of the store's membership items (`store.connection_lookup.connections_on_account`); the one whose order
mapping binds that Shopify order to this Rackbeat order made it. Here the two kinds meet: through the Rackbeat
order's reference and the store, never through each other's flows.

What survives of the Shopify shipping line: `rackbeat_shopify` books it as an order line on the shop's
`shipping_product_number`, named by the line's title (`connectors.shopify.orders._shipping_line`). Its `code` is
not kept, and a free shipping line (price 0) is left off the Rackbeat order, so such an order has no title here and
takes `default_shipping_rate` (docs/webshipper.md, known-limits).
"""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.orders import shopify_order_id
from crossdock.integrations.rackbeat_shopify.connection import KIND as SHOPIFY_KIND
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.store import connection_lookup, mappings
from crossdock.store.connections import load_connection


def shop_that_made(
    table: Any, rackbeat_account: str, shopify_order: str, rackbeat_order: int | str
) -> Connection | None:
    """The `rackbeat_shopify` connection on `rackbeat_account` whose mapping binds `shopify_order` to
    `rackbeat_order`, in whatever state it is; None when no shop on the account made it."""
    for shop_id in connection_lookup.connections_on_account(table, SHOPIFY_KIND, "rackbeat", rackbeat_account):
        mapped = mappings.get_mapping(table, shop_id, "order", "shopify", shopify_order) or {}
        if mapped.get("target_id") != str(rackbeat_order):
            continue
        shop = load_connection(table, shop_id)
        if shop is not None:
            return shop
    return None


def shipping_method(table: Any, connection: RackbeatWebshipperConnection, order: dict[str, Any]) -> str | None:
    """The title of the Shopify shipping line the Rackbeat `order` carries, or None: not made from a Shopify order,
    no shop on the account made it, or it kept no shipping line (free shipping, or none)."""
    shopify_order = shopify_order_id(order.get("other_reference"))
    account = connection.accounts.rackbeat.identity
    if shopify_order is None or account is None:
        return None
    shop = shop_that_made(table, account, shopify_order, str(order.get("number")))
    if shop is None:
        return None
    shipping_item = RackbeatShopifyConnection.of(shop).settings.shipping_product_number
    for line in order.get("lines") or []:
        if isinstance(line, dict) and str(line.get("item_id") or "").strip() == shipping_item:
            title = str(line.get("name") or "").strip()
            if title:
                return title
    return None
