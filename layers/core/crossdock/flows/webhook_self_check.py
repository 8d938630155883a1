"""The scheduled self-check of every kind that keeps its webhooks through the Integration seam
(`Integration.webhooks`): each active connection of such a kind asked to re-create what went missing (SPEC §5:
"re-creates webhook subscriptions that disappeared"). One connection failing (a revoked credential, a platform
down) does not stop the others; its failure is reported. The Shopify kind's check is its own
(`rackbeat_shopify.self_check`), run beside this one by functions/self_check.
"""

from __future__ import annotations

from typing import Any

from crossdock import registry
from crossdock.connections.model import ConnectionState
from crossdock.errors import CrossdockError
from crossdock.store import connections


def run_self_check(
    table: Any, clients: Any, secrets: Any, webhook_base_url: str
) -> tuple[int, dict[str, list[str]], list[tuple[str, str, str]]]:
    """(connections checked, connection id → what was re-created, failures as (connection id, failure class,
    reason))."""
    checked, repaired, failed = 0, {}, []
    for connection in connections.list_connections(table):
        if connection.state is not ConnectionState.ACTIVE or connection.kind not in registry.kinds():
            continue
        upkeep = registry.integration(connection.kind).webhooks
        if upkeep is None:
            continue
        checked += 1
        try:
            recreated = upkeep.check(connection, clients, secrets, webhook_base_url, table)
        except CrossdockError as failure:
            failed.append((connection.id, failure.failure_class.value, failure.reason))
            continue
        if recreated:
            repaired[connection.id] = recreated
    return checked, repaired, failed
