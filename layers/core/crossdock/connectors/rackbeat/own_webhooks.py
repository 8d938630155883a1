"""Our Rackbeat webhooks, found by their URL on this stack.

Since issue 18 a Rackbeat account has one webhook per event, to the account's address
(`/webhooks/rackbeat/account/<account key>`), which ingest fans out to every connection on the account that wants
the event: Rackbeat sends each change once, however many shops, Shopbox clients and warehouses follow it. Releases
before registered one webhook per connection (`/webhooks/rackbeat/<connection id>`); that address still takes their
deliveries, and those webhooks are removed once the connection follows the account's.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Set

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient


def account_key(account: RackbeatAccount) -> str | None:
    """What names the account in its webhook address and in what its connections share (reads, webhooks): a digest
    of its API base and company id, so the address says nothing of the company; None while the id is unknown."""
    if account.account_id is None:
        return None
    return hashlib.sha256(f"{account.api_base.rstrip('/')}|{account.account_id}".encode()).hexdigest()[:32]


def account_webhook_url(webhook_base_url: str, key: str) -> str:
    return f"{webhook_base_url.rstrip('/')}/webhooks/rackbeat/account/{key}"


def connection_webhook_url(webhook_base_url: str, connection_id: str) -> str:
    """The address of a connection's own webhooks, as releases before issue 18 registered them."""
    return f"{webhook_base_url.rstrip('/')}/webhooks/rackbeat/{connection_id}"


def active_events(rackbeat: RackbeatClient, url: str) -> set[str]:
    """The events the account has an active webhook to `url` for (one listing)."""
    return {
        str(hook.get("event"))
        for hook in rackbeat.iterate("webhooks", "webhooks")
        if hook.get("url") == url and hook.get("is_active", True)
    }


def remove(rackbeat: RackbeatClient, url: str, keep: Set[str] = frozenset()) -> list[str]:
    """Deletes the account's webhooks to `url` but those of the `keep` events; returns the events removed, sorted.
    One gone meanwhile (404) is what was wanted."""
    ours = [hook for hook in rackbeat.iterate("webhooks", "webhooks") if hook.get("url") == url]
    removed = []
    for hook in ours:
        if hook.get("event") in keep:
            continue
        with contextlib.suppress(NotFound):
            rackbeat.delete(f"webhooks/{hook['id']}")
        removed.append(str(hook.get("event")))
    return sorted(removed)
