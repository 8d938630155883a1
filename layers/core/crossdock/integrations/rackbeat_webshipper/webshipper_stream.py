"""`webshipper#orders`: the poll stream that finds what Webshipper's webhooks did not bring (issue 15) — a delivery
lost on the way, or everything Webshipper announced while the connection was paused — and has the existing routes
handle it. It repairs nothing itself: it returns the inbound messages a webhook or the operator's manual sync would
have caused, the poll flow queues them, and dispatch does the work with the routes' own guarantees.

A run (`flows.poll` hands it `since` = cursor − `OVERLAP_SECONDS`, `until` = the run's start):
- lists the orders Webshipper changed since `since` (`orders_updated_since`: `filter[updated_at]` with the operator
  form, [seen W4] the form, [guess] the operator `gte`). The fact sheet documents no sort order (the simulator lists
  oldest id first), so the run reads the listing to its end and never stops on a date; each order is kept once, by
  id, with its freshest row (a row shifts to the next page while orders change). The window is checked again on
  our side, in case the filter is ignored;
- per order, with the table's mappings first, so that an order handled already costs no call:
  - not ours (`import_mapping.is_ours`), importable under the settings (`order_transfer`, not cancelled), and not
    bound to a Rackbeat order (`MAP#order#webshipper#<id>`): an `orders/sync` request for it (source `crossdock`,
    the manual sync's route): it imports the order (marker first: an order a lost answer made is adopted) and ships
    in Rackbeat what Webshipper shipped of it, each shipment once, with the tracking hand-over;
  - ours, or imported already, with a line Webshipper dispatched (or its status says so): its shipments are read
    (`GET /orders/{id}/shipments`, the one call an order may cost) unless the run before found them all mirrored at
    this same `updated_at` (`MAP#polled#webshipper#<id>`); each shipment not a return and not `done`
    (`MAP#shipment#webshipper#<id>`) gets the `shipment/created` message Webshipper would have sent (the same route:
    Rackbeat order shipped, note line, tracking). When none is missing, that fact is kept for the order's
    `updated_at` — a cache of what the table already says, written only when nothing is to be sent, so a run that
    fails before its messages are queued loses nothing. A new shipment changes the order (its lines are dispatched),
    so its `updated_at` moves and the shipments are read again;
  - anything else (an order of ours still pending, an imported order not shipped, a cancelled order, an order the
    settings do not import) costs no call and sends nothing;
- returns `until` as the position (our clock; the overlap covers a listing that shows a change late and a
  Webshipper clock a little behind ours), or — when it had to stop for the Lambda's time, or because Webshipper
  answered 429 or 5xx past what its client waits out — the cursor it started from, so the next run reads the same
  window again; what it found until then is sent all the same (and handled once), so a long backlog moves on.

The first run (no cursor: activated, re-installed) starts at the connection's activation (`state_changed_at`, less
the overlap) but never more than `FIRST_RUN_REACH` back: Webshipper's webhooks were registered at activation, so
that is what they could have brought; an order changed before was never the connection's business.

Nothing here removes duplicates: the overlap and a repeated window send a message twice, a webhook that was only
late meets its poll message. The routes make that harmless: an import holds a lease per order and adopts by its
marker, a shipment a lease per shipment and its `done` mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.webshipper import orders as webshipper_orders
from crossdock.connectors.webshipper.shapes import WebshipperOrder, parse_time
from crossdock.errors import RetryableError, Skip
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.import_mapping import check_importable, is_ours
from crossdock.integrations.rackbeat_webshipper.manual_sync import SYNC_TOPIC, WEBSHIPPER_KEY
from crossdock.integrations.rackbeat_webshipper.order_import import imported_number
from crossdock.integrations.rackbeat_webshipper.shipped_to_rackbeat import SHIPMENT
from crossdock.integrations.rackbeat_webshipper.shipped_to_rackbeat import WEBSHIPPER as SHIPPED_IN
from crossdock.ports import PollEvent, PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events, keys, mappings
from crossdock.topics import CROSSDOCK_SOURCE

STREAM = "webshipper#orders"
SOURCE = "webshipper"
SHIPMENT_CREATED = "shipment/created"
POLL_TOPIC = "webshipper/poll"  # the run's own event, when it sent something
# The sweep's mark on what it sends (as the Shopify kind's reconciliation): an operator reading the log sees it.
REDRIVE = "reconciliation"
POLL_MINUTES = 5
# Webshipper's filter runs on its own clock and the cursor is ours: two minutes cover a clock a little behind and a
# listing that shows a change a moment late (docs/poll.md: a listing slow to index needs about two).
OVERLAP_SECONDS = 120
# A first run reaches back to the activation, but at most this far (a connection activated before the stream
# existed gets its first run at its next save or resume; a day of lost webhooks is recovered, not its history).
FIRST_RUN_REACH = 86_400
# Time a run keeps for what follows its reading: a mapping read or a shipment listing per order, and the queuing;
# and, while it looks at the orders, for the queuing alone.
SECONDS_RESERVE = 30.0
QUEUING_RESERVE = 15.0
# `MAP#polled#webshipper#<order id>` → the order's `updated_at` at which its shipments were all found mirrored.
POLLED = "polled"
DISPATCHED = frozenset({"dispatched", "partly_dispatched"})
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SHOWN = 10  # order and shipment ids named in the run's event


def _epoch(position: str) -> float:
    return datetime.fromisoformat(position.replace("Z", "+00:00")).timestamp()


def _position(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime(TIME_FORMAT)


class OrderStream:
    """`ports.StreamHandler` of `webshipper#orders`: on for every connection of the kind (with `order_transfer`
    `rackbeat_to_webshipper` it still mirrors the shipments of the orders we sent)."""

    def schedule(self, connection: Connection) -> StreamSchedule:
        account = RackbeatWebshipperConnection.of(connection).accounts.webshipper.account
        return StreamSchedule.every(POLL_MINUTES, f"Crossdock Webshipper orders, account {account}")

    def overlap(self, connection: Connection) -> float:
        return float(OVERLAP_SECONDS)

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return poll_orders(RackbeatWebshipperConnection.of(connection), since, until, ports)


@dataclass
class Reading:
    """What one walk of the listing saw."""

    orders: dict[str, WebshipperOrder] = field(default_factory=dict)  # by id, the freshest row of each
    listed: int = 0  # rows, repeats included
    stopped: str | None = None  # why it stopped before the listing ended (time, Webshipper busy)
    busy: RetryableError | None = None  # Webshipper's answer, when that was why


def read_orders(rows: Iterable[WebshipperOrder], reach: float, ports: PollPorts) -> Reading:
    """The listing to its end (no documented sort order to stop on), or until time runs short or Webshipper
    turns busy (a 429 or 5xx the client could not wait out): what was read is looked at all the same."""
    reading = Reading()
    try:
        for order in rows:
            reading.listed += 1
            changed = _changed(order)
            if changed is not None and changed < reach:
                continue  # older than the window: the filter was ignored or read otherwise
            kept = reading.orders.get(order.id)
            if kept is None or (_changed(kept) or 0.0) <= (changed or 0.0):
                reading.orders[order.id] = order
            if ports.seconds_left() < SECONDS_RESERVE:
                reading.stopped = "short of time"
                break
    except RetryableError as busy:
        reading.stopped, reading.busy = busy.reason, busy
    return reading


def _changed(order: WebshipperOrder) -> float | None:
    moment = parse_time(order.updated_at)
    return moment.timestamp() if moment is not None else None


def activated_at(table: Any, connection_id: str) -> float | None:
    """When the connection last became active (the state's stamp), or None when it has none."""
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.META}, ProjectionExpression="state_changed_at"
    ).get("Item")
    stamp = parse_time(str(item["state_changed_at"])) if item and item.get("state_changed_at") else None
    return stamp.timestamp() if stamp is not None else None


def window_start(connection_id: str, since: str | None, started: float, ports: PollPorts) -> float:
    if since is not None:
        return _epoch(since)
    floor = started - FIRST_RUN_REACH
    activated = activated_at(ports.table, connection_id)
    return floor if activated is None else max(floor, activated - OVERLAP_SECONDS)


def may_have_shipments(order: WebshipperOrder) -> bool:
    """Webshipper dispatched something of it: a shipment, or our `PATCH status=dispatched` (then it has none)."""
    return order.status in DISPATCHED or any(line.status == "dispatched" for line in order.lines)


@dataclass
class Found:
    messages: list[dict[str, Any]] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # Webshipper order ids sent as `orders/sync`
    shipments: list[str] = field(default_factory=list)  # Webshipper shipment ids sent as `shipment/created`
    shipment_listings: int = 0  # `GET /orders/{id}/shipments` calls


def poll_orders(
    connection: RackbeatWebshipperConnection, since: str | None, until: str, ports: PollPorts
) -> PollResult:
    started = _epoch(until)
    begin = window_start(connection.id, since, started, ports)
    webshipper = ports.clients.webshipper(connection)
    reading = read_orders(webshipper_orders.orders_updated_since(webshipper, _position(begin)), begin, ports)
    found = Found()
    stopped, busy = reading.stopped, reading.busy
    for order in sorted(reading.orders.values(), key=lambda o: (_changed(o) or 0.0, len(o.id), o.id)):
        if ports.seconds_left() < QUEUING_RESERVE:
            stopped = "short of time"
            break
        try:
            _look_at(connection, order, webshipper, ports, found)
        except RetryableError as answered:
            # What was found so far is sent; the next run looks at the same window again.
            stopped, busy = answered.reason, answered
            break
    if busy is not None and not found.messages:
        # Nothing to send: the run fails as it is (reported, counted, its cursor kept), as any other would.
        raise busy
    # Incomplete: the next run reads the same window again (its cursor stays; the flow moves it a second on).
    position = _position(started if stopped is None else begin + OVERLAP_SECONDS)
    report: dict[str, Any] = {
        "since": _position(begin),
        "orders_listed": reading.listed,
        "orders_seen": len(reading.orders),
        "imports_enqueued": found.imports,
        "shipments_enqueued": found.shipments,
        "shipment_listings": found.shipment_listings,
        "complete": stopped is None,
    }
    if stopped is not None:
        report["stopped"] = stopped
    return PollResult(found.messages, position, report, _event(found, _position(begin), until))


def _look_at(
    connection: RackbeatWebshipperConnection,
    order: WebshipperOrder,
    webshipper: Any,
    ports: PollPorts,
    found: Found,
) -> None:
    settings = connection.settings
    ours = is_ours(order, settings)
    if not ours:
        bound = imported_number(ports.table, connection.id, order.id)
        if bound is None:
            try:
                check_importable(order, settings)
            except Skip:
                return  # the settings or the order say it is not imported; a webhook would have been skipped too
            found.messages.append(sync_message(connection.id, order))
            found.imports.append(order.id)
            return
    if not may_have_shipments(order):
        return
    checked = mappings.get_mapping(ports.table, connection.id, POLLED, SOURCE, order.id)
    if checked is not None and checked.get("target_id") == order.updated_at:
        return
    found.shipment_listings += 1
    missing = []
    for shipment in webshipper_orders.order_shipments(webshipper, order.id):
        if shipment.is_return:
            continue
        done = mappings.get_mapping(ports.table, connection.id, SHIPMENT, SHIPPED_IN, shipment.id)
        if done is None or done.get("status") != "done":
            missing.append(shipment.id)
    for shipment_id in missing:
        found.messages.append(shipment_message(connection.id, shipment_id))
        found.shipments.append(shipment_id)
    if not missing and order.updated_at:
        mappings.put_mapping(ports.table, connection.id, POLLED, SOURCE, order.id, order.updated_at)


def sync_message(connection_id: str, order: WebshipperOrder) -> dict[str, Any]:
    """The manual sync's request for the order (`manual_sync.run`): imported, then what Webshipper shipped of it."""
    return _message(
        connection_id,
        CROSSDOCK_SOURCE,
        SYNC_TOPIC,
        f"poll-order-{order.id}-{order.updated_at or '-'}",
        {WEBSHIPPER_KEY: order.id},
    )


def shipment_message(connection_id: str, shipment_id: str) -> dict[str, Any]:
    """What Webshipper's `shipment/created` would have brought: the route reads only `data.id` and the shipment
    again."""
    return _message(
        connection_id,
        SOURCE,
        SHIPMENT_CREATED,
        f"poll-shipment-{shipment_id}",
        {"data": {"type": "shipments", "id": shipment_id}},
    )


def _message(connection_id: str, source: str, topic: str, event_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": source,
        "connection_id": connection_id,
        "event_id": event_id,
        "topic": topic,
        "received_at": events.received_stamp(),
        "payload": json.dumps(payload, separators=(",", ":")),
        "redrive": REDRIVE,
    }


def _event(found: Found, since: str, until: str) -> PollEvent | None:
    """An entry in the connection's log when the run sent something (a quiet run writes none)."""
    if not found.messages:
        return None
    parts = []
    if found.imports:
        parts.append(f"{len(found.imports)} order(s) not in Rackbeat sent to be imported: {_listed(found.imports)}")
    if found.shipments:
        parts.append(f"{len(found.shipments)} shipment(s) not mirrored sent on: {_listed(found.shipments)}")
    payload = json.dumps(
        {"since": since, "until": until, "orders": found.imports, "shipments": found.shipments},
        separators=(",", ":"),
    )
    return PollEvent(POLL_TOPIC, f"Webshipper changes since {since}: " + "; ".join(parts), payload)


def _listed(ids: list[str]) -> str:
    return ", ".join(ids[:SHOWN]) + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


STREAMS: dict[str, StreamHandler] = {STREAM: OrderStream()}
