"""The scheduled self-check: every active connection's webhooks are still there, in both systems (SPEC §5).

Shopify removes a subscription whose deliveries failed for 4 hours, and then sends that topic nowhere: orders would
stop arriving without a trace. A Rackbeat webhook deleted or switched off in Rackbeat (by a user, or by Rackbeat
after failed deliveries) silences stock and item changes the same way. The check lists each active connection's
Shopify subscriptions and Rackbeat webhooks and re-creates what its settings need and is missing, recording a
`shopify/self_check` event only when it repaired something, so a healthy hour leaves no trace. Each connection is
checked on its own, from its own queued message (`flows.webhook_self_check`), so one failing never stops another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.integrations import self_check_events
from crossdock.integrations.rackbeat_shopify import activation
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store.secrets import SecretStore

SELF_CHECK_TOPIC = "shopify/self_check"


@dataclass(frozen=True)
class SelfCheckDeps:
    table: Any
    shopify: Callable[[RackbeatShopifyConnection], ShopifyAdmin]
    webhook_base_url: str  # where Shopify and Rackbeat deliver to: the API's public URL
    rackbeat: Callable[[RackbeatShopifyConnection], RackbeatClient]
    secrets: SecretStore  # where a re-registered Rackbeat webhook's token is kept


def check_connection(connection: RackbeatShopifyConnection, deps: SelfCheckDeps) -> list[str]:
    """Re-creates the connection's missing Shopify subscriptions and Rackbeat webhooks and records what it did;
    returns their topics (Rackbeat's as `rackbeat:<event>`)."""
    topics = activation.repair_shopify_subscriptions(connection, deps.shopify(connection), deps.webhook_base_url)
    hooks = activation.repair_rackbeat_webhooks(
        connection, deps.rackbeat(connection), deps.secrets, deps.webhook_base_url, deps.table
    )
    recreated = topics + [f"rackbeat:{event}" for event in hooks]
    if recreated:
        parts = []
        if topics:
            parts.append(f"re-created Shopify webhook subscriptions that Shopify had removed: {', '.join(topics)}")
        if hooks:
            parts.append(f"re-registered Rackbeat webhooks that were missing or switched off: {', '.join(hooks)}")
        self_check_events.record_repair(
            deps.table,
            connection.id,
            SELF_CHECK_TOPIC,
            {"recreated": topics, "rackbeat_webhooks": hooks},
            "; ".join(parts),
        )
    return recreated
