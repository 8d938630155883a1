"""`products#shopbox`: the poll stream that finds Shopbox products changed since the last run (`product_sync`
`shopbox` or `both`, issue 14 item 4). Shopbox sends no product webhooks; Rackbeat's own integration reads
products every two hours, this stream every `POLL_MINUTES`.

A run (`flows.poll` hands it `since` = cursor − `OVERLAP_SECONDS`, `until` = the run's start) reads the product
list (`ShopboxClient.products()`, every page: the list has no date filter) and sends one `products/changed` message
per product whose `tstamp` (its last change, on Shopbox's clock) is at or after `since`; dispatch reads the product
again and upserts its Rackbeat items (`products.shopbox_product_changed`). The overlap sends a product twice now
and then, and a product our own push changed comes back: both are skipped there by the mapping's fingerprint.

A first run (no cursor: just activated, or product sync just switched on) sends nothing and starts at the newest
`tstamp` it saw: what was there before is the initial sync's (or was chosen not to be copied).
"""

from __future__ import annotations

from datetime import UTC, datetime

from crossdock.connections.model import Connection
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.products import FROM_SHOPBOX, changed_message
from crossdock.ports import PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events

STREAM = "products#shopbox"
POLL_MINUTES = 15
# Shopbox's clock and ours differ, and a change may be listed a little late: a run reaches this far back.
OVERLAP_SECONDS = 600.0
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _epoch(position: str) -> int:
    return int(datetime.fromisoformat(position.replace("Z", "+00:00")).timestamp())


def _position(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime(TIME_FORMAT)


class ProductStream:
    def schedule(self, connection: Connection) -> StreamSchedule | None:
        settings = RackbeatShopboxConnection.of(connection).settings
        if settings.product_sync not in FROM_SHOPBOX:
            return None
        return StreamSchedule.every(POLL_MINUTES, f"Shopbox products changed, into Rackbeat ({connection.id})")

    def overlap(self, connection: Connection) -> float | None:
        return OVERLAP_SECONDS

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        shopbox = ports.clients.shopbox(RackbeatShopboxConnection.of(connection))
        start = None if since is None else _epoch(since)
        # The cursor itself (since + overlap): a run that sees nothing newer leaves it there.
        newest = 0 if start is None else start + int(OVERLAP_SECONDS)
        changed: list[tuple[str, int]] = []
        read = 0
        for product in shopbox.products():
            read += 1
            tstamp = int(product.tstamp or 0)
            newest = max(newest, tstamp)
            if start is not None and tstamp >= start:
                changed.append((str(product.uid), tstamp))
        stamp = events.received_stamp()
        messages = [changed_message(connection.id, uid, tstamp, stamp) for uid, tstamp in changed]
        report = {"products_read": read, "changed": [uid for uid, _ in changed], "first_run": since is None}
        # The newest change seen is where the next run starts (less the overlap); nothing seen: where this one did.
        return PollResult(messages, _position(newest) if newest else until, report)


STREAMS: dict[str, StreamHandler] = {STREAM: ProductStream()}
