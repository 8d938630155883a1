"""Activating a connection: register the webhooks its settings need, in both systems.

Rackbeat webhooks follow the Product tab (stock and item events are many, and a connection that does not sync
them should not receive them), so turning a sync on later means activating again; that is safe to repeat.

Rackbeat's webhooks are the account's, one per event, shared by every connection on it that wants the event
(`rackbeat_webhook_upkeep`: ingest fans a delivery out to the followers, issue 18), so Rackbeat sends each stock
change once however many shops follow it. Shopify subscriptions are looked
up first and only the missing ones created, so activating twice changes nothing; the scheduled self-check uses the
same repair on its own (`repair_shopify_subscriptions`), because Shopify removes a subscription whose deliveries kept
failing for 4 hours. It repairs Rackbeat's webhooks too (`repair_rackbeat_webhooks`), comparing the account's list
first: re-registering them blindly every hour would only pile up tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.products import ITEM_EVENTS, STOCK_EVENTS
from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.webhooks import ORDER_TOPICS, PRODUCT_TOPICS
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations import rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.ports import AccountWebhooks
from crossdock.store.secrets import SecretStore


@dataclass(frozen=True)
class Registered:
    rackbeat_events: list[str]
    shopify_topics_created: list[str]


def rackbeat_events(connection: RackbeatShopifyConnection) -> list[str]:
    settings = connection.settings
    wanted: set[str] = set()
    if settings.stock_sync.enabled:
        wanted |= STOCK_EVENTS
    if settings.product_sync.master == "rackbeat":
        wanted |= set(ITEM_EVENTS)
    return sorted(wanted)


# Shopify sends `app/uninstalled` only to subscribers, and without it an uninstalled shop's connection would stay
# active with a dead token. (The privacy topics need no subscription: Shopify sends them to the app's compliance
# URL, configured with the app, not through the Admin API.)
ALWAYS_SUBSCRIBED = frozenset({"app/uninstalled"})


def shopify_topics(connection: RackbeatShopifyConnection) -> list[str]:
    """Order topics always: with `transfer_when = never` each order is still logged as skipped, with the reason,
    and a later change of that setting needs no new subscription."""
    settings = connection.settings
    wanted: set[str] = set(ORDER_TOPICS) | ALWAYS_SUBSCRIBED
    if settings.product_sync.master == "shopify":
        wanted |= PRODUCT_TOPICS
    return sorted(wanted)


def register_webhooks(
    connection: RackbeatShopifyConnection,
    rackbeat: RackbeatClient,
    shopify: ShopifyAdmin,
    secrets: SecretStore,
    webhook_base_url: str,
    table: Any,
) -> Registered:
    base = webhook_base_url.rstrip("/")
    events = rackbeat_events(connection)
    rackbeat_webhook_upkeep.follow(connection, events, rackbeat, secrets, table, base)
    return Registered(events, repair_shopify_subscriptions(connection, shopify, base))


def account_webhooks(connection: Connection) -> AccountWebhooks | None:
    """`Integration.account_webhooks`: the Rackbeat events the settings need, from the connection's account."""
    own = RackbeatShopifyConnection.of(connection)
    return rackbeat_webhook_upkeep.account_webhooks(own.accounts.rackbeat, rackbeat_events(own))


def repair_rackbeat_webhooks(
    connection: RackbeatShopifyConnection,
    rackbeat: RackbeatClient,
    secrets: SecretStore,
    webhook_base_url: str,
    table: Any,
) -> list[str]:
    """Registers the account's Rackbeat webhooks that the settings need and the account lacks (deleted in
    Rackbeat's UI, or switched off); returns their events. The account's list is compared first, so a healthy
    connection costs one listing and gains no token (`rackbeat_webhook_upkeep.follow`)."""
    return rackbeat_webhook_upkeep.follow(
        connection, rackbeat_events(connection), rackbeat, secrets, table, webhook_base_url
    )


def shopify_webhook_uri(webhook_base_url: str) -> str:
    return f"{webhook_base_url.rstrip('/')}/webhooks/shopify"


def repair_shopify_subscriptions(
    connection: RackbeatShopifyConnection, shopify: ShopifyAdmin, webhook_base_url: str
) -> list[str]:
    """Creates the subscriptions to our address that the settings need and the shop lacks; returns their topics
    (when none is missing, the listing is the only call)."""
    uri = shopify_webhook_uri(webhook_base_url)
    existing = {(node["topic"], node["uri"]) for node in shopify_subscriptions(shopify)}
    created = []
    for topic in shopify_topics(connection):
        if (_topic_enum(topic), uri) in existing:
            continue
        answer = shopify.run(queries.CREATE_WEBHOOK_SUBSCRIPTION, {"topic": _topic_enum(topic), "uri": uri})
        problems = [e["message"] for e in answer["webhookSubscriptionCreate"]["userErrors"] if not _taken(e)]
        if problems:
            raise PermanentError(
                f"Shopify refused the {topic} subscription of {connection.shop_domain}: {'; '.join(problems)}",
                FailureClass.BUG,
            )
        created.append(topic)
    return created


def _topic_enum(topic: str) -> str:
    return topic.upper().replace("/", "_")


def _taken(user_error: dict[str, str]) -> bool:
    """A concurrent activation created the same subscription first: what we wanted exists."""
    return "already been taken" in user_error.get("message", "")


def shopify_subscriptions(shopify: ShopifyAdmin) -> list[dict[str, str]]:
    nodes: list[dict[str, str]] = []
    after = None
    while True:
        page = shopify.run(queries.WEBHOOK_SUBSCRIPTIONS, {"after": after}, expected_cost=252)["webhookSubscriptions"]
        nodes.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
