"""`rackbeat_shopbox`: a Shopbox POS client's sales polled into Rackbeat orders, products in the direction the
merchant chooses, Rackbeat's stock to the Shopbox branches (SPEC §2). What the rest of Crossdock knows of this kind."""

from __future__ import annotations

from crossdock.integration import Integration
from crossdock.integrations.rackbeat_shopbox import (
    choices,
    initial_sync,
    lifecycle,
    product_push,
    product_stream,
    products,
    rackbeat_webhooks,
    sales_inbound,
    sales_stream,
    stock,
    stock_inbound,
)
from crossdock.integrations.rackbeat_shopbox.connection import KIND, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.order_workflow import ORDER_WORKFLOW
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

INTEGRATION = Integration(
    kind=KIND,
    connection_model=RackbeatShopboxConnection,
    settings_model=RackbeatShopboxSettings,
    routes=sales_inbound.ROUTES + products.ROUTES + stock_inbound.ROUTES,
    commands=product_push.COMMANDS,
    order_workflow=ORDER_WORKFLOW,
    poll_streams={**sales_stream.STREAMS, **product_stream.STREAMS},
    initial_sync=initial_sync.INITIAL_SYNC,
    stock=stock.STOCK,
    lifecycle=lifecycle.LIFECYCLE,
    manual_sync=sales_inbound.MANUAL_SYNC,
    webhooks=rackbeat_webhooks.UPKEEP,
    setting_choices=choices.SETTING_CHOICES,
    account_webhooks=rackbeat_webhooks.account_webhooks,
)
