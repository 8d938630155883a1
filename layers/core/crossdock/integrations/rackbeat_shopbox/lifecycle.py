"""How an operator pauses, resumes and uninstalls a `rackbeat_shopbox` connection (`integration.Lifecycle`, run by
`operations.lifecycle`).

- **pause**: the poll schedules are removed and their cursors kept (`ConnectionSchedules.suspend`): no run reads
  Shopbox while paused, where the Shopify kind's runs fire and skip. The Rackbeat webhooks stay registered; their
  deliveries end `skipped` (dispatch handles events of active connections only).
- **resume**: the schedules are put back first (the state is still `paused`, so a run that fires meanwhile skips),
  then the state becomes active; the first `sales#baskets` run reads from the kept cursor, so every sale of the
  pause is transferred, and cancellations of them too. The Rackbeat webhooks are repaired (one listing; missing
  ones are re-created). What the pause skipped of Rackbeat's stock and product changes is not replayed: an item
  reaches Shopbox again at its next change (docs/known-limits.md).
- **uninstall**: the connection's Rackbeat webhooks are removed (Shopbox sends none), then the state becomes
  `uninstalled`, every stored secret is deleted (the Shopbox password or API token, the login token, the Rackbeat
  key and webhook tokens: nothing acts for the connection any more) and the schedules go with their cursors. Its
  history — events, order and item mappings, settings versions — stays.
"""

from __future__ import annotations

from crossdock.connections.model import Connection, ConnectionState
from crossdock.errors import CrossdockError
from crossdock.integration import LifecycleDeps, WebhooksRemoved
from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.store import connections, events
from crossdock.store.outcome import Outcome


class ShopboxLifecycle:
    def account_name(self, connection: Connection) -> str:
        return f"Shopbox client {RackbeatShopboxConnection.of(connection).client_uid}"

    def paused(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        suspended = deps.schedules.suspend(connection)
        return [
            "poll schedules removed, cursors kept" if suspended else "it had no poll schedule",
            "Rackbeat webhooks stay registered; their deliveries are not queued for it while paused",
        ]

    def resuming(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        own = RackbeatShopboxConnection.of(connection)
        made = deps.schedules.follow(own)
        lines = [
            "poll schedules "
            + ", ".join(f"{stream} {what}" for stream, what in sorted(made.items()))
            + "; the next run reads the sales of the pause from the kept cursor"
        ]
        try:
            registered = rackbeat_webhooks.repair(
                own, deps.clients.rackbeat(own, paced=False), deps.secrets, deps.webhook_base_url, deps.table
            )
            lines.append(
                f"Rackbeat webhooks re-registered: {', '.join(registered)}"
                if registered
                else "Rackbeat webhooks all there"
            )
        except CrossdockError as failed:
            lines.append(f"Rackbeat webhooks not checked ({failed.reason}); the hourly self-check repairs them")
        lines.append(
            "stock and product changes Rackbeat sent during the pause reach Shopbox at each item's next change"
        )
        return lines

    def remove_webhooks(self, connection: Connection, deps: LifecycleDeps) -> WebhooksRemoved:
        own = RackbeatShopboxConnection.of(connection)
        removed = rackbeat_webhooks.remove(
            own, deps.clients.rackbeat(own, paced=False), deps.webhook_base_url, deps.table
        )
        return WebhooksRemoved({"rackbeat": removed}, ["Shopbox sends no webhooks: nothing to remove there"])

    def uninstall(self, connection: Connection, deps: LifecycleDeps, event_sk: str) -> Outcome:
        own = RackbeatShopboxConnection.of(connection)
        previous = connections.set_state(deps.table, own.id, ConnectionState.UNINSTALLED, events.received_stamp())
        if previous is None:
            return Outcome.skipped(f"connection {own.id} no longer exists")
        names = connections.stored_secret_names(deps.table, own.id)
        for name in names:
            deps.secrets.delete(own.id, name)
        deps.schedules.stop(own)
        return Outcome.done(
            f"{self.account_name(own)} uninstalled: poll schedules removed, {len(names)} secrets deleted, history kept"
        )


LIFECYCLE = ShopboxLifecycle()
