"""What a saved settings version sets in motion, wherever it was saved (the operator's CLI, later an admin API).

- Rackbeat's webhooks follow the Product tab (`activation.rackbeat_events`): a sync switched on follows the
  account's webhooks of the events it needs (registering those the account lacks), and one switched off stops
  following the events no setting needs any more; an event's account webhook goes when no connection on the
  account wants it, so Rackbeat stops sending what would only be skipped.
- Shopify's subscriptions that the settings need and the shop lacks are created (`repair_shopify_subscriptions`).
- The poll schedules follow the new interval, or go when the stream is switched off (`ConnectionSchedules`).

Only an active or paused connection has webhooks and schedules to follow its settings. One still installing gets
them from the install's callback, with the settings then in force; an uninstalled one has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.rackbeat_shopify import activation, deactivation
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.ports import ConnectionSchedules
from crossdock.store.secrets import SecretStore

FOLLOWS_SETTINGS = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})


@dataclass(frozen=True)
class SettingsApplied:
    rackbeat_events: list[str] = field(default_factory=list)  # registered (present now)
    rackbeat_events_removed: list[str] = field(default_factory=list)
    shopify_topics_created: list[str] = field(default_factory=list)
    schedules: dict[str, str] = field(default_factory=dict)  # stream → created, updated, unchanged, removed, absent
    not_applied: str | None = None  # why nothing was done


def apply_saved_settings(
    connection: RackbeatShopifyConnection,
    clients: ConnectionClients,
    secrets: SecretStore,
    webhook_base_url: str,
    schedules: ConnectionSchedules,
    table: Any,
) -> SettingsApplied:
    """Brings the connection's webhooks and schedules in line with its (just saved) settings."""
    if connection.state not in FOLLOWS_SETTINGS:
        return SettingsApplied(
            not_applied=f"connection is {connection.state.value}: "
            + (
                "the install registers webhooks and schedules with the settings in force then"
                if connection.state is ConnectionState.INSTALLING
                else "it has no webhooks or schedules"
            )
        )
    rackbeat = clients.rackbeat(connection, paced=False)
    registered = activation.register_webhooks(
        connection, rackbeat, clients.shopify(connection), secrets, webhook_base_url, table
    )
    removed = deactivation.remove_rackbeat_webhooks(
        connection, rackbeat, webhook_base_url, table, keep=frozenset(registered.rackbeat_events)
    )
    return SettingsApplied(
        rackbeat_events=registered.rackbeat_events,
        rackbeat_events_removed=removed,
        shopify_topics_created=registered.shopify_topics_created,
        schedules=schedules.follow(connection),
    )
