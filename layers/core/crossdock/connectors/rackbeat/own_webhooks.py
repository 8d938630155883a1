"""A connection's own Rackbeat webhooks: those whose URL is its address on this stack
(`/webhooks/rackbeat/<connection id>`), so connections sharing a Rackbeat account each keep theirs. Every kind that
hears Rackbeat registers at that address (ingest finds the connection by it) and removes only those."""

from __future__ import annotations

import contextlib
from collections.abc import Set

from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient


def connection_webhook_url(webhook_base_url: str, connection_id: str) -> str:
    return f"{webhook_base_url.rstrip('/')}/webhooks/rackbeat/{connection_id}"


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
