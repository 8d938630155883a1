"""How an operator pauses, resumes and uninstalls a `rackbeat_shopify` connection (`integration.Lifecycle`, run by
`operations.lifecycle`).

Paused, the connection keeps its webhooks and poll schedules: dispatch and the order steps work only for an active
connection, so events that arrive meanwhile end `skipped`, and the reconciliation runs skip; once resumed, the next
sweep catches up on the orders and stock of the pause (`reconciliation`). Uninstall removes the shop's
subscriptions to this stack and the connection's Rackbeat webhooks, then does what Shopify's `app/uninstalled` does
(`lifecycle.uninstall`): the app stays installed in the shop, so its subscriptions would keep coming otherwise.
"""

from __future__ import annotations

from crossdock.connections.model import Connection
from crossdock.errors import CrossdockError, FailureClass
from crossdock.integration import LifecycleDeps, WebhooksRemoved
from crossdock.integrations.rackbeat_shopify import deactivation, lifecycle
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store.outcome import Outcome


def _own(connection: Connection) -> RackbeatShopifyConnection:
    assert isinstance(connection, RackbeatShopifyConnection)
    return connection


class ShopifyLifecycle:
    def account_name(self, connection: Connection) -> str:
        return _own(connection).shop_domain

    def paused(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        return ["events that arrive are skipped; reconciliation catches up once resumed"]

    def resuming(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        return ["reconciliation's next sweep picks up what the pause skipped"]

    def remove_webhooks(self, connection: Connection, deps: LifecycleDeps) -> WebhooksRemoved:
        """A Shopify token refused means the shop removed the app already, and its subscriptions went with it;
        any other failure is raised (the uninstall stops before the state changes)."""
        shop = _own(connection)
        notes: list[str] = []
        topics: list[str] = []
        try:
            topics = deactivation.remove_shopify_subscriptions(shop, deps.clients.shopify(shop), deps.webhook_base_url)
        except CrossdockError as failed:
            if failed.failure_class is not FailureClass.AUTH:
                raise
            notes.append(f"Shopify refused the shop's token ({failed.reason}): the app's subscriptions went with it")
        rackbeat = deactivation.remove_rackbeat_webhooks(
            shop, deps.clients.rackbeat(shop, paced=False), deps.webhook_base_url, deps.table
        )
        notes.append(
            "The app stays installed in the shop until its owner removes it; Shopify's app/uninstalled then changes "
            "nothing."
        )
        return WebhooksRemoved({"shopify": topics, "rackbeat": rackbeat}, notes)

    def uninstall(self, connection: Connection, deps: LifecycleDeps, event_sk: str) -> Outcome:
        return lifecycle.uninstall(deps.table, deps.secrets, _own(connection), event_sk, deps.schedules)


LIFECYCLE = ShopifyLifecycle()
