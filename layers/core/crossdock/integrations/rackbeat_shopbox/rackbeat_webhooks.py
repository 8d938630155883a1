"""The Rackbeat webhooks a Shopbox connection needs, and registering them: stock events when a branch shows
Rackbeat's stock (`stock.branch_plan`), product (and BOM) events when products flow from Rackbeat
(`products.rackbeat_webhooks`). Activation registers them; the self-check re-creates the ones that went missing.

Rackbeat issues a token per webhook, shown only when it is created; the tokens are kept with the connection's
secrets (`RACKBEAT_WEBHOOK_TOKENS`, as for every kind) so ingest can authenticate the deliveries to
`/webhooks/rackbeat/<connection id>`. Several connections on one Rackbeat account each register their own.
"""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.products import STOCK_EVENTS
from crossdock.integrations import rackbeat_webhook_upkeep, self_check_events
from crossdock.integrations.rackbeat_shopbox import products, stock
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.store.secrets import SecretStore


def rackbeat_events(settings: RackbeatShopboxSettings) -> list[str]:
    """Every Rackbeat event these settings need, sorted."""
    wanted = set(products.rackbeat_webhooks(settings))
    if stock.branch_plan(settings):
        wanted |= STOCK_EVENTS
    return sorted(wanted)


def webhook_url(webhook_base_url: str, connection_id: str) -> str:
    return own_webhooks.connection_webhook_url(webhook_base_url, connection_id)


def remove(connection: RackbeatShopboxConnection, rackbeat: RackbeatClient, webhook_base_url: str) -> list[str]:
    """Deletes every Rackbeat webhook of the connection (its uninstall); returns the events removed."""
    return own_webhooks.remove(rackbeat, webhook_url(webhook_base_url, connection.id))


def register(
    connection: RackbeatShopboxConnection, rackbeat: RackbeatClient, secrets: SecretStore, webhook_base_url: str
) -> list[str]:
    """Registers what the settings need and the account lacks (`repair`): at activation nothing is there yet, so
    that is every event; returns the events registered."""
    return repair(connection, rackbeat, secrets, webhook_base_url)


def repair(
    connection: RackbeatShopboxConnection, rackbeat: RackbeatClient, secrets: SecretStore, webhook_base_url: str
) -> list[str]:
    """Registers the needed webhooks to our address that are missing or switched off; returns their events. The
    account's list is compared first: a healthy connection costs one listing and gains no token (each creation
    issues a new one, which ingest would then have to accept for good)."""
    return rackbeat_webhook_upkeep.repair(
        connection.id, rackbeat, secrets, webhook_base_url, rackbeat_events(connection.settings)
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
    hooks = repair(connection, rackbeat, secrets, webhook_base_url)
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
