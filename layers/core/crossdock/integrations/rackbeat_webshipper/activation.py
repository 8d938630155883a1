"""Activating a `rackbeat_webshipper` connection, and keeping its webhooks in both systems registered.

A Webshipper connection has no OAuth install: what brings its work is webhooks, and a poll for what they missed
(`webshipper_stream`, `webshipper#orders` every 5 minutes, its schedule made here first). Webshipper's
(`order/created`, `order/updated`, `shipment/created` to `<public base>/webhooks/webshipper/<connection id>`, each
signed with the connection's own secret, kept as its `WEBHOOK_SECRET`) bring orders and shipments back to Rackbeat;
Rackbeat's (the events `rackbeat_webhooks.rackbeat_events` names for `order_transfer` and `transfer_when`, to
`/webhooks/rackbeat/<connection id>`) send orders out and mark them dispatched. Activating registers both and only
then marks the connection `active`, as the other kinds do: a connection is never active without what brings its
work. If a platform fails meanwhile it stays `installing` and the next settings save tries again. The poll's
schedule follows the connection: made at activation (its cursor forgotten: a re-install starts afresh), put in
line by every save of an active connection, suspended while paused and removed at uninstall (`lifecycle`).

Every later save of an active connection registers what its new settings need (`order_transfer` switched to both
ways adds Rackbeat's events); the hourly self-check (`UPKEEP`, through the Integration seam) re-creates what a user
deleted or switched off, and records an event only when it did. A webhook of ours that is switched off is removed
and registered anew (with the same secret), so no half-dead registration is left behind.
"""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.webshipper import webhooks
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET
from crossdock.integrations import rackbeat_webhook_upkeep, self_check_events
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.rackbeat_webhooks import rackbeat_events
from crossdock.ports import AccountWebhooks, ConnectionSchedules, Secrets
from crossdock.store import connections, events

FOLLOWS_SETTINGS = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})
# The event the self-check records when it repaired a Webshipper connection's webhooks (only then).
SELF_CHECK_TOPIC = "webshipper/self_check"


class Clients(Protocol):
    """The connection's API clients (`integrations.clients.ConnectionClients`)."""

    def rackbeat(self, connection: Connection, *, paced: bool = True) -> RackbeatClient: ...

    def webshipper(self, connection: Connection) -> WebshipperClient: ...


@dataclass(frozen=True)
class Applied:
    """What a save or an activation did: the webhooks registered in each system (empty: all there), whether the
    connection was activated by it, or why nothing was done."""

    webshipper_topics: list[str] = field(default_factory=list)
    rackbeat_events: list[str] = field(default_factory=list)
    activated: bool = False
    not_applied: str | None = None
    # Each poll stream's schedule (created, updated, unchanged, removed, absent); empty when not touched.
    schedules: dict[str, str] = field(default_factory=dict)


def account_webhooks(connection: Connection) -> AccountWebhooks | None:
    """`Integration.account_webhooks`: the Rackbeat events the settings need, from the connection's account."""
    own = RackbeatWebshipperConnection.of(connection)
    return rackbeat_webhook_upkeep.account_webhooks(own.accounts.rackbeat, rackbeat_events(own.settings))


def webhook_url(webhook_base_url: str, connection_id: str) -> str:
    return f"{webhook_base_url.rstrip('/')}/webhooks/webshipper/{connection_id}"


def activate(
    table: Any,
    connection: RackbeatWebshipperConnection,
    clients: Clients,
    secrets: Secrets,
    webhook_base_url: str,
    schedules: ConnectionSchedules,
) -> Applied:
    """`installing` → `active`: the poll's schedule and the webhooks in both systems, then the state (its settings
    as stored stay). The first poll run reaches back to this moment (`webshipper_stream`)."""
    made = schedules.follow(connection, activating=True)
    applied = register_webhooks(connection, clients, secrets, webhook_base_url, table)
    connections.set_state(table, connection.id, ConnectionState.ACTIVE, events.received_stamp())
    return Applied(applied.webshipper_topics, applied.rackbeat_events, activated=True, schedules=made)


def apply_saved_settings(
    table: Any,
    connection: RackbeatWebshipperConnection,
    clients: Clients,
    secrets: Secrets,
    webhook_base_url: str,
    schedules: ConnectionSchedules,
) -> Applied:
    """After a save whose references were all found: an installing connection is activated, an active or paused
    one gets the webhooks its new settings need and an active one its poll schedule (a paused one's was suspended:
    the resume makes it); an uninstalled one has none."""
    if connection.state is ConnectionState.INSTALLING:
        return activate(table, connection, clients, secrets, webhook_base_url, schedules)
    if connection.state not in FOLLOWS_SETTINGS:
        return Applied(not_applied=f"connection is {connection.state.value}: it has no webhooks")
    applied = register_webhooks(connection, clients, secrets, webhook_base_url, table)
    if connection.state is ConnectionState.ACTIVE:
        # A connection activated before the poll existed gets its schedule here too (a save without changes).
        return Applied(applied.webshipper_topics, applied.rackbeat_events, schedules=schedules.follow(connection))
    return applied


def register_webhooks(
    connection: RackbeatWebshipperConnection, clients: Clients, secrets: Secrets, webhook_base_url: str, table: Any
) -> Applied:
    """What the settings need and the two accounts lack, registered: Webshipper's first (the connection's orders
    come from there whatever `order_transfer` says: its shipments mark Rackbeat's orders shipped), then Rackbeat's."""
    topics = repair_webshipper_webhooks(connection, clients.webshipper(connection), secrets, webhook_base_url)
    hooks = rackbeat_webhook_upkeep.follow(
        connection,
        rackbeat_events(connection.settings),
        clients.rackbeat(connection, paced=False),
        secrets,
        table,
        webhook_base_url,
    )
    return Applied(topics, hooks)


def repair_webshipper_webhooks(
    connection: RackbeatWebshipperConnection, webshipper: WebshipperClient, secrets: Secrets, webhook_base_url: str
) -> list[str]:
    """Registers each of `webhooks.TOPICS` the account has no enabled webhook to our address for; returns them. The
    connection's signing secret is made once, kept before the first registration (a delivery may arrive before this
    returns), and reused."""
    url = webhook_url(webhook_base_url, connection.id)
    ours = [hook for hook in webhooks.list_webhooks(webshipper) if hook.url == url]
    enabled = {hook.topic for hook in ours if hook.enabled}
    missing = [topic for topic in webhooks.TOPICS if topic not in enabled]
    if not missing:
        return []
    secret = secrets.get(connection.id, WEBHOOK_SECRET)
    if not secret:
        secret = random_secrets.token_urlsafe(32)
        secrets.put(connection.id, WEBHOOK_SECRET, secret)
    for hook in ours:
        if not hook.enabled and hook.topic in missing:
            webhooks.delete_webhook(webshipper, hook.id)  # switched off: replaced, not left beside the new one
    for topic in missing:
        webhooks.register_webhook(webshipper, url, topic, secret)
    return missing


def check_connection(
    connection: RackbeatWebshipperConnection, clients: Clients, secrets: Secrets, webhook_base_url: str, table: Any
) -> list[str]:
    """The self-check of a Webshipper connection: re-creates its missing webhooks in both systems and records what
    it did; returns them as `webshipper:<topic>` and `rackbeat:<event>`."""
    applied = register_webhooks(connection, clients, secrets, webhook_base_url, table)
    recreated = [f"webshipper:{topic}" for topic in applied.webshipper_topics] + [
        f"rackbeat:{event}" for event in applied.rackbeat_events
    ]
    if recreated:
        self_check_events.record_repair(
            table,
            connection.id,
            SELF_CHECK_TOPIC,
            {"webshipper_webhooks": applied.webshipper_topics, "rackbeat_webhooks": applied.rackbeat_events},
            f"re-registered webhooks that were missing or switched off: {', '.join(recreated)}",
        )
    return recreated


class _Upkeep:
    """This kind's webhooks through the Integration seam, for the scheduled self-check (`flows.webhook_self_check`)."""

    def check(self, connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any) -> list[str]:
        return check_connection(RackbeatWebshipperConnection.of(connection), clients, secrets, webhook_base_url, table)


UPKEEP = _Upkeep()
