"""How an operator pauses, resumes and uninstalls a `rackbeat_webshipper` connection (`integration.Lifecycle`, run
by `operations.lifecycle`).

- **pause**: the poll's schedule is removed and its cursor kept (`ConnectionSchedules.suspend`, as the Shopbox kind
  does): nothing reads Webshipper while paused. The webhooks in both systems stay registered; their deliveries end
  `skipped` (dispatch handles events of active connections only).
- **resume**: the poll's schedule is put back first (the state is still `paused`, so a run that fires meanwhile
  skips), then the webhooks in both systems are repaired (one listing each; missing or switched-off ones
  registered again with the connection's secret), then the state becomes active. The first poll run reads from
  the kept cursor, so what Webshipper changed during the pause — orders from its channels, shipments — reaches
  Rackbeat once (`webshipper_stream`). What Rackbeat sent during the pause (orders booked or shipped there) is not
  polled: the operator sends those with `crossdock orders sync <connection> rackbeat:<number>`, and resume says so.
- **uninstall**: the connection's webhooks are removed in Webshipper (those to its address) and in Rackbeat (those to
  its address: another connection on the account keeps its own), then the state becomes `uninstalled`, every
  stored secret is deleted (the Webshipper password, API token or grant token, the webhook secret, the Rackbeat
  key) and the poll's schedule goes with its cursor. Its history — events, order mappings, settings versions —
  stays.
"""

from __future__ import annotations

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.webshipper import webhooks
from crossdock.errors import CrossdockError
from crossdock.integration import LifecycleDeps, WebhooksRemoved
from crossdock.integrations import rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_webshipper import activation
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.store import connections, events
from crossdock.store.outcome import Outcome

# Webshipper's side of the pause is the poll's; Rackbeat's is not polled.
RECOVERED_BY_POLL = "the next poll run reads what Webshipper changed during the pause (orders, shipments)"
MISSED_DURING_PAUSE = (
    "orders Rackbeat booked or shipped during the pause were skipped: send each with "
    "`crossdock orders sync <connection> rackbeat:<number>`"
)


class WebshipperLifecycle:
    def account_name(self, connection: Connection) -> str:
        return f"Webshipper account {RackbeatWebshipperConnection.of(connection).accounts.webshipper.account}"

    def paused(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        suspended = deps.schedules.suspend(connection)
        return [
            "poll schedule removed, cursor kept" if suspended else "it had no poll schedule",
            "webhooks in Webshipper and Rackbeat stay registered; their deliveries are skipped while paused",
        ]

    def resuming(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        own = RackbeatWebshipperConnection.of(connection)
        made = deps.schedules.follow(own)
        polled = [
            "poll schedules "
            + ", ".join(f"{stream} {what}" for stream, what in sorted(made.items()))
            + f"; {RECOVERED_BY_POLL}"
        ]
        try:
            applied = activation.register_webhooks(own, deps.clients, deps.secrets, deps.webhook_base_url, deps.table)
            repaired = [f"webshipper:{topic}" for topic in applied.webshipper_topics] + [
                f"rackbeat:{event}" for event in applied.rackbeat_events
            ]
            lines = [f"webhooks re-registered: {', '.join(repaired)}" if repaired else "webhooks all there"]
        except CrossdockError as failed:
            lines = [f"webhooks not checked ({failed.reason}); the hourly self-check repairs them"]
        return [*polled, *lines, MISSED_DURING_PAUSE]

    def remove_webhooks(self, connection: Connection, deps: LifecycleDeps) -> WebhooksRemoved:
        own = RackbeatWebshipperConnection.of(connection)
        webshipper = deps.clients.webshipper(own)
        url = activation.webhook_url(deps.webhook_base_url, own.id)
        removed = sorted(
            hook.topic or hook.id
            for hook in webhooks.list_webhooks(webshipper)
            if hook.url == url and webhooks.delete_webhook(webshipper, hook.id)
        )
        rackbeat = rackbeat_webhook_upkeep.unfollow(
            own, deps.clients.rackbeat(own, paced=False), deps.table, deps.webhook_base_url
        )
        return WebhooksRemoved({"webshipper": removed, "rackbeat": rackbeat})

    def uninstall(self, connection: Connection, deps: LifecycleDeps, event_sk: str) -> Outcome:
        own = RackbeatWebshipperConnection.of(connection)
        previous = connections.set_state(deps.table, own.id, ConnectionState.UNINSTALLED, events.received_stamp())
        if previous is None:
            return Outcome.skipped(f"connection {own.id} no longer exists")
        names = connections.stored_secret_names(deps.table, own.id)
        for name in names:
            deps.secrets.delete(own.id, name)
        deps.schedules.stop(own)
        return Outcome.done(
            f"{self.account_name(own)} uninstalled: poll schedule removed, {len(names)} secrets deleted, history kept"
        )


LIFECYCLE = WebshipperLifecycle()
