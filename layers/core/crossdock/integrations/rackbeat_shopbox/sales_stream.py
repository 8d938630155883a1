"""`sales#baskets`: the poll stream that reads Shopbox sales (baskets) and sends each one on to become one Rackbeat
order (issue 14, item 6). Shopbox sends no webhooks for sales and its basket list has no date filter, so each run
reads the list from its first page.

A run (`flows.poll` hands it `since` = cursor − `sales.overlap_minutes`, `until` = the run's start):
- reads `ShopboxClient.basket_pages()` page by page, newest first, and stops after the first page whose baskets
  are all older than `since` (by `tstamp`, the basket's last change): the pages behind it are older still. A list
  that turns out to be oldest first (a rising `crdate`) is read to its end, since its newest sales come last;
- keeps each basket once by uid, with its freshest row: rows shift between pages while sales arrive, so one basket
  may be read twice;
- sends one inbound message per basket changed since `since` that has not reached Rackbeat yet (no mapping):
  `baskets/sold`, or `baskets/canceled` for one cancelled later (`canceled: true` with a new `tstamp`) whose order
  is not yet cancelled or credited. Dispatch names each workflow after connection + basket uid, so a message sent
  twice — the overlap, a crash between reading and queuing, a sale listed late — starts its workflow once;
- once a day (the first run after midnight UTC) reaches back `sales.cancellation_days` more (default 1), for
  cancellations of older baskets: a cancelled basket keeps its place in the list (by `crdate`), which an ordinary
  run stops before;
- returns the newest `tstamp` it saw as the position (Shopbox's clock, not ours), or, when it had to stop early to
  stay inside the Lambda's time, the cursor it started from, so the next run reads the same window again.

Two runs at once are excluded by the poll flow's lease on the stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crossdock.connections.model import Connection
from crossdock.integrations.rackbeat_shopbox.order_workflow import SYSTEM, client_uid
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.ports import PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events, mappings

if TYPE_CHECKING:
    from crossdock.connectors.shopbox.shapes import BasketRow

STREAM = "sales#baskets"
SOURCE = "shopbox"
SOLD_TOPIC = "baskets/sold"
CANCELLED_TOPIC = "baskets/canceled"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DAY = 86_400
# EventBridge Scheduler's flexible window for poll schedules (docs/poll.md): a run may start this much late.
FLEXIBLE_WINDOW_SECONDS = 300
# Time a run keeps for what follows its reading: a mapping look-up per basket and the queuing.
SECONDS_RESERVE = 30.0
PER_PAGE = 100
# A basket whose order is cancelled or credited needs no more cancellation.
CANCEL_SETTLED = frozenset({"cancelled", "credited"})


def _epoch(position: str) -> float:
    return datetime.fromisoformat(position.replace("Z", "+00:00")).timestamp()


def _position(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime(TIME_FORMAT)


@dataclass
class Reading:
    """What one walk of the basket list saw."""

    baskets: dict[str, BasketRow] = field(default_factory=dict)  # by uid, the freshest row of each
    pages: int = 0
    rising: bool = False  # some crdate rose from one row to the next: the list is oldest first
    falling: bool = False
    complete: bool = True  # False: stopped for time before it had read far enough back

    @property
    def order(self) -> str:
        if self.rising:
            return "oldest_first"
        return "newest_first" if self.falling else "unknown"


def read_baskets(
    pages: Iterable[list[BasketRow]], reach: float, seconds_left: Callable[[], float], reserve: float = SECONDS_RESERVE
) -> Reading:
    """Reads pages until one lies wholly before `reach` in a newest-first list (the rest is older), or the list
    ends, or time runs short. An oldest-first list (or one whose order cannot be told yet) is read on."""
    reading = Reading()
    previous: int | None = None
    for page in pages:
        reading.pages += 1
        for row in page:
            if previous is not None and row.crdate != previous:
                if row.crdate > previous:
                    reading.rising = True
                else:
                    reading.falling = True
            previous = row.crdate
            uid = str(row.uid)
            kept = reading.baskets.get(uid)
            if kept is None or row.tstamp > kept.tstamp:
                reading.baskets[uid] = row
        if reading.falling and not reading.rising and page and all(row.tstamp < reach for row in page):
            return reading
        if seconds_left() < reserve:
            reading.complete = False
            return reading
    return reading


def daily_reread(until: float, poll_minutes: int) -> bool:
    """The first run after midnight UTC (within one interval and the scheduler's flexible window)."""
    return until % DAY < poll_minutes * 60 + FLEXIBLE_WINDOW_SECONDS


class BasketStream:
    """`ports.StreamHandler` of `sales#baskets`."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        sales = _settings(connection).sales
        if not sales.enabled:
            return None
        return StreamSchedule.every(sales.poll_minutes, f"Crossdock Shopbox sales, client {client_uid(connection)}")

    def overlap(self, connection: Connection) -> float:
        return float(_settings(connection).sales.overlap_minutes * 60)

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return poll_baskets(connection, since, until, ports)


def _settings(connection: Connection) -> RackbeatShopboxSettings:
    settings = connection.settings
    assert isinstance(settings, RackbeatShopboxSettings)
    return settings


def poll_baskets(connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
    sales = _settings(connection).sales
    overlap = sales.overlap_minutes * 60
    started = _epoch(until)
    # A first run (just activated) looks back one interval and the overlap: to about when its schedule was made.
    window_start = _epoch(since) if since is not None else started - sales.poll_minutes * 60 - overlap
    # Where the run started from (on Shopbox's clock); a first run has none: its window's start is its floor, so a
    # till whose newest basket is older never sets the cursor back before what was read.
    cursor = window_start + overlap if since is not None else window_start
    daily = since is not None and daily_reread(started, sales.poll_minutes)
    reach = window_start - DAY * sales.cancellation_days if daily else window_start
    shopbox = ports.clients.shopbox(connection)
    reading = read_baskets(shopbox.basket_pages(per_page=PER_PAGE), reach, ports.seconds_left)
    sold: list[str] = []
    cancelled: list[str] = []
    messages = []
    for uid, row in sorted(reading.baskets.items(), key=lambda pair: (pair[1].tstamp, pair[0])):
        if row.tstamp < reach:
            continue
        mapped = mappings.get_mapping(ports.table, connection.id, "order", SYSTEM, uid)
        if row.canceled:
            if mapped is not None and mapped.get("status") in CANCEL_SETTLED:
                continue
            messages.append(basket_message(connection.id, CANCELLED_TOPIC, row))
            cancelled.append(uid)
        elif mapped is None:
            messages.append(basket_message(connection.id, SOLD_TOPIC, row))
            sold.append(uid)
    newest = max((row.tstamp for row in reading.baskets.values()), default=None)
    if not reading.complete:
        # Newest first, the baskets between `reach` and where it stopped are unread: the next run starts here again.
        position = cursor if since is not None else window_start + overlap
    elif newest is None:
        position = cursor if since is not None else started
    else:
        position = max(cursor, newest)
    report: dict[str, Any] = {
        "reach": _position(reach),
        "daily_reread": daily,
        "pages_read": reading.pages,
        "listing_order": reading.order,
        "baskets_seen": len(reading.baskets),
        "sold_enqueued": sold,
        "cancellations_enqueued": cancelled,
        "complete": reading.complete,
    }
    return PollResult(messages, _position(position), report)


def basket_message(connection_id: str, topic: str, row: BasketRow) -> dict[str, Any]:
    """An inbound message as ingest would queue a webhook: the basket's list row (the workflow reads its lines)."""
    payload = {
        "uid": str(row.uid),
        "crdate": row.crdate,
        "tstamp": row.tstamp,
        "canceled": bool(row.canceled),
        "branch": None if row.branch is None else str(row.branch),
        "cash_register": None if row.cash_register is None else str(row.cash_register),
    }
    return {
        "source": SOURCE,
        "connection_id": connection_id,
        # Names the basket and the change it reports, for an operator reading the event log.
        "event_id": f"basket-{row.uid}-{topic.split('/')[1]}-{row.tstamp}",
        "topic": topic,
        "received_at": events.received_stamp(),
        "payload": json.dumps(payload, separators=(",", ":")),
    }


STREAMS: dict[str, StreamHandler] = {STREAM: BasketStream()}
