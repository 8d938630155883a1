"""`shopify#orders`: the poll stream that finds the Shopify orders whose webhooks never reached a `peakwms_shopify`
connection — lost on the way, or delivered (and skipped) while the connection was paused — and has the existing
order routes (`shopify_webhooks`) send them to PeakWMS. It repairs nothing itself: it returns the `orders/updated`
message Shopify would have sent (the order as it is now, in the webhook's REST shape), the poll flow queues it, and
dispatch handles it with the route's own guarantees (the order's binding and lease, the look-up by `orderId`
before a create: once, whatever else arrives).

A run (`flows.poll` hands it `since` = cursor − `OVERLAP_SECONDS`, `until` = the run's start):
- does nothing before setup step `receive_orders` is done (`store.setup_progress`): orders are not the
  connection's business until the merchant started receiving them, and none of before the step's completion ever
  is (docs/known-limits.md: orders open then reach PeakWMS at their next change). So the window starts at the
  step's `finished_at` (less the overlap) at the earliest, whatever the cursor says;
- lists the orders Shopify updated in the window, oldest update first (`order_query.orders_updated`, 100 a page,
  at most `MAX_ORDERS` a run; a backlog continues from the last one looked at);
- per order, the binding first (no Shopify call for an order handled already):
  - no binding, not cancelled, not fulfilled: sent (the route creates it in PeakWMS, or skips a POS sale with
    `use_shopify_pos` off, and says so);
  - bound, not cancelled in the binding, and cancelled in Shopify: the order is read (one query) and sent; the route
    cancels the sales order (or, picked already, says so);
  - any other bound order: nothing. A lost `orders/updated` of an order PeakWMS has is not recovered: the Admin
    API's order read (`order_query.fetch_order`) carries no `current_quantity` per line, so an order planned from
    it would put refunded or edited-away units back (docs/known-limits.md);
  - cancelled (or deleted) first, or up to date: nothing.
- returns `until` as the position, or, when it stopped at `MAX_ORDERS` or short of time, the last order's update
  (the poll flow moves a cursor standing still a second on).

Nothing here removes duplicates: the overlap and a repeated window send an order twice, a webhook that was only
late meets its poll message. The route makes that harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.shopify import order_query
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.integrations.peakwms_shopify import order_binding
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.setup import RECEIVE_ORDERS
from crossdock.ports import PollEvent, PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events, setup_progress

STREAM = "shopify#orders"
SOURCE = "shopify"
ORDER_UPDATED = "orders/updated"
POLL_TOPIC = "crossdock/peakwms_order_sweep"  # the run's own event, when it sent something
REDRIVE = "reconciliation"
POLL_MINUTES = 10
# Shopify's order search is indexed a moment after the change (docs/poll.md: about two minutes); five cover it.
OVERLAP_SECONDS = 300
MAX_ORDERS = 5 * order_query.SUMMARY_PAGE  # ~510 query points of the shop's bucket, plus a read per changed order
SECONDS_RESERVE = 30.0
SHOWN = 10


class ShopifyOrderStream:
    """`ports.StreamHandler` of `shopify#orders`: on for every connection of the kind (idle until `receive_orders`
    is done)."""

    def schedule(self, connection: Connection) -> StreamSchedule:
        shop = PeakwmsShopifyConnection.of(connection).shop_domain
        return StreamSchedule.every(POLL_MINUTES, f"Crossdock Shopify orders for PeakWMS, {shop}")

    def overlap(self, connection: Connection) -> float:
        return float(OVERLAP_SECONDS)

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return sweep_orders(PeakwmsShopifyConnection.of(connection), since, until, ports)


def receiving_since(table: Any, connection_id: str) -> float | None:
    """When setup step `receive_orders` was done (its `finished_at`), or None while it is not."""
    progress = setup_progress.load(table, connection_id, RECEIVE_ORDERS)
    if not progress or progress.get("status") != setup_progress.DONE or not progress.get("finished_at"):
        return None
    stamp = datetime.fromisoformat(str(progress["finished_at"]).replace("Z", "+00:00"))
    return stamp.timestamp()


@dataclass
class Found:
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # order names
    read: int = 0  # orders read from Shopify to compare with what PeakWMS has


def sweep_orders(connection: PeakwmsShopifyConnection, since: str | None, until: str, ports: PollPorts) -> PollResult:
    started = order_query.epoch(until)
    receiving = receiving_since(ports.table, connection.id)
    if receiving is None:
        idle = {"skipped": f"setup step {RECEIVE_ORDERS} is not done: the shop's orders are not sent yet"}
        return PollResult([], until, idle)
    floor = receiving - OVERLAP_SECONDS
    begin = floor if since is None else max(floor, order_query.epoch(since))
    shopify: ShopifyAdmin = ports.clients.shopify(connection)
    found = Found()
    examined, more, last_seen, after = 0, False, None, None
    while begin < started:
        page = order_query.orders_updated(shopify, begin, started, after)
        for summary in page.orders:
            examined += 1
            last_seen = summary.updated_at
            _look_at(connection, summary, shopify, ports, found)
        after = page.next_cursor
        if after is None:
            break
        if examined >= MAX_ORDERS or ports.seconds_left() < SECONDS_RESERVE:
            more = True
            break
    position = until if not more or last_seen is None else order_query.search_time(order_query.epoch(last_seen))
    window = [order_query.search_time(begin), until]
    report: dict[str, Any] = {
        "window": window,
        "orders_examined": examined,
        "orders_read": found.read,
        "orders_enqueued": found.sent,
        "more": more,
    }
    return PollResult(found.messages, position, report, _event(found, window))


def _look_at(
    connection: PeakwmsShopifyConnection,
    summary: order_query.OrderSummary,
    shopify: ShopifyAdmin,
    ports: PollPorts,
    found: Found,
) -> None:
    bound = order_binding.binding(ports.table, connection.id, summary.order_id)
    if bound is None:
        if summary.cancelled or summary.fulfillment_status == "fulfilled":
            return  # nothing for the warehouse (the route would skip it too), and no call to learn that
        body = order_query.fetch_order(shopify, summary.order_id)
        found.read += 1
        if body is not None:
            _send(connection, summary, body, found)
        return
    if bound.cancelled or not summary.cancelled:
        return  # cancelled first, or nothing this stream may send again (see above)
    body = order_query.fetch_order(shopify, summary.order_id)
    found.read += 1
    if body is not None and body.get("cancelled_at"):
        _send(connection, summary, body, found)


def _send(
    connection: PeakwmsShopifyConnection, summary: order_query.OrderSummary, body: dict[str, Any], found: Found
) -> None:
    found.messages.append(
        {
            "source": SOURCE,
            "connection_id": connection.id,
            "event_id": f"poll-order-{summary.order_id}-{summary.updated_at}",
            "topic": ORDER_UPDATED,
            "received_at": events.received_stamp(),
            "payload": json.dumps(body, separators=(",", ":")),
            "redrive": REDRIVE,
        }
    )
    found.sent.append(summary.name)


def _event(found: Found, window: list[str]) -> PollEvent | None:
    if not found.sent:
        return None
    shown = ", ".join(found.sent[:SHOWN]) + (f" and {len(found.sent) - SHOWN} more" if len(found.sent) > SHOWN else "")
    payload = json.dumps({"window": window, "orders": found.sent}, separators=(",", ":"))
    reason = f"{len(found.sent)} Shopify order(s) PeakWMS lacks (or has not cancelled), sent on: {shown}"
    return PollEvent(POLL_TOPIC, f"{reason} (updated {window[0]} to {window[1]})", payload)


STREAMS: dict[str, StreamHandler] = {STREAM: ShopifyOrderStream()}
