"""The app's lifecycle in a shop: the uninstall and the mandatory privacy webhooks (reference/shopify.md, "Webhooks").

Dispatch hands these topics here whatever the connection's state: `app/uninstalled` is what deactivates it, and the
privacy topics keep coming after that (`shop/redact` arrives 48 hours after the uninstall).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET
from crossdock.integrations.rackbeat_shopify import privacy
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.ports import ConnectionSchedules
from crossdock.store import connections, events
from crossdock.store.outcome import Outcome
from crossdock.store.secrets import SecretStore

LIFECYCLE_TOPICS = frozenset({"app/uninstalled", "customers/data_request", "customers/redact", "shop/redact"})

# The app secret outlives the uninstall: it verifies the privacy webhooks still to come.
KEPT_AFTER_UNINSTALL = frozenset({SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET})

_PRIVACY: dict[str, Callable[[privacy.PrivacyContext, str], Outcome]] = {
    "customers/data_request": privacy.report_customer_data,
    "customers/redact": privacy.redact_customer,
    "shop/redact": privacy.redact_shop,
}


def handle_lifecycle_event(
    table: Any,
    secrets: SecretStore,
    connection: RackbeatShopifyConnection,
    topic: str,
    payload: str,
    event_sk: str,
    schedules: ConnectionSchedules | None = None,
) -> Outcome:
    """The outcome of one lifecycle event; `event_sk` is the event's own entry in the log, whose payload the
    privacy flows drop once handled."""
    if topic == "app/uninstalled":
        return uninstall(table, secrets, connection, event_sk, schedules)
    handler = _PRIVACY.get(topic)
    if handler is None:
        return Outcome.skipped(f"no flow handles shopify event {topic}")
    return handler(privacy.PrivacyContext(table, secrets, connection, event_sk, events.received_stamp()), payload)


def uninstall(
    table: Any,
    secrets: SecretStore,
    connection: RackbeatShopifyConnection,
    event_sk: str,
    schedules: ConnectionSchedules | None = None,
) -> Outcome:
    """Deactivates the connection and deletes its Shopify tokens; Rackbeat's side is the merchant's and stays.

    Every stored `shopify_*` secret but the app secret goes, so token kinds added later (refresh token, expiry)
    are deleted without a change here. Work for the shop stops because everything that acts on a connection
    checks that it is active; its poll schedules are removed (without `schedules` here, each stream's next run
    removes its own, finding the connection uninstalled).
    """
    shop = connection.shop_domain
    now = events.received_stamp()
    previous = connections.set_state(table, connection.id, ConnectionState.UNINSTALLED, now)
    if previous is None:
        return Outcome.skipped(f"app uninstalled from {shop}: connection {connection.id} no longer exists")
    tokens = [name for name in connections.stored_secret_names(table, connection.id) if _is_shopify_token(name)]
    for name in tokens:
        secrets.delete(connection.id, name)
    if schedules is not None:
        schedules.stop(connection)
    # The payload is the shop's record (owner's name, e-mail, phone, address) and Crossdock reads nothing in it.
    events.redact_payload(table, connection.id, event_sk, privacy.redaction_marker("app/uninstalled"), now)
    if previous is ConnectionState.UNINSTALLED and not tokens:
        return Outcome.skipped(f"app uninstalled from {shop}: connection already deactivated, no Shopify token left")
    return Outcome.done(f"app uninstalled from {shop}: connection deactivated, Shopify token deleted")


def _is_shopify_token(secret_name: str) -> bool:
    return secret_name.startswith("shopify_") and secret_name not in KEPT_AFTER_UNINSTALL
