"""A connection's Rackbeat webhooks kept registered, for every kind: the events its settings need, to its address
`/webhooks/rackbeat/<connection id>`, re-created when missing or switched off.

Rackbeat issues a token per webhook, shown only when it is created; the tokens are kept with the connection's
secrets (`RACKBEAT_WEBHOOK_TOKENS`) so ingest can authenticate the deliveries. The account's list is compared
first, so a healthy connection costs one listing and gains no token (each creation issues a new one, which ingest
would then have to accept for good). Several connections on one Rackbeat account each register their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.ports import Secrets


def webhook_url(webhook_base_url: str, connection_id: str) -> str:
    return own_webhooks.connection_webhook_url(webhook_base_url, connection_id)


def repair(
    connection_id: str, rackbeat: RackbeatClient, secrets: Secrets, webhook_base_url: str, events: Iterable[str]
) -> list[str]:
    """Registers each of `events` the account has no active webhook to our address for; returns them."""
    url = webhook_url(webhook_base_url, connection_id)
    active = {
        str(hook.get("event"))
        for hook in rackbeat.iterate("webhooks", "webhooks")
        if hook.get("url") == url and hook.get("is_active", True)
    }
    missing = [event for event in events if event not in active]
    if not missing:
        return []
    tokens: list[str] = json.loads(secrets.get(connection_id, RACKBEAT_WEBHOOK_TOKENS) or "[]")
    for event in missing:
        token = rackbeat.post("webhooks", {"event": event, "url": url, "is_active": True})["webhook"].get("token")
        if token and token not in tokens:
            tokens.append(token)
        # Kept after each creation: a failure on the next event must not lose a token Rackbeat will send with.
        secrets.put(connection_id, RACKBEAT_WEBHOOK_TOKENS, json.dumps(tokens))
    return missing
