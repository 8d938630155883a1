"""What the handlers of PeakWMS's messages share (docs/peakwms.md "Messages to the shop"): the switch of a message,
the lease that serialises the messages of one order, the SKU of a PeakWMS product and the shop's stock location.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crossdock import pacing
from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.shopify import inventory
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import RetryableError, Skip
from crossdock.integrations.peakwms_shopify import order_binding, product_map
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.store import leases

SWITCHED_OFF = "message switched off"
ORDER_LEASE_SECONDS = 120.0  # longer than a pack's reads, fulfilment and capture take


def require_switch(connection: PeakwmsShopifyConnection, message: str) -> None:
    """`Skip` when `messages.<message>` was off when the event arrived (dispatch loads the settings then in force)."""
    if not getattr(connection.settings.messages, message):
        raise Skip(f"{SWITCHED_OFF} (messages.{message})")


def require_own_order(table: Any, connection: PeakwmsShopifyConnection, order_id: str) -> None:
    """`Skip` unless this connection sent the order to PeakWMS (its binding, `order_binding`). PeakWMS sends each
    order message to every address registered for the event, so every shop of a shared PeakWMS account gets the
    others' packs and refunds too; they are none of this shop's business (and cost no Shopify call)."""
    if order_binding.binding(table, connection.id, order_id) is None:
        raise Skip(f"order {order_id} is not one this shop sent to PeakWMS (another shop of the PeakWMS account?)")


@contextmanager
def order_lock(table: Any, connection: PeakwmsShopifyConnection, order_id: str) -> Iterator[None]:
    """Holds the order's lease for the block: two pick orders of one order packed at once (or a 102 and a 109)
    never read, fulfil and capture side by side. A busy lease is `RetryableError`: the queue retries shortly."""
    name = f"peakwms-message#{connection.id}#{order_id}"
    lease = leases.claim(table, name, uuid.uuid4().hex, pacing.clock.time(), ORDER_LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"order {order_id} is being handled by another PeakWMS message", retry_after=5.0)
    try:
        yield
    finally:
        leases.release(table, lease)


def sku_of(
    connection: PeakwmsShopifyConnection,
    table: Any,
    peakwms: PeakwmsClient,
    product_id: str,
    variant_id: str | None,
    hint: str | None = None,
) -> str | None:
    """The SKU (PeakWMS `itemNumber`) of the PeakWMS product `product_id`/`variant_id`: the message's own when it
    carries one, else the account's product versions (written as the main shop's products went to PeakWMS, so no
    call), else PeakWMS's product (one call)."""
    if hint and hint.strip():
        return hint.strip()
    if variant_id is None:
        return None
    version = product_map.product_version(table, connection.peakwms_account, product_id)
    if version is not None and version.variants.get(variant_id):
        return version.variants[variant_id]
    found = peak_products.find_product(peakwms, product_id, variant_id)
    return found.item_number if found is not None and found.item_number else None


def stock_location(connection: PeakwmsShopifyConnection, shopify: ShopifyAdmin) -> str:
    """Where PeakWMS's stock is the shop's: the first location in `locations`, else the primary one — the rule of
    setup step 4 (`setup_history`), so the messages keep setting the level the step set."""
    mapped = list(connection.settings.locations)
    return inventory.location_gid(mapped[0]) if mapped else inventory.primary_location(shopify)
