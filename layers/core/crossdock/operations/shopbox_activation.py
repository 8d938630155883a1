"""What activating or saving a `rackbeat_shopbox` connection sets in motion beyond its poll schedules
(`integrations.rackbeat_shopbox.activation`): the Rackbeat webhooks its settings need (stock always, products as
`product_sync` says), and, at the activation itself, the initial sync its settings chose (SPEC §2: "once, at
activation").

The connection is active (or saved) before either is attempted, so neither may undo that: a Rackbeat that fails
while its webhooks are registered leaves them to the hourly self-check, which re-creates what is missing
(`rackbeat_webhooks.UPKEEP`, run by `flows.webhook_self_check`), and the outcome says so; an initial sync that
cannot be started is reported the same way and can be started with `crossdock initial-sync start`.
"""

from __future__ import annotations

from dataclasses import replace

from crossdock.connections.model import ConnectionState
from crossdock.errors import CrossdockError
from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.integrations.rackbeat_shopbox.activation import Applied
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.operations import initial_sync, stack_access
from crossdock.operations.errors import OperatorError
from crossdock.operations.target import OperatorTarget

LEFT_TO_SELF_CHECK = "the hourly self-check registers them"


def follow_up(target: OperatorTarget, connection: RackbeatShopboxConnection, applied: Applied) -> Applied:
    """`applied` with the webhooks registered and, when it activated the connection, the initial sync started."""
    if not applied.activated and connection.state is not ConnectionState.ACTIVE:
        return applied  # installing (references missing), paused or uninstalled: Rackbeat is not asked
    secrets = stack_access.secret_store(target)
    clients = stack_access.connection_clients(target, secrets)
    try:
        registered = rackbeat_webhooks.repair(
            connection,
            clients.rackbeat(connection, paced=False),
            secrets,
            target.onboard().webhook_base_url,
            target.table,
        )
        webhooks = f"registered: {', '.join(registered)}" if registered else "all there"
    except CrossdockError as failed:
        webhooks = f"not registered ({failed.reason}); {LEFT_TO_SELF_CHECK}"
    started = None
    if applied.activated:
        try:
            progress = initial_sync.start_chosen_initial_sync(target, connection.id)
            started = "none chosen" if progress is None else f"started ({progress.status})"
        except (CrossdockError, OperatorError) as failed:
            started = f"not started ({failed}); start it with `crossdock initial-sync start {connection.id}`"
    return replace(applied, webhooks=webhooks, initial_sync=started)
