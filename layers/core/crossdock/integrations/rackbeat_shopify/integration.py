"""`rackbeat_shopify`: a Shopify shop's orders, refunds and cancellations into Rackbeat, products in the direction
the merchant chooses, Rackbeat's stock to the shop (SPEC §1). What the rest of Crossdock knows of this kind."""

from __future__ import annotations

from crossdock.integration import Integration
from crossdock.integrations.rackbeat_shopify import (
    activation,
    choices,
    inbound,
    initial_sync,
    operator_lifecycle,
    push,
    reconciliation,
    stock,
)
from crossdock.integrations.rackbeat_shopify.connection import KIND, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.order_workflow import ORDER_WORKFLOW
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings

INTEGRATION = Integration(
    kind=KIND,
    connection_model=RackbeatShopifyConnection,
    settings_model=RackbeatShopifySettings,
    routes=inbound.ROUTES,
    commands=push.COMMANDS,
    order_workflow=ORDER_WORKFLOW,
    poll_streams=reconciliation.STREAMS,
    stock=stock.STOCK,
    initial_sync=initial_sync.INITIAL_SYNC,
    lifecycle=operator_lifecycle.LIFECYCLE,
    setting_choices=choices.SETTING_CHOICES,
    account_webhooks=activation.account_webhooks,
)
