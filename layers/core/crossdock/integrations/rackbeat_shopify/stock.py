"""Stock from Rackbeat to a shop (SPEC §1.3 `stock_sync`), coalesced and last-write-wins.

A Rackbeat stock webhook only marks the item as changed (`store.stock`) and asks for a push on the shop's
outbound queue. The push waits, within its invocation, until a burst has settled (no change for `QUIET_SECONDS`,
but never holds a change longer than `MAX_HOLD_SECONDS`), then, per 250 items: reads each item's current quantity
from Rackbeat, reads the shop's levels for those SKUs in one query, and sets every difference in one
`inventorySetQuantities`. Because the quantity is read when the push runs, duplicated or reordered webhooks cannot
make an old quantity win, and 10,000 changes over 2,000 items become ⌈2,000 / 250⌉ mutations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import inventory
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import InventoryLevel, QuantityChange
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.model.product import StockLevel
from crossdock.store import stock
from crossdock.store.stock import DirtyItem

BATCH = 250  # Shopify's array limit: one mutation per 250 items
QUIET_SECONDS = 3.0
MAX_HOLD_SECONDS = 60.0
STALE_RETRIES = 3
SECONDS_PER_BATCH_RESERVE = 45.0  # stop starting batches when less Lambda time than this is left


@dataclass(frozen=True)
class StockDeps:
    table: Any
    now: Callable[[], float]
    request_push: Callable[[str], None]  # connection id → a push command on the shop's outbound queue
    rackbeat: Callable[[RackbeatShopifyConnection], RackbeatClient]
    shopify: Callable[[RackbeatShopifyConnection], ShopifyAdmin]
    seconds_left: Callable[[], float] = lambda: 900.0
    sleep: Callable[[float], None] = lambda seconds: None
    # A push that must stop before it is done asks for its own continuation. Unlike `request_push` (deduplicated
    # per connection and second, so a burst of webhooks makes one message), this one is never collapsed into the
    # message that is running: FIFO keeps deduplication ids for five minutes, also of messages already received.
    continue_push: Callable[[str], None] | None = None


@dataclass
class PushReport:
    pushed: int = 0
    unchanged: int = 0
    mutations: int = 0
    waiting: int = 0
    problems: list[str] = field(default_factory=list)
    more: bool = False

    def summary(self) -> str:
        text = f"{self.pushed} set, {self.unchanged} already right, {self.mutations} mutations"
        if self.waiting:
            text += f", {self.waiting} waiting for the burst to settle"
        return text


def stock_changed(connection: RackbeatShopifyConnection, number: str, deps: StockDeps) -> str:
    """Rackbeat says `number`'s stock changed: remember it and make sure a push will come."""
    stock.mark_dirty(deps.table, connection.id, number, deps.now())
    deps.request_push(connection.id)
    return f"stock of {number} queued for the shop (coalesced)"


def push_stock(connection: RackbeatShopifyConnection, deps: StockDeps) -> PushReport:
    report = PushReport()
    if not connection.settings.stock_sync.enabled:
        for item in stock.dirty_items(deps.table, connection.id):
            stock.clear_dirty(deps.table, connection.id, item)
        return report
    dirty = _settled_burst(connection, deps, report)
    if not dirty:
        return report
    shopify = deps.shopify(connection)
    location = _location(connection, shopify)
    rackbeat = deps.rackbeat(connection)
    for start in range(0, len(dirty), BATCH):
        if deps.seconds_left() < SECONDS_PER_BATCH_RESERVE:
            report.more = True
            _continue_later(connection, deps)
            break
        _push_batch(connection, dirty[start : start + BATCH], rackbeat, shopify, location, report, deps)
    return report


def _settled_burst(connection: RackbeatShopifyConnection, deps: StockDeps, report: PushReport) -> list[DirtyItem]:
    """The changed items once the burst has paused (or the oldest change is due), waiting in this invocation.

    FIFO queues have no per-message delay, so a push asking for itself again would run at once, spin, and collapse
    into its own deduplication id; waiting here costs a few seconds of one function instead. [] when there is
    nothing to push, or when this invocation has too little time left to wait and push (then a later one goes on).
    """
    while dirty := stock.dirty_items(deps.table, connection.id):
        now = deps.now()
        quiet_for = now - max(item.last_dirty_at for item in dirty)
        held_for = now - min(item.first_dirty_at for item in dirty)
        if quiet_for >= QUIET_SECONDS or held_for >= MAX_HOLD_SECONDS:
            return dirty
        wait = min(QUIET_SECONDS - quiet_for, MAX_HOLD_SECONDS - held_for)
        if deps.seconds_left() - wait < SECONDS_PER_BATCH_RESERVE:
            report.waiting, report.more = len(dirty), True
            _continue_later(connection, deps)
            return []
        deps.sleep(wait)
    return []


def _continue_later(connection: RackbeatShopifyConnection, deps: StockDeps) -> None:
    (deps.continue_push or deps.request_push)(connection.id)


def _location(connection: RackbeatShopifyConnection, shopify: ShopifyAdmin) -> str:
    chosen = connection.settings.fulfillment.shopify_location
    return inventory.location_gid(chosen) if chosen else inventory.primary_location(shopify)


def _push_batch(
    connection: RackbeatShopifyConnection,
    batch: list[DirtyItem],
    rackbeat: RackbeatClient,
    shopify: ShopifyAdmin,
    location: str,
    report: PushReport,
    deps: StockDeps,
) -> None:
    settings = connection.settings
    wanted: dict[str, StockLevel] = {}
    for item in batch:
        quantity = rackbeat_products.stock_quantity(
            rackbeat, item.number, settings.stock_sync.quantity, settings.fulfillment.rackbeat_location
        )
        if quantity is None:
            report.problems.append(f"{item.number}: not a stock item in Rackbeat (deleted or no inventory)")
            continue
        wanted[item.number] = StockLevel(item.number, quantity)
    name: inventory.QuantityName = "on_hand" if settings.stock_sync.quantity == "in_stock" else "available"
    if wanted:
        _set_levels(connection, wanted, shopify, location, name, report)
    for item in batch:
        stock.clear_dirty(deps.table, connection.id, item)


def _set_levels(
    connection: RackbeatShopifyConnection,
    wanted: dict[str, StockLevel],
    shopify: ShopifyAdmin,
    location: str,
    name: inventory.QuantityName,
    report: PushReport,
) -> None:
    """Set the shop to Rackbeat's quantities; on a stale compare-and-set (a sale in between) read again and
    retry with the fresh value: Rackbeat is the stock master."""
    pending = dict(wanted)
    for _ in range(STALE_RETRIES):
        levels = inventory.levels_for_skus(shopify, sorted(pending), location)
        changes = _changes(connection, pending, levels, name, report)
        if not changes:
            return
        again: set[str] = set()
        for start in range(0, len(changes), BATCH):
            chunk = changes[start : start + BATCH]
            errors = inventory.set_quantities(shopify, connection.id, name, location, [c for _, c in chunk])
            report.mutations += 1
            if not errors:
                report.pushed += len(chunk)
                continue
            # All or nothing: nothing in the chunk was set. Items Shopify refused for good are reported; the
            # rest (stale ones, and innocent bystanders) are read again and set in the next round.
            refused = set()
            for error in errors:
                sku = _sku_of(chunk, error)
                if error.get("code") != "CHANGE_FROM_QUANTITY_STALE":
                    report.problems.append(f"{sku or 'batch'}: {error.get('message')} ({error.get('code')})")
                    refused.add(sku)
            if None in refused:
                continue
            again |= {sku for sku, _ in chunk} - refused
        pending = {sku: level for sku, level in pending.items() if sku in again}
        if not pending:
            return
    report.problems.extend(f"{sku}: the shop kept changing while we set it" for sku in sorted(pending))


def _changes(
    connection: RackbeatShopifyConnection,
    wanted: dict[str, StockLevel],
    levels: list[InventoryLevel],
    name: inventory.QuantityName,
    report: PushReport,
) -> list[tuple[str, QuantityChange]]:
    by_sku: dict[str, list[InventoryLevel]] = {}
    for level in levels:
        by_sku.setdefault(level.sku, []).append(level)
    changes: list[tuple[str, QuantityChange]] = []
    for sku, target in sorted(wanted.items()):
        found = by_sku.get(sku, [])
        if not found:
            report.problems.append(f"{sku}: no variant with this SKU in the shop")
            continue
        if len(found) > 1 and not connection.settings.stock_sync.all_duplicate_skus:
            report.problems.append(
                f"{sku}: {len(found)} variants share this SKU; only the first is updated "
                "(stock_sync.all_duplicate_skus is off)"
            )
            found = found[:1]
        for level in found:
            if not level.tracked:
                report.problems.append(f"{sku}: inventory is not tracked in the shop")
            elif not level.stocked:
                report.problems.append(f"{sku}: not stocked at the shop location")
            elif level.quantities.get(name) == target.quantity:
                report.unchanged += 1
            else:
                current = level.quantities.get(name)
                changes.append((sku, QuantityChange(level.inventory_item_id, target.quantity, current)))
    return changes


def _sku_of(chunk: list[tuple[str, QuantityChange]], error: dict[str, Any]) -> str | None:
    """The SKU a user error points at (`field: ["input", "quantities", "<index>", ...]`)."""
    path = error.get("field") or []
    if len(path) > 2 and str(path[2]).isdigit() and int(path[2]) < len(chunk):
        return chunk[int(path[2])][0]
    return None
