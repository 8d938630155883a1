"""Guided setup step 3, `receive_orders` (SPEC §4; seed 004 "Begynd at modtage ordrer"): the Shopify order webhooks
that bring each order to PeakWMS from then on, subscribed at `/webhooks/peakwms_shopify/shopify`.

The seed creates order create/update/delete hooks; `orders/cancelled` is added because a cancelled order stays in
Shopify (no delete follows) and its PeakWMS sales order must be cancelled (reference/shopify_wms.md "Webhooks to
subscribe"). `refunds/create` is not: a refund that takes items off an unshipped order also changes the order, and
[guess: Shopify sends `orders/updated` for a refund; the simulator sends only `refunds/create`] its `orders/updated`
(with the lines' `current_quantity`) is what updates PeakWMS.

One chunk: the shop's subscriptions are listed and the missing ones created, so a run after a crash (or a second
run) creates only what is missing; its note lists the topics subscribed. The seed's warning stands in the note:
PeakWMS releases an order for picking only when every line can be met from stock.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.shopify import webhook_subscriptions
from crossdock.integration import SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.setup import RECEIVE_ORDERS

ORDER_TOPICS: tuple[str, ...] = ("orders/create", "orders/updated", "orders/cancelled", "orders/delete")


def shopify_webhook_address(webhook_base_url: str) -> str:
    """Where this kind's Shopify webhooks arrive (template.yaml `/webhooks/{kind}/{source}`)."""
    return f"{webhook_base_url.rstrip('/')}/webhooks/peakwms_shopify/shopify"


class ReceiveOrders:
    name: str = RECEIVE_ORDERS
    title: str = "Receive orders"
    optional: bool = False

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        address = shopify_webhook_address(deps.webhook_base_url)
        shopify = deps.clients.shopify(connection)
        created = webhook_subscriptions.subscribe_missing(shopify, address, ORDER_TOPICS)
        # What an earlier, interrupted chunk created counts as this step's too.
        made = sorted({*state.get("created", []), *created})
        there = [topic for topic in ORDER_TOPICS if topic not in made]
        note = f"order webhooks at {address}: subscribed {', '.join(made) or 'none'}"
        if there:
            note += f"; already there: {', '.join(there)}"
        note += (
            ". From now on each Shopify order becomes a PeakWMS sales order, released for picking only when every "
            "line can be met from stock"
        )
        done = {"topics": list(ORDER_TOPICS), "created": made, "address": address}
        return StepChunk(True, len(ORDER_TOPICS), len(ORDER_TOPICS), done, note)


STEP = ReceiveOrders()
