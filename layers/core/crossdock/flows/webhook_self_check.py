"""The scheduled self-check, in two halves so it scales with the connections (SPEC §5: "re-creates webhook
subscriptions that disappeared"; issue 18).

The schedule's run lists the active connections that have webhooks to keep (`connections_to_check`: the
`Connections` index, page by page) and queues one message per connection; the same function, fed by that queue,
checks each connection on its own (`load_to_check`, then `check_connection` for the kinds that keep their webhooks
through the Integration seam, `Integration.webhooks`; the Shopify kind's check is its own,
`rackbeat_shopify.self_check`, named here only by its kind). One connection failing (a revoked credential, a
platform down) never touches another's check: each is its own message, retried by SQS when its failure is
transient, and its failure is reported.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.store import connections


def has_upkeep(kind: str) -> bool:
    """The kind keeps its webhooks through the Integration seam."""
    return kind in registry.kinds() and registry.integration(kind).webhooks is not None


def _checked(connection: Connection, own_checks: Collection[str]) -> bool:
    return connection.state is ConnectionState.ACTIVE and (connection.kind in own_checks or has_upkeep(connection.kind))


def connections_to_check(table: Any, own_checks: Collection[str]) -> list[str]:
    """The ids of the active connections whose kind keeps webhooks (through the seam, or one of `own_checks`, the
    kinds whose check is their own), to be queued one message each."""
    return [connection.id for connection in connections.list_connections(table) if _checked(connection, own_checks)]


def load_to_check(table: Any, connection_id: str, own_checks: Collection[str]) -> Connection | None:
    """The queued connection as stored now; None when it is no longer to be checked (uninstalled or paused since
    it was queued, or gone)."""
    connection = connections.load_connection(table, connection_id)
    return connection if connection is not None and _checked(connection, own_checks) else None


def check_connection(
    connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any
) -> list[str]:
    """Re-creates what a seam kind's connection misses and records it (only then); returns what was re-created.
    Raises the check's `CrossdockError` for the caller to report (and to retry, when it is transient)."""
    upkeep = registry.integration(connection.kind).webhooks
    if upkeep is None:
        raise ValueError(f"{connection.kind} keeps no webhooks through the Integration seam")
    return list(upkeep.check(connection, clients, secrets, webhook_base_url, table))
