"""Removing a connection's webhooks from both systems: what an operator's uninstall does first, and what a settings
save does for a Rackbeat event no setting needs any more.

Only our own webhooks go: Rackbeat's account webhook of an event when no other connection on the account still
follows it (and the connection's own ones of releases before), Shopify's those pointing at this stack's address.
When Shopify uninstalls the app itself (`app/uninstalled`) it drops the app's subscriptions on its own; an
operator's uninstall leaves the app installed in the shop, so its subscriptions are deleted here, before the token
goes.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations import rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_shopify import activation
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection


def remove_rackbeat_webhooks(
    connection: RackbeatShopifyConnection,
    rackbeat: RackbeatClient,
    webhook_base_url: str,
    table: Any,
    keep: Set[str] = frozenset(),
) -> list[str]:
    """The connection stops following its account's Rackbeat webhooks but those of the `keep` events; an event's
    webhook goes with its last follower (`rackbeat_webhook_upkeep.unfollow`). Returns the events removed."""
    return rackbeat_webhook_upkeep.unfollow(connection, rackbeat, table, webhook_base_url, keep)


def remove_shopify_subscriptions(
    connection: RackbeatShopifyConnection, shopify: ShopifyAdmin, webhook_base_url: str
) -> list[str]:
    """Deletes the shop's subscriptions to this stack's address; returns their topics."""
    uri = activation.shopify_webhook_uri(webhook_base_url)
    removed = []
    for node in activation.shopify_subscriptions(shopify):
        if node.get("uri") != uri:
            continue
        answer = shopify.run(queries.DELETE_WEBHOOK_SUBSCRIPTION, {"id": node["id"]})["webhookSubscriptionDelete"]
        problems = [
            error["message"] for error in answer.get("userErrors") or [] if "does not exist" not in error["message"]
        ]
        if problems:
            raise PermanentError(
                f"Shopify refused to delete the {node['topic']} subscription of {connection.shop_domain}: "
                + "; ".join(problems),
                FailureClass.BUG,
            )
        removed.append(str(node["topic"]))
    return sorted(removed)
