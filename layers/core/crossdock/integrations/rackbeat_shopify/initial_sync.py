"""Initial sync (SPEC §1.2 `initial_sync`): every Shopify product and its current stock into Rackbeat, once.

Shopify exports the catalog as one bulk operation (JSONL: a line per variant, its inventory levels as child lines
with `__parentId`), so the read costs a handful of calls whatever the catalog's size. The import then walks the
file in chunks, one workflow step each, at Rackbeat's rate:

- one `POST /products` per new item; Rackbeat's item numbers are unique, so a create repeated after a crash or a
  lost response is refused as "taken" and cannot make a duplicate;
- one inventory adjustment per chunk for the stock, whose reason names the chunk: found booked on a re-run, the
  chunk's stock is registered already; found unbooked, it is booked — never a second adjustment;
- progress (variants done / total, created, already present, skipped) is saved after each chunk, so a crash
  resumes at the last saved chunk and re-runs at most one.

Stock is registered only where Rackbeat holds none: an item that already has stock in Rackbeat keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from crossdock import pacing, retry_after
from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import bulk_export, queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.inventory import location_gid
from crossdock.connectors.shopify.products import plain_text, variant_name
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.integration import InitialSyncDeps
from crossdock.integrations.initial_sync_start import ClaimedInitialSync
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.model.product import CatalogItem, money
from crossdock.store import sync_progress

CHUNK = 1000  # variants per workflow step: ~2 minutes at 480 calls/min, well inside a Lambda's 15
WORKERS = 4  # concurrent creates; the shared pacer keeps them at Rackbeat's rate
PATIENCE = 6
MAX_REPORTED = 50  # skipped variants listed by id; beyond that only counted
GRAMS = {"GRAMS": Decimal(1), "KILOGRAMS": Decimal(1000), "POUNDS": Decimal("453.59237"), "OUNCES": Decimal("28.3495")}
T = TypeVar("T")
# SPEC §1.2: the merchant is to be warned before the run.
STOCK_WARNING = (
    "Items that get stock registered in Rackbeat by the initial sync can no longer be deleted or converted to BOMs."
)


@dataclass(frozen=True)
class SyncDeps:
    table: Any
    rackbeat: Callable[[RackbeatShopifyConnection], RackbeatClient]
    shopify: Callable[[RackbeatShopifyConnection], ShopifyAdmin]
    now_text: Callable[[], str]


def run_step(step: str, connection: Connection, deps: SyncDeps) -> dict[str, Any]:
    steps = {"start_export": start_export, "check_export": check_export, "import_chunk": import_chunk}
    if step not in steps:
        raise PermanentError(f"unknown initial sync step {step!r}", FailureClass.BUG)
    return steps[step](RackbeatShopifyConnection.of(connection), deps)


class ShopifyInitialSync(ClaimedInitialSync):
    """This kind's initial sync as `integration.InitialSync` (the initial-sync function and operations ask the
    registry for it; the claim and start are `initial_sync_start`'s)."""

    warning = STOCK_WARNING

    def chosen(self, connection: Connection) -> bool:
        return RackbeatShopifyConnection.of(connection).settings.initial_sync == "enabled"

    def not_chosen(self, connection: Connection) -> str:
        return "initial_sync is disabled for this connection"

    def run_step(self, step: str, connection: Connection, deps: InitialSyncDeps) -> dict[str, Any]:
        return run_step(
            step, connection, SyncDeps(deps.table, deps.clients.rackbeat, deps.clients.shopify, deps.now_text)
        )


INITIAL_SYNC = ShopifyInitialSync()


def start_export(connection: RackbeatShopifyConnection, deps: SyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    if progress.get("bulk_operation_id"):  # a retried step: the export is already running
        return {"export": "running"}
    data = deps.shopify(connection).run(queries.RUN_BULK_QUERY, {"query": queries.CATALOG_EXPORT})
    answer = data["bulkOperationRunQuery"]
    if answer.get("userErrors"):
        raise RetryableError(f"Shopify did not start the export: {answer['userErrors'][0].get('message')}")
    sync_progress.update(deps.table, connection.id, status="exporting", bulk_operation_id=answer["bulkOperation"]["id"])
    return {"export": "running"}


def check_export(connection: RackbeatShopifyConnection, deps: SyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    operation = deps.shopify(connection).run(queries.BULK_OPERATION, {"id": progress["bulk_operation_id"]})[
        "bulkOperation"
    ]
    status = operation["status"]
    if status in ("CREATED", "RUNNING"):
        return {"export": "running"}
    if status != "COMPLETED":
        raise PermanentError(f"Shopify's catalog export ended {status} ({operation.get('errorCode')})")
    total = int(operation.get("rootObjectCount") or 0)
    sync_progress.update(
        deps.table,
        connection.id,
        status="importing",
        url=operation.get("url") or "",
        total=total,
        done=0,
        created=0,
        existing=0,
        skipped=0,
        skipped_variants=[],
    )
    return {"export": "completed"}


@dataclass
class _Variant:
    index: int
    line: dict[str, Any]
    levels: list[dict[str, Any]] = field(default_factory=list)


def import_chunk(connection: RackbeatShopifyConnection, deps: SyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    offset, total = int(progress.get("done", 0)), int(progress.get("total") or 0)
    if offset >= total:
        sync_progress.update(deps.table, connection.id, status="done", finished_at=deps.now_text())
        return {"finished": True}
    chunk, earlier_skus = _read_chunk(progress.get("url") or "", offset, CHUNK)
    rackbeat = deps.rackbeat(connection)
    reason = f"Crossdock initial sync {connection.id} variants {offset + 1}-{offset + len(chunk)}"
    stock_done = _patiently(lambda: rackbeat_products.find_adjustment(rackbeat, reason)) is not None
    items, skipped = _items(connection, chunk, earlier_skus)
    group = connection.settings.product_sync.default_product_group
    with ThreadPoolExecutor(WORKERS) as pool:
        created = list(
            pool.map(lambda pair: _patiently(lambda: rackbeat_products.create_item(rackbeat, pair[0], group)), items)
        )
    stock_lines: list[tuple[str, int]] = []
    for (item, quantity), was_created in zip(items, created, strict=True):
        if stock_done or quantity <= 0:
            continue
        if was_created or _has_no_stock(rackbeat, item.number):
            stock_lines.append((item.number, quantity))
    if not stock_done:
        location = connection.settings.fulfillment.rackbeat_location
        _patiently(lambda: rackbeat_products.register_stock(rackbeat, reason, stock_lines, location))
    done = offset + len(chunk)
    listed = list(progress.get("skipped_variants") or [])
    sync_progress.update(
        deps.table,
        connection.id,
        done=done,
        created=int(progress.get("created", 0)) + sum(created),
        existing=int(progress.get("existing", 0)) + len(created) - sum(created),
        skipped=int(progress.get("skipped", 0)) + len(skipped),
        skipped_variants=(listed + skipped)[:MAX_REPORTED],
        status="importing" if done < total else "done",
    )
    if done >= total:
        sync_progress.update(deps.table, connection.id, finished_at=deps.now_text())
    return {"finished": done >= total}


def _has_no_stock(rackbeat: RackbeatClient, number: str) -> bool:
    quantity = _patiently(lambda: rackbeat_products.stock_quantity(rackbeat, number, "in_stock", None))
    return not quantity


def _read_chunk(url: str, offset: int, size: int) -> tuple[list[_Variant], set[str]]:
    """Variants [offset, offset + size) with their child lines, and the SKUs of every variant before them (to
    recognise a SKU used twice across the catalog)."""
    chunk: dict[str, _Variant] = {}
    earlier: set[str] = set()
    index = -1
    for raw in bulk_export.raw_lines(url):
        if b'"__parentId"' in raw:
            if not chunk:  # children follow their parent: before the chunk starts, none of them is wanted
                continue
            line = json.loads(raw)
            if line["__parentId"] in chunk:
                chunk[line["__parentId"]].levels.append(line)
            continue
        index += 1
        if index >= offset + size:
            continue
        line = json.loads(raw)
        if index < offset:
            if line.get("sku"):
                earlier.add(str(line["sku"]).strip())
        else:
            chunk[line["id"]] = _Variant(index, line)
    return sorted(chunk.values(), key=lambda v: v.index), earlier


def _items(
    connection: RackbeatShopifyConnection, chunk: list[_Variant], earlier_skus: set[str]
) -> tuple[list[tuple[CatalogItem, int]], list[str]]:
    wanted_location = connection.settings.fulfillment.shopify_location
    location = location_gid(wanted_location) if wanted_location else None
    items: list[tuple[CatalogItem, int]] = []
    skipped: list[str] = []
    seen = set(earlier_skus)
    for variant in chunk:
        line = variant.line
        sku = str(line.get("sku") or "").strip()
        if not sku:
            skipped.append(f"{line['id']}: no SKU")
            continue
        if sku in seen:
            skipped.append(f"{line['id']}: SKU {sku} used by an earlier variant")
            continue
        seen.add(sku)
        product = line.get("product") or {}
        inventory_item = line.get("inventoryItem") or {}
        weight = ((inventory_item.get("measurement") or {}).get("weight")) or {}
        grams = GRAMS.get(str(weight.get("unit")))
        item = CatalogItem(
            number=sku,
            name=variant_name(str(product.get("title") or sku), line.get("title")),
            description=plain_text(product.get("descriptionHtml")),
            sales_price=money(line.get("price")),
            barcode=line.get("barcode") or None,
            weight=(Decimal(str(weight["value"])) * grams).quantize(Decimal(1))
            if grams and weight.get("value")
            else None,
            weight_unit="g" if grams and weight.get("value") else None,
        )
        quantity = _on_hand(variant.levels, location) if inventory_item.get("tracked", True) else 0
        items.append((item, quantity))
    return items, skipped


def _on_hand(levels: list[dict[str, Any]], location: str | None) -> int:
    total = 0
    for level in levels:
        if location is not None and (level.get("location") or {}).get("id") != location:
            continue
        total += sum(int(q["quantity"]) for q in level.get("quantities", []) if q.get("name") == "on_hand")
    return total


def _patiently(call: Callable[[], T]) -> T:
    """Wait out Rackbeat's 429s (Retry-After) and brief failures in place, a few times, before giving the step
    back to the workflow: repeating a call here is safe (creates are refused as "taken", the adjustment is found
    by its reason), and one flaky call should not redo a whole chunk."""
    for attempt in range(PATIENCE):
        try:
            return call()
        except RateLimited as throttled:
            pacing.clock.sleep(retry_after.for_error(throttled))
        except RetryableError:
            pacing.clock.sleep(min(2.0**attempt, 30.0))
    return call()
