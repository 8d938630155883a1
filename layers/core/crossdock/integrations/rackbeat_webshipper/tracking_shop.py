"""The shop side of tracking to the shop: which Shopify order a shipped Rackbeat order came from, through which
`rackbeat_shopify` connection, and that order fulfilled with the shipment's carrier and tracking, once.

A Rackbeat order made by `rackbeat_shopify` names its Shopify order in `other_reference` (`Shopify #1001 (<id>)`,
`connectors.rackbeat.orders.order_reference`). The shops on the Webshipper connection's Rackbeat account are one
Query of the store's membership items (`store.connection_lookup.connections_on_account`); the one whose order
mapping binds that Shopify order to this Rackbeat order is the shop. Here the two kinds meet: through the Rackbeat
order's reference and the store, never through each other's flows.

Once: Shopify's `fulfillmentCreate` takes no idempotency key, so the fulfillment orders are read first. A tracking
number already on a fulfilment means an earlier attempt went through (its answer was lost); a closed fulfillment
order is never fulfilled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat import orders as rackbeat_orders
from crossdock.connectors.rackbeat.client import NotFound
from crossdock.connectors.shopify import fulfillments
from crossdock.integrations.rackbeat_shopify.connection import KIND as SHOPIFY_KIND
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.shopify_origin import shop_that_made
from crossdock.store.outcome import Outcome


@dataclass(frozen=True)
class Shipped:
    """The shipment INBOUND hands over once the Rackbeat order is marked shipped (docs/webshipper.md)."""

    rackbeat_order: int
    shipment_id: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None

    @classmethod
    def read(cls, detail: Any) -> Shipped:
        """The hand-over from its detail; ValueError naming the field that is missing or wrong."""
        if not isinstance(detail, dict):
            raise ValueError("the hand-over is not an object")
        number = detail.get("rackbeat_order")
        if isinstance(number, bool) or not str(number or "").strip().isdigit():
            raise ValueError(f"rackbeat_order: {number!r} is not a Rackbeat order number")
        shipment = str(detail.get("shipment_id") or "").strip()
        if not shipment:
            raise ValueError("shipment_id: missing")
        return cls(
            int(str(number).strip()),
            shipment,
            _text(detail, "carrier"),
            _text(detail, "tracking_number"),
            _text(detail, "tracking_url"),
        )

    def detail(self) -> dict[str, Any]:
        return {
            "rackbeat_order": self.rackbeat_order,
            "shipment_id": self.shipment_id,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
        }

    def tracking(self) -> fulfillments.Tracking:
        assert self.tracking_number is not None
        urls = (self.tracking_url,) if self.tracking_url else ()
        return fulfillments.Tracking(self.carrier, (self.tracking_number,), urls)


def _text(detail: dict[str, Any], name: str) -> str | None:
    value = detail.get(name)
    return (str(value).strip() or None) if value is not None else None


@dataclass(frozen=True)
class ShopOrder:
    shop: RackbeatShopifyConnection
    order_id: str


def find_shop_order(
    connection: RackbeatWebshipperConnection, shipped: Shipped, table: Any, clients: Any
) -> ShopOrder | Outcome:
    """The Shopify order (and its shop's connection) the shipped Rackbeat order came from, or the outcome saying why
    there is none (skipped: not a shop's order; needs_attention: the shop cannot be reached)."""
    try:
        order = rackbeat_orders.get_order(clients.rackbeat(connection), shipped.rackbeat_order)
    except NotFound:
        return Outcome.skipped(f"Rackbeat order {shipped.rackbeat_order} is gone (deleted in Rackbeat)")
    order_id = rackbeat_orders.shopify_order_id(order.get("other_reference"))
    if order_id is None:
        return Outcome.skipped(f"Rackbeat order {shipped.rackbeat_order} did not come from a Shopify order")
    account = connection.accounts.rackbeat.identity
    if account is None:
        return Outcome.skipped(f"connection {connection.id}'s Rackbeat account is not known yet")
    shop = shop_that_made(table, account, order_id, shipped.rackbeat_order)
    if shop is not None:
        if shop.state is not ConnectionState.ACTIVE:
            return Outcome.skipped(f"Shopify order {order_id}'s shop connection {shop.id} is {shop.state.value}")
        return ShopOrder(RackbeatShopifyConnection.of(shop), order_id)
    return Outcome.skipped(
        f"Rackbeat order {shipped.rackbeat_order} names Shopify order {order_id}, but no {SHOPIFY_KIND} connection "
        f"on Rackbeat account {account} made it"
    )


def fulfil(found: ShopOrder, shipped: Shipped, clients: Any) -> Outcome:
    """The Shopify order fulfilled with the shipment's tracking, notifying the customer as the shop's
    `fulfillment.notify_customer` says; done once (see the module's docstring). Raises what the Shopify client
    raises (a `RetryableError` is retried by the caller, a `PermanentError` names Shopify's user errors)."""
    shopify = clients.shopify(found.shop)
    state = fulfillments.fulfillment_orders(shopify, found.order_id)
    number = shipped.tracking_number
    if number in state.tracking_numbers:
        return Outcome.done(f"{state.name} already has a fulfilment with tracking {number}")
    open_orders = state.fulfillable()
    if not open_orders:
        waiting = state.waiting()
        if waiting:
            statuses = ", ".join(sorted({fo.status for fo in waiting}))
            return Outcome.needs_attention(
                f"{state.name} cannot be fulfilled now: its fulfillment orders are {statuses} (the merchant releases "
                f"them in Shopify, then retry this event); tracking {number}"
            )
        return Outcome.skipped(f"{state.name} has nothing left to fulfil (fulfilled or cancelled in Shopify)")
    notify = found.shop.settings.fulfillment.notify_customer
    fulfillments.create_fulfillment(shopify, open_orders, shipped.tracking(), notify)
    carrier = f"{shipped.carrier} " if shipped.carrier else ""
    told = "customer notified" if notify else "customer not notified"
    return Outcome.done(f"{state.name} fulfilled in {found.shop.id} with {carrier}tracking {number} ({told})")
