"""The Rackbeat webhooks a Shopbox connection needs, and registering them: stock events when a branch shows
Rackbeat's stock (`stock.branch_plan`), product (and BOM) events when products flow from Rackbeat
(`products.rackbeat_webhooks`). Activation registers them; the self-check re-creates the ones that went missing.

The webhooks are the Rackbeat account's, one per event, shared with every connection on the account that wants the
event (`rackbeat_webhook_upkeep`, issue 18): ingest fans each delivery out to the followers.
"""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.products import STOCK_EVENTS
from crossdock.integrations import rackbeat_webhook_upkeep, self_check_events
from crossdock.integrations.rackbeat_shopbox import products, stock
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.ports import AccountWebhooks
from crossdock.store.secrets import SecretStore


def rackbeat_events(settings: RackbeatShopboxSettings) -> list[str]:
    """Every Rackbeat event these settings need, sorted."""
    wanted = set(products.rackbeat_webhooks(settings))
    if stock.branch_plan(settings):
        wanted |= STOCK_EVENTS
    return sorted(wanted)


def account_webhooks(connection: Connection) -> AccountWebhooks | None:
    """`Integration.account_webhooks`: the Rackbeat events the settings need, from the connection's account."""
    own = RackbeatShopboxConnection.of(connection)
    return rackbeat_webhook_upkeep.account_webhooks(own.accounts.rackbeat, rackbeat_events(own.settings))


def webhook_url(webhook_base_url: str, connection: RackbeatShopboxConnection) -> str:
    """Where the connection's Rackbeat webhooks point: its account's address (`rackbeat_webhook_upkeep`)."""
    return rackbeat_webhook_upkeep.webhook_url(webhook_base_url, connection)


def remove(
    connection: RackbeatShopboxConnection, rackbeat: RackbeatClient, webhook_base_url: str, table: Any
) -> list[str]:
    """The connection stops following its account's Rackbeat webhooks (its uninstall): an event's webhook goes with
    its last follower. Returns the events removed."""
    return rackbeat_webhook_upkeep.unfollow(connection, rackbeat, table, webhook_base_url)


def register(
    connection: RackbeatShopboxConnection,
    rackbeat: RackbeatClient,
    secrets: SecretStore,
    webhook_base_url: str,
    table: Any,
) -> list[str]:
    """Follows the account's webhooks of every event the settings need (`repair`, which registers those the account
    lacks); returns the events followed."""
    repair(connection, rackbeat, secrets, webhook_base_url, table)
    return rackbeat_events(connection.settings)


def repair(
    connection: RackbeatShopboxConnection,
    rackbeat: RackbeatClient,
    secrets: SecretStore,
    webhook_base_url: str,
    table: Any,
) -> list[str]:
    """Registers the account's webhooks the settings need that are missing or switched off; returns their events.
    The account's list is compared first: a healthy account costs one listing and gains no token (each creation
    issues a new one, which ingest would then have to accept for good)."""
    return rackbeat_webhook_upkeep.follow(
        connection, rackbeat_events(connection.settings), rackbeat, secrets, table, webhook_base_url
    )


# The event the self-check records when it repaired a Shopbox connection's webhooks (the Shopify kind's is
# `shopify/self_check`): only then, so a healthy hour leaves no trace.
SELF_CHECK_TOPIC = "rackbeat/self_check"


def check_connection(
    connection: RackbeatShopboxConnection,
    rackbeat: RackbeatClient,
    secrets: SecretStore,
    webhook_base_url: str,
    table: Any,
) -> list[str]:
    """The self-check of a Shopbox connection: re-creates its missing Rackbeat webhooks and records what it did;
    returns them as `rackbeat:<event>`."""
    hooks = repair(connection, rackbeat, secrets, webhook_base_url, table)
    if hooks:
        self_check_events.record_repair(
            table,
            connection.id,
            SELF_CHECK_TOPIC,
            {"rackbeat_webhooks": hooks},
            f"re-registered Rackbeat webhooks that were missing or switched off: {', '.join(hooks)}",
        )
    return [f"rackbeat:{event}" for event in hooks]


class _Upkeep:
    """This kind's webhooks through the Integration seam (`Integration.webhooks`): the self-check of a Shopbox
    connection is its Rackbeat webhooks (Shopbox sends none)."""

    def check(self, connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any) -> list[str]:
        own = RackbeatShopboxConnection.of(connection)
        return check_connection(own, clients.rackbeat(own), secrets, webhook_base_url, table)


UPKEEP = _Upkeep()
