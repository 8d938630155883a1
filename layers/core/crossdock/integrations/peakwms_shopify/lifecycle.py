"""How an operator pauses, resumes and uninstalls a `peakwms_shopify` connection (`integration.Lifecycle`, run by
`operations.lifecycle`).

- **pause**: the sweeps' schedules are removed and their cursors kept (`ConnectionSchedules.suspend`, as the
  Webshipper kind does). The webhooks in both systems (registered by the guided setup's steps) stay; their
  deliveries end `skipped` (dispatch handles events of active connections only).
- **resume**: the sweeps' schedules are put back, then the state becomes active again; the webhooks were never
  removed. The first runs read from the kept cursors: the Shopify orders of the pause reach PeakWMS
  (`shopify_order_stream`) and the orders PeakWMS packed meanwhile are fulfilled (`peakwms_order_stream`). The
  pause's other messages (stock, EAN, refunds, cancellations) are not replayed, and resume says so.
- **uninstall**: the connection's webhooks go first — in PeakWMS every registration to this connection's addresses
  (`/webhooks/peakwms/<connection id>/…`: another shop of the same PeakWMS account keeps its own), in Shopify every
  subscription of the shop's custom app to this stack's address — then the state becomes `uninstalled` and every
  stored secret is deleted (the Shopify token and API secret, the PeakWMS API key and webhook key) and the sweeps'
  schedules go with their cursors. Its history —
  events, mappings, settings versions, the setup's progress — stays. The custom app itself stays in the shop: the
  merchant deletes it there.
"""

from __future__ import annotations

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.peakwms import webhooks as peakwms_webhooks
from crossdock.connectors.shopify import queries, webhook_subscriptions
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import LifecycleDeps, WebhooksRemoved
from crossdock.integrations.peakwms_shopify.connection import KIND, PeakwmsShopifyConnection
from crossdock.store import connections, events
from crossdock.store.outcome import Outcome

RECOVERED_BY_SWEEPS = (
    "the next sweeps send the orders Shopify took during the pause and fulfil those PeakWMS packed meanwhile"
)
MISSED_DURING_PAUSE = (
    "PeakWMS's other messages (stock, EAN, refunds) and Shopify's cancellations of the pause were skipped: "
    "`crossdock events list <connection> --status skipped` shows them, `events retry` sends one again"
)


def shopify_webhook_uri(webhook_base_url: str) -> str:
    """Where the shop's custom app delivers (the generic `/webhooks/{kind}/{source}` route)."""
    return f"{webhook_base_url.rstrip('/')}/webhooks/{KIND}/shopify"


def peakwms_webhook_prefix(webhook_base_url: str, connection_id: str) -> str:
    """The start of every PeakWMS address of the connection (`…/{event}?key=…` follows)."""
    return f"{webhook_base_url.rstrip('/')}/webhooks/peakwms/{connection_id}/"


class PeakwmsLifecycle:
    def account_name(self, connection: Connection) -> str:
        own = PeakwmsShopifyConnection.of(connection)
        return f"{own.shop_domain} (PeakWMS account {own.peakwms_account})"

    def paused(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        suspended = deps.schedules.suspend(connection)
        return [
            "webhooks in PeakWMS and Shopify stay registered; their deliveries are skipped while paused",
            "sweep schedules removed, cursors kept" if suspended else "it had no sweep schedules",
        ]

    def resuming(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        made = deps.schedules.follow(connection)
        swept = ", ".join(f"{stream} {what}" for stream, what in sorted(made.items()))
        return [
            f"sweep schedules {swept}; {RECOVERED_BY_SWEEPS}",
            "webhooks in PeakWMS and Shopify were kept during the pause",
            MISSED_DURING_PAUSE,
        ]

    def remove_webhooks(self, connection: Connection, deps: LifecycleDeps) -> WebhooksRemoved:
        own = PeakwmsShopifyConnection.of(connection)
        peakwms = deps.clients.peakwms(own)
        prefix = peakwms_webhook_prefix(deps.webhook_base_url, own.id)
        notes = []
        listed = peakwms_webhooks.list_webhooks(peakwms)
        if listed is None:
            # [guess] a PeakWMS without the list: the deliveries to our addresses end at 401 once the key is gone.
            notes.append(f"PeakWMS lists no webhooks: remove those to {prefix}… in PeakWMS's settings")
        removed_peakwms = sorted(
            _event_of(str(hook["url"]), prefix)
            for hook in listed or []
            if str(hook.get("url") or "").startswith(prefix) and peakwms_webhooks.delete_webhook(peakwms, hook["id"])
        )
        removed_shopify = remove_shopify_subscriptions(own, deps.clients.shopify(own), deps.webhook_base_url)
        return WebhooksRemoved({"peakwms": removed_peakwms, "shopify": removed_shopify}, notes)

    def uninstall(self, connection: Connection, deps: LifecycleDeps, event_sk: str) -> Outcome:
        own = PeakwmsShopifyConnection.of(connection)
        previous = connections.set_state(deps.table, own.id, ConnectionState.UNINSTALLED, events.received_stamp())
        if previous is None:
            return Outcome.skipped(f"connection {own.id} no longer exists")
        names = connections.stored_secret_names(deps.table, own.id)
        for name in names:
            deps.secrets.delete(own.id, name)
        deps.schedules.stop(own)
        return Outcome.done(
            f"{self.account_name(own)} uninstalled: sweep schedules removed, {len(names)} secrets deleted, history kept"
        )


def remove_shopify_subscriptions(
    connection: PeakwmsShopifyConnection, shopify: ShopifyAdmin, webhook_base_url: str
) -> list[str]:
    """Deletes the custom app's subscriptions to this stack's address; returns their topics (the app sees only its
    own subscriptions, so another app's in the same shop are never touched)."""
    uri = shopify_webhook_uri(webhook_base_url)
    removed = []
    for found in webhook_subscriptions.subscriptions(shopify):
        if found.uri != uri:
            continue
        answer = shopify.run(queries.DELETE_WEBHOOK_SUBSCRIPTION, {"id": found.id})["webhookSubscriptionDelete"]
        problems = [
            error["message"] for error in answer.get("userErrors") or [] if "does not exist" not in error["message"]
        ]
        if problems:
            raise PermanentError(
                f"Shopify refused to delete the {found.topic} subscription of {connection.shop_domain}: "
                + "; ".join(problems),
                FailureClass.BUG,
            )
        removed.append(found.topic)
    return sorted(removed)


def _event_of(url: str, prefix: str) -> str:
    return url[len(prefix) :].split("?", 1)[0] or url


LIFECYCLE = PeakwmsLifecycle()
