"""Stock of `rackbeat_shopify`: Rackbeat is the stock master, the shop the target (SPEC §1.3 `stock_sync`).

The push itself — coalescing a burst, batches, continuations — is `flows.stock_push`; this module is what it
reads and sets for this kind: a Rackbeat item's quantity (in stock or available, at a location or all summed), and
the shop's levels at its location, per 250 SKUs (Shopify's array limit) in one `inventorySetQuantities`, with
compare-and-set retried on a stale quantity (a sale in between) because Rackbeat is the master.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import inventory
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import InventoryLevel, QuantityChange
from crossdock.integrations import rackbeat_stock_reads
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.model.product import StockLevel
from crossdock.ports import StockPushReport
from crossdock.store import stock

BATCH = 250  # Shopify's array limit: one mutation per 250 items
STALE_RETRIES = 3


def stock_changed(
    connection_id: str,
    number: str,
    table: Any,
    now: Callable[[], float],
    request_push: Callable[[str], None],
    heard_at: float | None = None,
) -> str:
    """Rackbeat says `number`'s stock changed: remember it (with when ingest heard it, `store.stock`) and make sure
    a push will come."""
    stock.mark_dirty(table, connection_id, number, now(), heard_at)
    request_push(connection_id)
    return f"stock of {number} queued for the shop (coalesced)"


@dataclass(frozen=True)
class RackbeatStock:
    """`ports.StockSource`: the quantity the settings choose, read from Rackbeat when the push runs."""

    rackbeat: RackbeatClient
    connection: RackbeatShopifyConnection
    missing: str = "not a stock item in Rackbeat (deleted or no inventory)"

    def quantity(self, number: str) -> int | None:
        settings = self.connection.settings
        return rackbeat_products.stock_quantity(
            self.rackbeat, number, settings.stock_sync.quantity, settings.fulfillment.rackbeat_location
        )

    def quantity_after(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> int | None:
        """`flows.stock_push.SharedReadSource`: as `quantity`, from a read shared with the other connections on the
        Rackbeat account that started after `changed_at` (`rackbeat_stock_reads`): the item's locations when the
        shop shows one Rackbeat location (as every Shopbox branch does), else the item itself."""
        settings = self.connection.settings
        account_key = own_webhooks.account_key(self.connection.accounts.rackbeat)
        reader = rackbeat_stock_reads.AccountStockReader(self.rackbeat, account_key)
        location = settings.fulfillment.rackbeat_location
        if location is None:
            product = reader.product(number, changed_at, table, now)
            if product is None or not product.inventory:
                return None
            return product.totals.of(settings.stock_sync.quantity)
        rows = reader.locations(number, changed_at, table, now)
        if rows is None:
            return None
        at = rows.get(location)
        return 0 if at is None else at.of(settings.stock_sync.quantity)  # never stocked there: none


class ShopStock:
    """`ports.StockTarget`: the shop's levels at the chosen (or primary) location."""

    batch_size = BATCH

    def __init__(self, connection: RackbeatShopifyConnection, shopify: ShopifyAdmin) -> None:
        self._connection = connection
        self._shopify = shopify
        self._location: str | None = None  # asked of the shop once per push, when there is something to set

    def set_levels(self, wanted: dict[str, StockLevel], report: StockPushReport) -> None:
        settings = self._connection.settings
        name: inventory.QuantityName = "on_hand" if settings.stock_sync.quantity == "in_stock" else "available"
        _set_levels(self._connection, wanted, self._shopify, self._where(), name, report)

    def _where(self) -> str:
        if self._location is None:
            chosen = self._connection.settings.fulfillment.shopify_location
            self._location = inventory.location_gid(chosen) if chosen else inventory.primary_location(self._shopify)
        return self._location


class RackbeatShopifyStock:
    """`ports.StockSync` of this kind."""

    def enabled(self, connection: Connection) -> bool:
        return RackbeatShopifyConnection.of(connection).settings.stock_sync.enabled

    def endpoints(self, connection: Connection, clients: Any) -> tuple[RackbeatStock, ShopStock]:
        own = RackbeatShopifyConnection.of(connection)
        target = ShopStock(own, clients.shopify(own))
        return RackbeatStock(clients.rackbeat(own), own), target


STOCK = RackbeatShopifyStock()


def _set_levels(
    connection: RackbeatShopifyConnection,
    wanted: dict[str, StockLevel],
    shopify: ShopifyAdmin,
    location: str,
    name: inventory.QuantityName,
    report: StockPushReport,
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
    report: StockPushReport,
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
