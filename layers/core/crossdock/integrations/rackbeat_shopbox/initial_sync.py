"""Initial sync `shopbox_to_rackbeat` (SPEC §2, issue 14 item 3): every Shopbox product and variant into Rackbeat
as an item, bound to it through the two custom item fields and the mapping, and each branch's stock as Rackbeat
stock at the branch's location — once, at activation.

The workflow is the initial-sync workflow every kind runs (statemachines/initial_sync.asl.json):

- `start_export` reads the whole catalogue (products, branches, each branch's stock) and keeps it as chunks beside
  the progress (`sync_progress.save_chunk`), already mapped (`catalog_mapping`): every later step imports what this
  one read, whichever container runs it. Shopbox has no export file; this is ours. Read again only while no chunk
  has been imported.
- `check_export` answers "completed" once the chunks are written.
- `import_chunk` imports one chunk a step, at Rackbeat's rate: one `POST /products` per new item (Rackbeat's item
  numbers are unique: a repeated create is refused as "taken" and cannot make a second item; a chunk run again
  after a crash looks each item up by number first), its UIDs into the two custom fields, the mapping rows, and one
  inventory adjustment per chunk that brings each item's stock at each location to Shopbox's count. The
  adjustment's reason names the chunk: found booked on a re-run, the chunk's stock is registered already; found
  unbooked, it is booked — never a second adjustment.

Progress (items done / total, created, already in Rackbeat, not synced with the reasons, stock lines) is saved after
each chunk, so a crash resumes at the last saved chunk and re-runs at most one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from crossdock import pacing, retry_after
from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable, item_path
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.integration import InitialSyncDeps
from crossdock.integrations.initial_sync_start import ClaimedInitialSync
from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.catalog_mapping import CatalogEntry
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.store import sync_progress

CHUNK = 500  # items per workflow step: ~1,500 Rackbeat calls, about 3 minutes at 480 calls/min
WORKERS = 4  # concurrent items; the account's shared pacer keeps them at Rackbeat's rate
PATIENCE = 6
MAX_REPORTED = 50  # items (and stock) not synced, listed with the reason; beyond that only counted
CHOSEN = "shopbox_to_rackbeat"
READING = "exporting"  # the progress' status while the catalogue is read (the name every kind's progress uses)
WARNING = (
    "Items that get stock registered in Rackbeat by the initial sync can no longer be deleted or converted to BOMs; "
    "Rackbeat's stock of each item at each mapped location is set to Shopbox's count there."
)
T = TypeVar("T")


def run_step(step: str, connection: RackbeatShopboxConnection, deps: InitialSyncDeps) -> dict[str, Any]:
    steps = {"start_export": read_catalogue, "check_export": check_catalogue, "import_chunk": import_chunk}
    if step not in steps:
        raise PermanentError(f"unknown initial sync step {step!r}", FailureClass.BUG)
    return steps[step](connection, deps)


class ShopboxInitialSync(ClaimedInitialSync):
    """This kind's initial sync as `integration.InitialSync` (the claim and start are `initial_sync_start`'s)."""

    warning = WARNING

    def chosen(self, connection: Connection) -> bool:
        return RackbeatShopboxConnection.of(connection).settings.initial_sync == CHOSEN

    def not_chosen(self, connection: Connection) -> str:
        chosen = RackbeatShopboxConnection.of(connection).settings.initial_sync
        return f"initial_sync is '{chosen}', not '{CHOSEN}', for this connection"

    def run_step(self, step: str, connection: Connection, deps: InitialSyncDeps) -> dict[str, Any]:
        return run_step(step, RackbeatShopboxConnection.of(connection), deps)


INITIAL_SYNC = ShopboxInitialSync()


# ---- reading the catalogue ---------------------------------------------------------------------------------------


def read_catalogue(connection: RackbeatShopboxConnection, deps: InitialSyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    if progress.get("total") is not None:  # a retried step: the catalogue was read and kept
        return {"export": "running"}
    sync_progress.update(deps.table, connection.id, status=READING)
    shopbox = deps.clients.shopbox(connection)
    products = list(shopbox.products())
    stock_rows = {str(branch.uid): shopbox.inventories(str(branch.uid)) for branch in shopbox.branches()}
    settings = connection.settings
    catalog = catalog_mapping.catalog_entries(products, settings)
    stock = catalog_mapping.stock_by_location(stock_rows, {str(p.uid): p for p in products}, settings)
    records: list[dict[str, Any]] = [
        {**entry.to_json(), "stock": stock.quantities.get(entry.shopbox_key, {})} for entry in catalog.entries
    ]
    records += [{"not_synced": reason} for reason in catalog.unmapped]
    chunks = [records[at : at + CHUNK] for at in range(0, len(records), CHUNK)]
    for index, chunk in enumerate(chunks):
        sync_progress.save_chunk(deps.table, connection.id, index, chunk)
    sync_progress.update(
        deps.table,
        connection.id,
        status="importing",
        total=len(records),
        done=0,
        created=0,
        existing=0,
        skipped=0,
        skipped_variants=[],
        stock_lines=0,
        stock_not_synced=stock.unmapped[:MAX_REPORTED],
        stock_not_synced_count=len(stock.unmapped),
        chunk_size=CHUNK,
    )
    return {"export": "running"}


def check_catalogue(connection: RackbeatShopboxConnection, deps: InitialSyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    return {"export": "completed" if progress.get("total") is not None else "running"}


# ---- importing a chunk --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    created: bool
    # (item number, change to Shopbox's count, location)
    stock_lines: list[tuple[str, int, str]]


def import_chunk(connection: RackbeatShopboxConnection, deps: InitialSyncDeps) -> dict[str, Any]:
    progress = sync_progress.load(deps.table, connection.id) or {}
    offset, total = int(progress.get("done", 0)), int(progress.get("total") or 0)
    if offset >= total:
        sync_progress.update(deps.table, connection.id, status="done", finished_at=deps.now_text())
        return {"finished": True}
    size = int(progress.get("chunk_size") or CHUNK)
    records = sync_progress.load_chunk(deps.table, connection.id, offset // size)
    if records is None:
        raise PermanentError(f"the initial sync's chunk {offset // size} is missing", FailureClass.BUG)
    # A chunk begun before (its step crashed or timed out) may have created items whose answer was lost.
    resumed = progress.get("chunk_started") == offset
    if not resumed:
        sync_progress.update(deps.table, connection.id, chunk_started=offset)
    rackbeat: RackbeatClient = deps.clients.rackbeat(connection)
    reason = f"Crossdock initial sync {connection.id} Shopbox items {offset + 1}-{offset + len(records)}"
    stock_done = _stock_registered(rackbeat, reason)
    entries = [(CatalogEntry.from_json(r), dict(r.get("stock") or {})) for r in records if "not_synced" not in r]
    not_synced = [str(r["not_synced"]) for r in records if "not_synced" in r]

    def place(pair: tuple[CatalogEntry, dict[str, int]]) -> _Placed:
        entry, wanted = pair
        return _place(rackbeat, connection, entry, wanted, resumed=resumed, stock_done=stock_done)

    with ThreadPoolExecutor(WORKERS) as pool:
        placed = list(pool.map(place, entries))
    for entry, _ in entries:
        catalog_mapping.bind(deps.table, connection.id, entry)
    lines = [line for one in placed for line in one.stock_lines]
    refused = _patiently(lambda: _register_stock(rackbeat, reason, lines)) if not stock_done and lines else []
    created = sum(one.created for one in placed)
    done = offset + len(records)
    listed = list(progress.get("skipped_variants") or [])
    sync_progress.update(
        deps.table,
        connection.id,
        done=done,
        created=int(progress.get("created", 0)) + created,
        existing=int(progress.get("existing", 0)) + len(placed) - created,
        skipped=int(progress.get("skipped", 0)) + len(not_synced),
        skipped_variants=(listed + not_synced)[:MAX_REPORTED],
        stock_lines=int(progress.get("stock_lines", 0)) + (0 if stock_done else len(lines) - len(refused)),
        stock_not_synced=(list(progress.get("stock_not_synced") or []) + refused)[:MAX_REPORTED],
        stock_not_synced_count=int(progress.get("stock_not_synced_count", 0)) + len(refused),
        status="importing" if done < total else "done",
        **({"finished_at": deps.now_text()} if done >= total else {}),
    )
    return {"finished": done >= total}


def _place(
    rackbeat: RackbeatClient,
    connection: RackbeatShopboxConnection,
    entry: CatalogEntry,
    wanted: dict[str, int],
    *,
    resumed: bool,
    stock_done: bool,
) -> _Placed:
    """The item made (or found), its UID fields written, and the stock lines that bring it to Shopbox's counts."""
    settings = connection.settings
    # Each call is waited out on its own, so a field value that meets a 5xx does not repeat the create.
    if resumed and _patiently(lambda: rackbeat_products.read_item(rackbeat, entry.number)) is not None:
        created = False
    else:
        created = _patiently(lambda: _create(rackbeat, entry, settings.add_vat))
    for field_id, value in ((settings.uid_field_id, entry.product_uid), (settings.variant_field_id, entry.variant_uid)):
        if field_id is not None and value is not None:
            _patiently(partial(_set_field, rackbeat, entry.number, field_id, value))
    if stock_done or not wanted:
        return _Placed(created, [])
    # A new item holds nothing anywhere; one that was there (or made by a step that crashed) may hold stock.
    current = {} if created and not resumed else _patiently(lambda: _stock_at_locations(rackbeat, entry.number))
    lines = [
        (entry.number, quantity - current.get(location, 0), location)
        for location, quantity in sorted(wanted.items())
        if quantity != current.get(location, 0)
    ]
    return _Placed(created, lines)


def _set_field(rackbeat: RackbeatClient, number: str, field_id: str, value: str) -> None:
    rackbeat.put(f"products/{item_path(number)}/fields/{field_id}", {"value": value}, **rackbeat_products.SUPPRESS)


def _create(rackbeat: RackbeatClient, entry: CatalogEntry, add_vat: bool) -> bool:
    """False when Rackbeat already has an item with that number (a merchant's own, or ours from a lost answer)."""
    try:
        rackbeat.post("products", entry.rackbeat_body(add_vat), **rackbeat_products.SUPPRESS)
    except Unprocessable as refused:
        if any("taken" in message for message in refused.errors.get("number", [])):
            return False
        raise
    return True


def _stock_at_locations(rackbeat: RackbeatClient, number: str) -> dict[str, int]:
    rows = rackbeat.get(f"products/{item_path(number)}/locations", limit=1000).get("product_locations", [])
    return {str(row.get("number")): int(Decimal(str(row.get("stock_quantity") or 0))) for row in rows}


def _stock_registered(rackbeat: RackbeatClient, reason: str) -> bool:
    """Whether the chunk's adjustment is booked (booking it now if a crash came between making and booking it)."""
    found = _patiently(lambda: rackbeat_products.find_adjustment(rackbeat, reason))
    if found is None:
        return False
    if not found.get("is_booked"):
        _patiently(lambda: _book(rackbeat, found["id"], reason))
    return True


def _book(rackbeat: RackbeatClient, adjustment_id: Any, reason: str) -> None:
    """Book the adjustment; a booking repeated after its answer was lost is refused as booked already, which is
    what was wanted."""
    try:
        rackbeat.post(f"inventory-adjustments/{adjustment_id}/book", {}, **rackbeat_products.SUPPRESS)
    except Unprocessable:
        found = rackbeat_products.find_adjustment(rackbeat, reason)
        if found is None or not found.get("is_booked"):
            raise


def _register_stock(rackbeat: RackbeatClient, reason: str, lines: list[tuple[str, int, str]]) -> list[str]:
    """One adjustment for the chunk's stock, booked. Lines Rackbeat refuses (an item whose group keeps no stock)
    are left out and returned as reasons; the rest are registered."""
    refused: list[str] = []
    wanted = list(lines)
    while wanted:
        if _stock_registered(rackbeat, reason):  # a repeat after a lost answer: made (and now booked) already
            break
        body = {
            "adjustment_type": "quantity",
            "reason": reason,
            "lines": [{"item_id": n, "quantity": q, "location": loc} for n, q, loc in wanted],
        }
        try:
            made = rackbeat.post("inventory-adjustments", body, **rackbeat_products.SUPPRESS)["inventory_regulation"]
        except Unprocessable as problem:
            bad = _refused_lines(problem, len(wanted))
            if not bad:
                raise
            refused += [
                f"stock of item {wanted[i][0]} at location {wanted[i][2]}: Rackbeat refused it ({_why(problem, i)})"
                for i in sorted(bad)
            ]
            wanted = [line for i, line in enumerate(wanted) if i not in bad]
            continue
        _book(rackbeat, made["id"], reason)
        break
    return refused


def _why(problem: Unprocessable, line: int) -> str:
    said = [m for key, messages in problem.errors.items() if key.startswith(f"lines.{line}.") for m in messages]
    return "; ".join(said) or "refused"


def _refused_lines(problem: Unprocessable, count: int) -> set[int]:
    bad: set[int] = set()
    for key in problem.errors:
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < count:
            bad.add(int(parts[1]))
    return bad


def _patiently(call: Callable[[], T]) -> T:
    """Wait out Rackbeat's 429s (Retry-After) and brief failures in place, a few times, before giving the step
    back to the workflow: every call here is safe to repeat (creates are refused as "taken", field values are
    set, the adjustment is found by its reason), and one flaky call should not redo a whole chunk."""
    for attempt in range(PATIENCE):
        try:
            return call()
        except RateLimited as throttled:
            pacing.clock.sleep(retry_after.for_error(throttled))
        except RetryableError:
            pacing.clock.sleep(min(2.0**attempt, 30.0))
    return call()
