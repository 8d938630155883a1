"""`peakwms_shopify`: a Shopify shop's products and orders into PeakWMS, PeakWMS's messages back to the shop
(SPEC §4). What the rest of Crossdock knows of this kind; each part adds its routes here as it lands (the Shopify
product and order webhooks, the PeakWMS webhooks), and each setup step its `STEP` (`setup.STEP_NAMES` orders them).
"""

from __future__ import annotations

from crossdock.integration import Integration
from crossdock.integrations.peakwms_shopify import (
    choices,
    lifecycle,
    peakwms_order_stream,
    peakwms_webhooks,
    product_webhooks,
    setup,
    setup_customs,
    setup_history,
    setup_messages,
    setup_orders,
    setup_products,
    shopify_order_stream,
    shopify_webhooks,
)
from crossdock.integrations.peakwms_shopify.connection import KIND, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings

INTEGRATION = Integration(
    kind=KIND,
    connection_model=PeakwmsShopifyConnection,
    settings_model=PeakwmsShopifySettings,
    routes=shopify_webhooks.ROUTES + product_webhooks.ROUTES + peakwms_webhooks.ROUTES,
    lifecycle=lifecycle.LIFECYCLE,
    # The PeakWMS message webhooks follow `messages.*` at each self-check once step 5 ran (`setup_messages`).
    webhooks=setup_messages.UPKEEP,
    guided_setup=setup.guided_setup(
        setup_products.STEP, setup_customs.STEP, setup_orders.STEP, setup_history.STEP, setup_messages.STEP
    ),
    # Sweeps for what the order webhooks of either side missed (docs/peakwms.md "Sweeps").
    poll_streams={**shopify_order_stream.STREAMS, **peakwms_order_stream.STREAMS},
    setting_choices=choices.SETTING_CHOICES,
)
