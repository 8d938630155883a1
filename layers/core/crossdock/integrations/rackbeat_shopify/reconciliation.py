"""The reconciliation sweep of one connection: find what webhooks missed and have it repaired (SPEC §5).

Two polled streams (`flows.poll`, one schedule each, every `reconciliation.interval_minutes` while
`reconciliation.enabled`): `reconcile#orders` and `reconcile#stock` (the latter only with `stock_sync.enabled`). A
sweep repairs nothing itself: it returns the same kind of inbound message a webhook would have caused, the poll flow
queues them, and dispatch does the work with all its guarantees (one workflow per order, per refund; coalesced stock
pushes).

- **Orders** (`OrderSweep`): those Shopify updated in [cursor − overlap, sweep start), oldest update first. One that
  should be in Rackbeat by now (cancelled no, `orders.transfer_when` met) and has no `done`/`cancelled` mapping gets
  an `orders/resync` message with `redrive: reconciliation`; dispatch reads it from Shopify again and starts (or
  refuses to repeat) its workflow. The overlap (`reconciliation.overlap_minutes`) catches an update Shopify indexed
  for search only after the previous sweep had looked. The first sweep of a connection (no cursor: just activated,
  re-installed or re-enabled) looks back one interval plus the overlap, which reaches back to the moment its
  schedule was made.
- **Refunds** (`orders.refunds_as_credit_notes`, part of the orders sweep): refunded orders of that window are asked
  for their refunds; one created in the window without a credit note is sent as the `refunds/create` message
  Shopify would have sent (`redrive: reconciliation`); dispatch names its workflow after the refund, so a duplicate
  is refused.
- **Cancellations** (part of the orders sweep): an order of that window cancelled in Shopify whose Rackbeat order
  is still open (mapped, not marked cancelled, and Rackbeat does not show it cancelled) gets the `orders/cancelled`
  message Shopify would have sent, read from Shopify as it is now (`redrive: reconciliation`); dispatch starts its
  cancellation workflow, which cancels it as for the webhook — or, when it is already shipped or invoiced, notes
  that on the order and asks for attention. A cancellation that already ran (or is running) is not repeated:
  dispatch looks at its workflow first.
- **Waiting refunds** (`orders.refunds_as_credit_notes`, part of the orders sweep): refunds that wait for their
  order's invoice (`refund_waits`) and whose order can take them now get a `refunds/credit` message.
- **Stock** (`StockSweep`): the Rackbeat catalog is walked in pages, a few per sweep, its cursor the offset of the
  next page, and each item's quantity (the same `stock_sync` rules as the push) is compared with the shop's level.
  An item that differs gets the `product.stock_changed` message Rackbeat's webhook would have sent: the existing
  stock push marks it and sets the shop, coalesced with everything else, so there is one stock writer.

A cursor moves only after every message of its stream was accepted by the queue (the poll flow); a failure leaves
it where it was, so the next sweep looks at the same window again (a message that did get through is refused as a
duplicate by dispatch). A sweep reads at most `MAX_ORDERS` orders and a few catalog pages, keeping inside Shopify's
cost bucket and Rackbeat's per-key limit; a backlog is worked off over the following sweeps. A sweep records an
event only when it sent something.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import orders as rackbeat_orders
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient
from crossdock.connectors.shopify import inventory, order_query
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import InventoryLevel
from crossdock.connectors.shopify.orders import PAID_STATES
from crossdock.connectors.shopify.webhooks import CANCEL_TOPIC
from crossdock.integrations.rackbeat_shopify import refund_waits
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, TransferWhen
from crossdock.ports import PollEvent, PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store import events, mappings
from crossdock.topics import RESYNC_TOPIC

ORDER_STREAM = "reconcile#orders"
STOCK_STREAM = "reconcile#stock"
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
# Per-item stock reads in flight at once: a lease's slots come 0.13 s apart, and 4 readers use them as they come
# while Rackbeat answers within about half a second (4 x 0.13 s).
READERS = 4
SECONDS_RESERVE = 30.0  # stop reading more when less Lambda time than this is left
SHOWN = 20  # names listed in the sweep's event reason; the payload has them all


@dataclass(frozen=True)
class StockDifference:
    sku: str
    rackbeat: int
    shop: list[int | None]  # the shop's quantity of each variant that differs


@dataclass
class _Repairs:
    """What a sweep found to send; the poll flow queues the messages before anything else of it counts."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)  # waiting refunds whose order can take them now
    cancellations: list[str] = field(default_factory=list)  # cancelled in Shopify, still open in Rackbeat


def _stamp(started: float) -> str:
    # Part of each message's event id: a later sweep's message for the same order is a new event.
    return datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%S%fZ")


class OrderSweep:
    """`reconcile#orders`: orders (and their refunds) whose webhooks were lost."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        own = RackbeatShopifyConnection.of(connection)
        settings = own.settings.reconciliation
        if not settings.enabled:
            return None
        return StreamSchedule.every(settings.interval_minutes, f"Crossdock reconciliation of orders, {own.shop_domain}")

    def overlap(self, connection: Connection) -> float:
        return float(RackbeatShopifyConnection.of(connection).settings.reconciliation.overlap_minutes * 60)

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return _sweep_orders(RackbeatShopifyConnection.of(connection), since, until, ports)


class StockSweep:
    """`reconcile#stock`: shop levels that differ from Rackbeat's, a few catalog pages per sweep."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        own = RackbeatShopifyConnection.of(connection)
        settings = own.settings
        if not (settings.reconciliation.enabled and settings.stock_sync.enabled):
            return None
        return StreamSchedule.every(
            settings.reconciliation.interval_minutes, f"Crossdock reconciliation of stock, {own.shop_domain}"
        )

    def overlap(self, connection: Connection) -> None:
        return None  # positions are catalog offsets

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        return _sweep_stock(RackbeatShopifyConnection.of(connection), since, ports)


STREAMS: dict[str, StreamHandler] = {ORDER_STREAM: OrderSweep(), STOCK_STREAM: StockSweep()}


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


def _sweep_orders(
    connection: RackbeatShopifyConnection, since_at: str | None, until: str, ports: PollPorts
) -> PollResult:
    settings = connection.settings
    started = order_query.epoch(until)
    if since_at is None:
        overlap = settings.reconciliation.overlap_minutes * 60
        since = started - settings.reconciliation.interval_minutes * 60 - overlap
    else:
        since = order_query.epoch(since_at)
    window = (order_query.search_time(since), order_query.search_time(started))
    shopify: ShopifyAdmin = ports.clients.shopify(connection)
    stamp = _stamp(ports.now())
    found = _Repairs()
    examined, more = 0, False
    last_seen: str | None = None
    after: str | None = None
    while True:
        page = order_query.orders_updated(shopify, since, started, after)
        for summary in page.orders:
            examined += 1
            last_seen = summary.updated_at
            _look_at(connection, summary, since, shopify, stamp, found, ports)
        after = page.next_cursor
        if after is None:
            break
        if examined >= MAX_ORDERS or ports.seconds_left() < SECONDS_RESERVE:
            more = True
            break
    if settings.orders.refunds_as_credit_notes:
        _look_at_waiting_refunds(connection, ports, stamp, found)
    # Done: the window's end. Capped: the last order looked at (ties of that second are looked at again, thanks to
    # `>=`; the poll flow moves a cursor that would stand still a second on).
    position = started if not more or last_seen is None else order_query.epoch(last_seen)
    report: dict[str, Any] = {
        "window": list(window),
        "orders_examined": examined,
        "orders_enqueued": found.orders,
        "refunds_enqueued": found.refunds,
        "credits_enqueued": found.credits,
        "cancellations_enqueued": found.cancellations,
        "more": more,
    }
    parts = []
    if found.orders:
        parts.append(f"{len(found.orders)} order(s) without a Rackbeat order: {_listed(found.orders)}")
    if found.refunds:
        parts.append(f"{len(found.refunds)} refund(s) without a credit note: {_listed(found.refunds)}")
    if found.credits:
        parts.append(f"{len(found.credits)} waiting refund(s) whose order can take them now: {_listed(found.credits)}")
    if found.cancellations:
        described = _listed(found.cancellations)
        parts.append(f"{len(found.cancellations)} cancelled order(s) still open in Rackbeat: {described}")
    event = _event(parts, report, f" (orders updated {window[0]} to {window[1]})")
    return PollResult(found.messages, order_query.search_time(position), report, event)


def _look_at(
    connection: RackbeatShopifyConnection,
    summary: order_query.OrderSummary,
    since: float,
    shopify: ShopifyAdmin,
    stamp: str,
    found: _Repairs,
    ports: PollPorts,
) -> None:
    settings, table = connection.settings, ports.table
    mapped = mappings.get_mapping(table, connection.id, "order", "shopify", summary.order_id) or {}
    if summary.cancelled and _still_open(connection, mapped, ports):
        body = order_query.fetch_order(shopify, summary.order_id)
        if body is not None and body.get("cancelled_at"):
            event_id = f"reconcile-cancel-{summary.order_id}-{stamp}"
            found.messages.append(_message(connection, "shopify", CANCEL_TOPIC, event_id, body))
            found.cancellations.append(summary.name)
    if mapped.get("status") not in ("done", "cancelled") and awaits_transfer(settings.orders.transfer_when, summary):
        payload = {"order_id": summary.order_id}
        found.messages.append(
            _message(connection, "crossdock", RESYNC_TOPIC, f"reconcile-{summary.order_id}-{stamp}", payload)
        )
        found.orders.append(summary.name)
    if settings.orders.refunds_as_credit_notes and summary.refunded:
        for refund in order_query.order_refunds(shopify, summary.order_id):
            # Older refunds were looked at by an earlier sweep (their creation updated the order back then).
            if order_query.epoch(refund.created_at) < since or _credited(table, connection.id, refund.refund_id):
                continue
            body = order_query.fetch_refund(shopify, summary.order_id, refund.refund_id)
            if body is None:
                continue
            event_id = f"reconcile-refund-{refund.refund_id}-{stamp}"
            found.messages.append(_message(connection, "shopify", REFUND_TOPIC, event_id, body))
            found.refunds.append(refund.refund_id)


def _still_open(connection: RackbeatShopifyConnection, mapped: dict[str, Any], ports: PollPorts) -> bool:
    """Whether the order reached Rackbeat and is not cancelled there: the mapping first (no call for an order that
    never reached Rackbeat or whose cancellation went through), then Rackbeat itself (one read per such order;
    cancellations are few)."""
    if not mapped.get("target_id") or mapped.get("status") == "cancelled":
        return False
    try:
        order = rackbeat_orders.get_order(ports.clients.rackbeat(connection), int(mapped["target_id"]))
    except NotFound:
        return False  # deleted in Rackbeat: nothing left to cancel
    return not order.get("is_cancelled")


def _credited(table: Any, connection_id: str, refund_id: str) -> bool:
    """Credited, or waiting for its order's invoice (`_look_at_waiting_refunds` sees to those)."""
    mapping = mappings.get_mapping(table, connection_id, "refund", "shopify", refund_id)
    return mapping is not None and mapping.get("status") in ("done", "awaiting_invoice")


def _look_at_waiting_refunds(
    connection: RackbeatShopifyConnection, ports: PollPorts, stamp: str, found: _Repairs
) -> None:
    ready = refund_waits.ready_refunds(connection.id, ports.table, ports.clients.rackbeat(connection))
    for refund_id, payload in ready.ready:
        event_id = f"reconcile-credit-{refund_id}-{stamp}"
        found.messages.append(_message(connection, "crossdock", refund_waits.CREDIT_TOPIC, event_id, payload))
        found.credits.append(refund_id)


# ---- stock -------------------------------------------------------------------------------------------------------


def _sweep_stock(connection: RackbeatShopifyConnection, offset: str | None, ports: PollPorts) -> PollResult:
    settings = connection.settings
    by_location = settings.fulfillment.rackbeat_location is not None
    size = STOCK_PAGE_BY_LOCATION if by_location else STOCK_PAGE
    page = int(offset) // size + 1 if offset is not None else 1
    rackbeat: RackbeatClient = ports.clients.rackbeat(connection)
    stamp = _stamp(ports.now())
    wanted: dict[str, int] = {}
    checked = 0
    for _ in range(1 if by_location else STOCK_PAGES):
        body = rackbeat.get("products", page=page, limit=size, order_by="number", order_direction="asc")
        products = body.get("products") or []
        # By location, one read per stocked item, announced so their limiter slots are claimed a lease at a time,
        # and made by a few readers at once so the leased slots are used as they come even when each answer takes
        # longer than a slot (0.13 s at Rackbeat's rate): a slot that passes unused is the account's budget lost.
        reads = sum(1 for product in products if product.get("inventory_enabled", True)) if by_location else 0
        with rackbeat.expecting(reads), ThreadPoolExecutor(READERS if reads > 1 else 1) as readers:
            quantities = readers.map(lambda product: _rackbeat_quantity(rackbeat, product, settings), products)
            for product, quantity in zip(products, quantities, strict=True):
                if quantity is not None:
                    wanted[str(product["number"])] = quantity
        checked += len(body.get("products") or [])
        finished = page >= int(body.get("pages") or 1)
        page = 1 if finished else page + 1
        if finished or ports.seconds_left() < SECONDS_RESERVE:
            break
    differences = _differences(connection, wanted, ports.clients.shopify(connection))
    messages = [
        _message(
            connection,
            "rackbeat",
            STOCK_TOPIC,
            f"reconcile-stock-{difference.sku}-{stamp}",
            {"key_name": "number", "key": difference.sku},
        )
        for difference in differences
    ]
    report: dict[str, Any] = {
        "stock_checked": checked,
        "stock_corrected": [vars(difference) for difference in differences],
    }
    parts = []
    if differences:
        described = [f"{d.sku} (Rackbeat {d.rackbeat}, shop {d.shop})" for d in differences]
        parts.append(f"stock of {len(described)} item(s) differs from Rackbeat: {_listed(described)}")
    # The next sweep starts at the next page; after the last one, the walk begins again.
    return PollResult(messages, str((page - 1) * size), report, _event(parts, report, ""))


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


def _differences(
    connection: RackbeatShopifyConnection, wanted: dict[str, int], shopify: ShopifyAdmin
) -> list[StockDifference]:
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


def _message(
    connection: RackbeatShopifyConnection, source: str, topic: str, event_id: str, payload: dict[str, Any]
) -> dict[str, Any]:
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


def _event(parts: list[str], report: dict[str, Any], window: str) -> PollEvent | None:
    """The sweep's own event, only when it sent something."""
    if not parts:
        return None
    payload = json.dumps(report, separators=(",", ":"))
    return PollEvent(SWEEP_TOPIC, "sent for repair: " + "; ".join(parts) + window, payload)
