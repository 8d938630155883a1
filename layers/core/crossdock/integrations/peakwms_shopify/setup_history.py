"""Guided setup step 4, `stock_and_history` (SPEC §4 step 4; docs/peakwms.md "Stock and sales history"): the
quantities the shop sold per product and day since `history.start_date` into PeakWMS's purchasing, then the shop's
stock levels set to PeakWMS's.

Sales history. One bulk export of the shop's orders since the start date (`order_history`; default one year
before the step runs; the step's own day or later skips the history), summed per variant and day, sent as
PeakWMS sales-history rows ([guess] `POST /salesHistory`, ≤ 500 rows a call: `stock.record_sales_history`) from the
saved row offset, so a crash resends at most one chunk's rows — a repeated row replaces the first ([guess], the
simulator's `history_rows_replace`). Rows are keyed by the main shop's product: another shop's variants through
their SKU match (`product_map.peak_product_for`); a variant without one is counted, not sent.

Stock: from PeakWMS to Shopify. PeakWMS is the warehouse: it counts the physical stock, holds orders until stock
exists, and from step 5 on tells the shop every adjustment (message 100, an absolute total). The seed's "sync
stock numbers" is the step's sales figures read *from* the shop; PeakWMS has no endpoint to receive stock
(reference/peakwms.md), and the shop's counts are what the warehouse replaces. So each PeakWMS stock row sets the
shop's `available` at the stock location to `quantity − reservedQuantity` (what PeakWMS has not promised to an
order: the shop counts those orders as committed), by SKU, 250 a mutation, with Shopify's compare-and-set (the
quantity just read) and an idempotency key derived from the input (`inventory.set_quantities`). The stock location
is the first Shopify location in `locations`, else the shop's primary location.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

from crossdock.connectors.peakwms import stock as peak_stock
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.shapes import SalesHistoryRow, StockLevel
from crossdock.connectors.shopify import inventory, order_history
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import QuantityChange
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_map import PeakKey, peak_product_for
from crossdock.integrations.peakwms_shopify.setup import SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.setup_exports import follow_export

HISTORY_CALLS = 40  # PeakWMS sales-history calls a chunk (of ≤ 500 rows): ~10 s at 240 calls a minute
STOCK_BATCHES = 4  # batches of 250 stock rows a chunk: ~4 PeakWMS pages, 8 Shopify calls (the reads cost 752)
BATCH = 250


def start_date(connection: PeakwmsShopifyConnection, today: date) -> date:
    chosen = connection.settings.history.start_date
    if chosen is not None:
        return chosen
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today - timedelta(days=365)


class StockAndHistory:
    name: str = "stock_and_history"
    title: str = "Stock and sales history"
    optional: bool = False

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        phase = state.get("phase") or "history"
        if phase == "history":
            return self._export(connection, deps, state)
        if phase == "history_rows":
            return self._send_history(connection, deps, state)
        return self._stock(connection, deps, state)

    def _export(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        today = datetime.fromisoformat(deps.now_text().replace("Z", "+00:00")).date()
        start = start_date(connection, today)
        if start >= today:
            note = f"history.start_date {start} is today or later: no sales history"
            return StepChunk(False, 0, None, {**state, "phase": "stock", "history": "skipped"}, note)
        shopify = deps.clients.shopify(connection)
        state = {**state, "start_date": start.isoformat()}
        state, operation = follow_export(shopify, state, order_history.orders_since(start), "order export")
        if operation is None:
            return StepChunk(False, 0, None, state, f"Shopify is exporting the orders since {start}")
        history = order_history.sold_per_day(operation.url)
        state = {**state, "phase": "history_rows", "url": operation.url, "rows": len(history.days), "sent": 0}
        note = f"{history.orders} orders since {start}: {len(history.days)} variant-days sold"
        return StepChunk(False, 0, len(history.days), state, note)

    def _send_history(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        history = order_history.sold_per_day(str(state.get("url") or ""))
        sent, total = int(state.get("sent") or 0), len(history.days)
        part = history.days[sent : sent + HISTORY_CALLS * peak_stock.HISTORY_BATCH]
        keys: dict[tuple[str, str], PeakKey | None] = {}
        rows: list[SalesHistoryRow] = []
        for sold in part:
            where = (sold.product_id, sold.variant_id)
            if where not in keys:
                keys[where] = peak_product_for(deps.table, connection, sold.product_id, sold.variant_id, sold.sku)
            key = keys[where]
            if key is not None:
                rows.append(SalesHistoryRow(key.product_id, key.variant_id, sold.sku or None, sold.day, sold.quantity))
        peak_stock.record_sales_history(deps.clients.peakwms(connection), rows)
        unmatched = int(state.get("unmatched") or 0) + len(part) - len(rows)
        sent += len(part)
        state = {
            **state,
            "sent": sent,
            "unmatched": unmatched,
            "history_rows_sent": int(state.get("history_rows_sent") or 0) + len(rows),
            "phase": "stock" if sent >= total else "history_rows",
        }
        note = f"sales history: {sent}/{total} variant-days"
        if unmatched:
            note += f", {unmatched} without a PeakWMS product (no SKU match)"
        return StepChunk(False, sent, total, state, note)

    def _stock(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        client: PeakwmsClient = deps.clients.peakwms(connection)
        shopify: ShopifyAdmin = deps.clients.shopify(connection)
        location = state.get("location") or _stock_location(connection, shopify)
        after = state.get("stock_after")
        params = {"LastId": int(after)} if after is not None else None
        rows = islice(client.key_set("stock", params=params), STOCK_BATCHES * BATCH)
        levels = [StockLevel.parse(record) for record in rows]
        counts = dict(state.get("stock") or {"set": 0, "unchanged": 0, "not_in_shop": 0, "refused": 0})
        for start in range(0, len(levels), BATCH):
            for name, n in set_available(shopify, connection, location, levels[start : start + BATCH]).items():
                counts[name] = counts.get(name, 0) + n
        finished = len(levels) < STOCK_BATCHES * BATCH
        ids = [int(level.id) for level in levels if level.id and level.id.isdigit()]
        state = {**state, "location": location, "stock": counts, "stock_after": max(ids) if ids else after}
        done = sum(counts.values())
        note = (
            f"stock: {counts['set']} set in Shopify, {counts['unchanged']} already equal, "
            f"{counts['not_in_shop']} not stocked in the shop, {counts['refused']} refused"
        )
        return StepChunk(finished, done, done if finished else None, state, note)


def _stock_location(connection: PeakwmsShopifyConnection, shopify: ShopifyAdmin) -> str:
    mapped = list(connection.settings.locations)
    return inventory.location_gid(mapped[0]) if mapped else inventory.primary_location(shopify)


def set_available(
    shopify: ShopifyAdmin, connection: PeakwmsShopifyConnection, location: str, levels: list[StockLevel]
) -> dict[str, int]:
    """The shop's available quantity of each SKU at `location` set to PeakWMS's unreserved stock; a stale
    compare-and-set (a sale in between) is read again and set once more."""
    wanted: dict[str, int] = {}
    for level in levels:
        if level.item_number:
            wanted[level.item_number] = wanted.get(level.item_number, 0) + level.quantity - level.reserved_quantity
    counts = {"set": 0, "unchanged": 0, "not_in_shop": sum(1 for lv in levels if not lv.item_number), "refused": 0}
    for attempt in range(2):
        found = inventory.levels_for_skus(shopify, list(wanted), location) if wanted else []
        seen = {level.sku for level in found}
        if attempt == 0:
            counts["not_in_shop"] += len(set(wanted) - seen)
        # An untracked item, or one not stocked at the location, has no available quantity to set there.
        settable = [level for level in found if level.tracked and level.stocked]
        changes = [
            QuantityChange(level.inventory_item_id, max(0, wanted[level.sku]), level.quantities.get("available"))
            for level in settable
            if level.quantities.get("available") != max(0, wanted[level.sku])
        ]
        if attempt == 0:
            counts["unchanged"] += len(settable) - len(changes)
            counts["not_in_shop"] += len(found) - len(settable)
        if not changes:
            return counts
        scope = f"peakwms-setup-{connection.id}"
        errors = inventory.set_quantities(shopify, scope, "available", location, changes)
        if not errors:
            counts["set"] += len(changes)
            return counts
        if not any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in errors):
            counts["refused"] += len(changes)
            return counts
    counts["refused"] += len(changes)
    return counts


STEP = StockAndHistory()
