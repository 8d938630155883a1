"""The reconciliation sweep of one connection: find what webhooks missed and have it repaired (SPEC §5).

Run by the connection's schedule (`reconcile_schedule`) every `reconciliation.interval_minutes`. It repairs nothing
itself: it puts on the inbound queue the same kind of message a webhook would have caused, and dispatch does the
work with all its guarantees (one workflow per order, per refund; coalesced stock pushes).

- **Orders**: those Shopify updated in [cursor − overlap, sweep start), oldest update first. One that should be in
  Rackbeat by now (cancelled no, `orders.transfer_when` met) and has no `done`/`cancelled` mapping gets an
  `orders/resync` message with `redrive: reconciliation`; dispatch reads it from Shopify again and starts (or
  refuses to repeat) its workflow. The overlap catches an update Shopify indexed for search only after the previous
  sweep had looked. The first sweep of a connection (no cursor: just activated, re-installed or re-enabled) looks
  back one interval plus the overlap, which reaches back to the moment its schedule was made.
- **Refunds** (`orders.refunds_as_credit_notes`): refunded orders of that window are asked for their refunds; one
  created in the window without a credit note is sent as the `refunds/create` message Shopify would have sent
  (`redrive: reconciliation`); dispatch names its workflow after the refund, so a duplicate is refused.
- **Stock** (`stock_sync.enabled`): the Rackbeat catalog is walked in pages, a few per sweep, with its own cursor,
  and each item's quantity (the same `stock_sync` rules as the push) is compared with the shop's level. An item
  that differs gets the `product.stock_changed` message Rackbeat's webhook would have sent: the existing stock push
  marks it and sets the shop, coalesced with everything else, so there is one stock writer.

A cursor moves only after every message of its part was accepted by the queue; a failure leaves it where it was,
so the next sweep looks at the same window again (a message that did get through is refused as a duplicate by
dispatch). A sweep reads at most `MAX_ORDERS` orders and a few catalog pages, keeping inside Shopify's cost bucket
and Rackbeat's per-key limit; a backlog is worked off over the following sweeps. The sweep records an event only
when it sent something.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import inventory, order_query
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import InventoryLevel
from crossdock.connectors.shopify.orders import PAID_STATES
from crossdock.connectors.shopify.webhooks import RESYNC_TOPIC
from crossdock.errors import CrossdockError
from crossdock.flows.outcome import finish_event
from crossdock.flows.reconcile_schedule import KEEPS_SCHEDULE, ORDER_STREAM, STOCK_STREAM, ReconcileSchedules
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, TransferWhen
from crossdock.store import connections, cursors, events, mappings
from crossdock.store.events import EventStatus

SWEEP_TOPIC = "crossdock/reconciliation"
REFUND_TOPIC = "refunds/create"
STOCK_TOPIC = "product.stock_changed"
REDRIVE = "reconciliation"
# Orders examined per sweep: five summary pages, about 500 points of a shop's cost bucket (2,000, refilled at 100 a
# second) plus a mapping read each. A day's backlog of a busy shop is worked off within a few hours of sweeps.
MAX_ORDERS = 5 * order_query.SUMMARY_PAGE
# Catalog per sweep. Without a Rackbeat location the product list carries the quantities: 4 pages of 250 items are
# 4 Rackbeat calls and 4 Shopify inventory queries (≈ 3,000 points). With a location every item is read on its own,
# so fewer: 100 calls. A 10,000-item catalog is compared in 10 (or 100) sweeps, i.e. every 2.5 (or 25) hours at 15
# minutes; webhooks keep it right in between.
STOCK_PAGE = 250
STOCK_PAGES = 4
STOCK_PAGE_BY_LOCATION = 100
SECONDS_RESERVE = 30.0  # stop reading more when less Lambda time than this is left
SHOWN = 20  # names listed in the sweep's event reason; the payload has them all


@dataclass(frozen=True)
class ReconcileDeps:
    table: Any
    shopify: Callable[[Connection], ShopifyAdmin]
    rackbeat: Callable[[Connection], RackbeatClient]
    # Queues every message or raises (crossdock.aws.queues.send_all): a cursor moves only after it returned.
    enqueue: Callable[[list[dict[str, Any]]], None]
    now: Callable[[], float]
    # The connection's own schedule, removed when the sweep finds it has no business running.
    schedules: ReconcileSchedules | None = None
    seconds_left: Callable[[], float] = lambda: 900.0


@dataclass(frozen=True)
class StockDifference:
    sku: str
    rackbeat: int
    shop: list[int | None]  # the shop's quantity of each variant that differs


@dataclass
class SweepReport:
    connection_id: str
    skipped: str | None = None  # why nothing was looked at
    window: tuple[str, str] | None = None  # orders updated in [from, to)
    orders_examined: int = 0
    orders_enqueued: list[str] = field(default_factory=list)  # order names
    refunds_enqueued: list[str] = field(default_factory=list)  # refund ids
    stock_checked: int = 0
    stock_corrected: list[StockDifference] = field(default_factory=list)
    more: bool = False  # a cap was reached; the next sweep goes on from here
    failures: list[tuple[str, CrossdockError]] = field(default_factory=list)  # (part, error)

    @property
    def repaired(self) -> bool:
        return bool(self.orders_enqueued or self.refunds_enqueued or self.stock_corrected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "skipped": self.skipped,
            "window": list(self.window) if self.window else None,
            "orders_examined": self.orders_examined,
            "orders_enqueued": self.orders_enqueued,
            "refunds_enqueued": self.refunds_enqueued,
            "stock_checked": self.stock_checked,
            "stock_corrected": [vars(difference) for difference in self.stock_corrected],
            "more": self.more,
            "failures": [
                {"part": part, "failure_class": error.failure_class.value, "reason": error.reason}
                for part, error in self.failures
            ],
        }


def reconcile_connection(connection_id: str, deps: ReconcileDeps) -> SweepReport:
    report = SweepReport(connection_id)
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        report.skipped = f"connection {connection_id} is {connection.state.value if connection else 'deleted'}"
    elif not connection.settings.reconciliation.enabled:
        report.skipped = "reconciliation.enabled is off"
    if connection is None or report.skipped is not None:
        unwanted = (
            connection is None
            or connection.state not in KEEPS_SCHEDULE
            or not connection.settings.reconciliation.enabled
        )
        if deps.schedules is not None and unwanted:
            # Its uninstall or settings save should have removed the schedule; if that was missed, it goes now. A
            # paused connection keeps it: its sweeps catch up once it is active again.
            deps.schedules.stop(connection_id)
        return report
    started = deps.now()
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    parts: list[tuple[str, Callable[[], None]]] = [
        ("orders", lambda: _sweep_orders(connection, deps, started, stamp, report)),
        ("stock", lambda: _sweep_stock(connection, deps, stamp, report)),
    ]
    for part, sweep in parts:
        try:
            sweep()
        except CrossdockError as failed:
            # One part failing (Rackbeat down, a revoked token) leaves its cursor alone and the other part running.
            report.failures.append((part, failed))
    if report.repaired:
        _record(connection, report, deps)
    return report


# ---- orders and refunds ------------------------------------------------------------------------------------------


def awaits_transfer(when: TransferWhen, summary: order_query.OrderSummary) -> bool:
    """Whether dispatch would transfer the order as it is now (dispatch.transfer_reason on `orders/updated`)."""
    if summary.cancelled or when is TransferWhen.NEVER:
        return False
    if when is TransferWhen.PAID:
        return summary.financial_status in PAID_STATES
    if when is TransferWhen.FULFILLED:
        return summary.fulfillment_status == "fulfilled"
    return True


def _sweep_orders(connection: Connection, deps: ReconcileDeps, started: float, stamp: str, report: SweepReport) -> None:
    settings = connection.settings
    overlap = settings.reconciliation.overlap_minutes * 60
    cursor = cursors.load(deps.table, connection.id, ORDER_STREAM)
    if cursor is None:
        since = started - settings.reconciliation.interval_minutes * 60 - overlap
    else:
        since = order_query.epoch(cursor.position) - overlap
    report.window = (order_query.search_time(since), order_query.search_time(started))
    shopify = deps.shopify(connection)
    found = _Repairs()
    last_seen: str | None = None
    after: str | None = None
    while True:
        page = order_query.orders_updated(shopify, since, started, after)
        for summary in page.orders:
            report.orders_examined += 1
            last_seen = summary.updated_at
            _look_at(connection, summary, since, shopify, stamp, found, deps)
        after = page.next_cursor
        if after is None:
            break
        if report.orders_examined >= MAX_ORDERS or deps.seconds_left() < SECONDS_RESERVE:
            report.more = True
            break
    deps.enqueue(found.messages)
    report.orders_enqueued.extend(found.orders)
    report.refunds_enqueued.extend(found.refunds)
    # Done: the window's end. Capped: the last order looked at (ties of that second are looked at again, thanks to
    # `>=`); never backwards, and a second on if one second held more orders than a sweep reads.
    position = started if not report.more or last_seen is None else order_query.epoch(last_seen)
    if cursor is not None and position <= order_query.epoch(cursor.position):
        position = order_query.epoch(cursor.position) + 1
    cursors.save(deps.table, connection.id, ORDER_STREAM, order_query.search_time(position), events.received_stamp())


@dataclass
class _Repairs:
    """What a sweep found to send, kept apart from the report until the queue has accepted it."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)


def _look_at(
    connection: Connection,
    summary: order_query.OrderSummary,
    since: float,
    shopify: ShopifyAdmin,
    stamp: str,
    found: _Repairs,
    deps: ReconcileDeps,
) -> None:
    settings = connection.settings
    mapped = mappings.get_mapping(deps.table, connection.id, "order", "shopify", summary.order_id) or {}
    if mapped.get("status") not in ("done", "cancelled") and awaits_transfer(settings.orders.transfer_when, summary):
        payload = {"order_id": summary.order_id}
        found.messages.append(
            _message(connection, "crossdock", RESYNC_TOPIC, f"reconcile-{summary.order_id}-{stamp}", payload)
        )
        found.orders.append(summary.name)
    if settings.orders.refunds_as_credit_notes and summary.refunded:
        for refund in order_query.order_refunds(shopify, summary.order_id):
            # Older refunds were looked at by an earlier sweep (their creation updated the order back then).
            if order_query.epoch(refund.created_at) < since or _credited(deps.table, connection.id, refund.refund_id):
                continue
            body = order_query.fetch_refund(shopify, summary.order_id, refund.refund_id)
            if body is None:
                continue
            event_id = f"reconcile-refund-{refund.refund_id}-{stamp}"
            found.messages.append(_message(connection, "shopify", REFUND_TOPIC, event_id, body))
            found.refunds.append(refund.refund_id)


def _credited(table: Any, connection_id: str, refund_id: str) -> bool:
    mapping = mappings.get_mapping(table, connection_id, "refund", "shopify", refund_id)
    return mapping is not None and mapping.get("status") == "done"


# ---- stock -------------------------------------------------------------------------------------------------------


def _sweep_stock(connection: Connection, deps: ReconcileDeps, stamp: str, report: SweepReport) -> None:
    settings = connection.settings
    if not settings.stock_sync.enabled:
        return
    by_location = settings.fulfillment.rackbeat_location is not None
    size = STOCK_PAGE_BY_LOCATION if by_location else STOCK_PAGE
    cursor = cursors.load(deps.table, connection.id, STOCK_STREAM)
    page = int(cursor.position) // size + 1 if cursor is not None else 1
    rackbeat = deps.rackbeat(connection)
    wanted: dict[str, int] = {}
    for _ in range(1 if by_location else STOCK_PAGES):
        body = rackbeat.get("products", page=page, limit=size, order_by="number", order_direction="asc")
        for product in body.get("products") or []:
            quantity = _rackbeat_quantity(rackbeat, product, settings)
            if quantity is not None:
                wanted[str(product["number"])] = quantity
        report.stock_checked += len(body.get("products") or [])
        finished = page >= int(body.get("pages") or 1)
        page = 1 if finished else page + 1
        if finished or deps.seconds_left() < SECONDS_RESERVE:
            break
    differences = _differences(connection, wanted, deps.shopify(connection))
    deps.enqueue(
        [
            _message(
                connection,
                "rackbeat",
                STOCK_TOPIC,
                f"reconcile-stock-{difference.sku}-{stamp}",
                {"key_name": "number", "key": difference.sku},
            )
            for difference in differences
        ]
    )
    report.stock_corrected.extend(differences)
    # The next sweep starts at the next page; after the last one, the walk begins again.
    cursors.save(deps.table, connection.id, STOCK_STREAM, str((page - 1) * size), events.received_stamp())


def _rackbeat_quantity(
    rackbeat: RackbeatClient, product: dict[str, Any], settings: RackbeatShopifySettings
) -> int | None:
    """The quantity the push would set (`products.stock_quantity`'s rules), from the listed product when no
    location is chosen (the list carries the totals), else from the item's own locations."""
    sync, location = settings.stock_sync, settings.fulfillment.rackbeat_location
    if not product.get("inventory_enabled", True):
        return None
    if location is not None:
        return rackbeat_products.stock_quantity(rackbeat, str(product["number"]), sync.quantity, location)
    value = product.get("stock_quantity" if sync.quantity == "in_stock" else "available_quantity")
    # Shops sell whole units: 2.5 on hand is 2 sellable, as the push rounds.
    return int(Decimal(str(value or 0)).to_integral_value(ROUND_FLOOR))


def _differences(connection: Connection, wanted: dict[str, int], shopify: ShopifyAdmin) -> list[StockDifference]:
    """Items whose level in the shop is not Rackbeat's, among the variants the push would set (tracked, stocked at
    the location; only the first of a shared SKU unless `stock_sync.all_duplicate_skus`)."""
    if not wanted:
        return []
    settings = connection.settings
    chosen = settings.fulfillment.shopify_location
    location = inventory.location_gid(chosen) if chosen else inventory.primary_location(shopify)
    name = "on_hand" if settings.stock_sync.quantity == "in_stock" else "available"
    skus = sorted(wanted)
    by_sku: dict[str, list[InventoryLevel]] = {}
    for start in range(0, len(skus), STOCK_PAGE):
        for level in inventory.levels_for_skus(shopify, skus[start : start + STOCK_PAGE], location):
            by_sku.setdefault(level.sku, []).append(level)
    differences = []
    for sku in skus:
        levels = by_sku.get(sku, [])
        if not settings.stock_sync.all_duplicate_skus:
            levels = levels[:1]
        off = [
            level for level in levels if level.tracked and level.stocked and level.quantities.get(name) != wanted[sku]
        ]
        if off:
            differences.append(StockDifference(sku, wanted[sku], [level.quantities.get(name) for level in off]))
    return differences


# ---- messages and the sweep's own event --------------------------------------------------------------------------


def _message(connection: Connection, source: str, topic: str, event_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An inbound message as ingest would queue it, marked as a redrive by the sweep."""
    return {
        "source": source,
        "connection_id": connection.id,
        "event_id": event_id,
        "topic": topic,
        "received_at": events.received_stamp(),
        "payload": json.dumps(payload, separators=(",", ":")),
        "redrive": REDRIVE,
    }


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _record(connection: Connection, report: SweepReport, deps: ReconcileDeps) -> None:
    parts = []
    if report.orders_enqueued:
        parts.append(
            f"{len(report.orders_enqueued)} order(s) without a Rackbeat order: {_listed(report.orders_enqueued)}"
        )
    if report.refunds_enqueued:
        parts.append(
            f"{len(report.refunds_enqueued)} refund(s) without a credit note: {_listed(report.refunds_enqueued)}"
        )
    if report.stock_corrected:
        described = [f"{d.sku} (Rackbeat {d.rackbeat}, shop {d.shop})" for d in report.stock_corrected]
        parts.append(f"stock of {len(described)} item(s) differs from Rackbeat: {_listed(described)}")
    window = f" (orders updated {report.window[0]} to {report.window[1]})" if report.window else ""
    sk = events.record_received(
        deps.table,
        connection.id,
        str(uuid.uuid4()),
        "crossdock",
        SWEEP_TOPIC,
        json.dumps(report.as_dict(), separators=(",", ":")),
        events.received_stamp(),
    )
    finish_event(deps.table, connection.id, sk, EventStatus.DONE, "sent for repair: " + "; ".join(parts) + window)
