"""Stock of `rackbeat_shopbox`: Rackbeat is the stock master, each mapped Shopbox branch a target (SPEC §2, issue 14
item 5).

The push itself — coalescing a burst, batches, continuations — is `flows.stock_push`, as for every kind. What this
kind reads and sets:

- source: the item's stock per Rackbeat location, one `products/{number}/locations` read per item whatever the
  number of branches (the quantity `flows.stock_push` sees is their sum; the target takes the per-location figures
  from the same read). Every connection on one Rackbeat account — shops too — shares that read for a few minutes
  (`rackbeat_stock_reads`), but only a read that started after the connection's latest change of the item: an
  older one is never written.
- target: every branch of the plan (`branch_plan`) gets the absolute quantity of its location through
  `POST /product-inventories`, on the item's Shopbox product and variant — the mapping row the initial sync or the
  product push wrote (`catalog_mapping.shopbox_of`), else the item's custom fields `uid_field_id` /
  `variant_field_id`. An item with neither is reported, never guessed by SKU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient, item_path
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations import rackbeat_stock_reads
from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.model.product import StockLevel
from crossdock.ports import StockPushReport
from crossdock.store import stock

BATCH = 50  # items per batch: up to branches × 50 writes, at Shopbox's guessed 5 a second well inside a minute
NOTE = "Rackbeat stock"  # the inventory note Shopbox keeps with each write: where the number came from

PerLocation = dict[str, int]


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
    return f"stock of {number} queued for Shopbox (coalesced)"


def branch_plan(settings: RackbeatShopboxSettings) -> dict[str, str]:
    """Shopbox branch uid → the Rackbeat location whose stock it shows.

    Every branch of `locations` shows its own location. `main_location_shopbox`, when no entry of `locations`
    names it, shows `main_location_rackbeat` (the two main locations mirror each other); without
    `main_location_rackbeat` it shows nothing. `main_location_rackbeat` alone adds no branch: it is the location
    of sales from branches that are not mapped (`sales_order.location_for`), and Rackbeat's stock is not spread
    over branches nobody mapped."""
    plan = {str(branch): str(location) for branch, location in settings.locations.items()}
    main_branch, main_location = settings.main_location_shopbox, settings.main_location_rackbeat
    if main_branch is not None and main_location is not None:
        plan.setdefault(str(main_branch), str(main_location))
    return plan


@dataclass
class RackbeatLocations:
    """`ports.StockSource` (and `flows.stock_push.SharedReadSource`): the item's stock per Rackbeat location, read
    once for every connection on the Rackbeat account (`rackbeat_stock_reads`)."""

    rackbeat: RackbeatClient
    account: str | None  # the Rackbeat account's key; None: the company id is unknown, so nothing is shared
    missing: str = "not an item in Rackbeat (deleted?)"
    read: dict[str, PerLocation] = field(default_factory=dict)  # what the target sets, per item number
    # The push's table, handed in by `flows.stock_push` with the first item; the target finds the mapping in it.
    table: Any = None

    def quantity(self, number: str) -> int | None:
        return self._store(number, rackbeat_stock_reads.read_locations(self.rackbeat, number))

    def quantity_after(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> int | None:
        self.table = table
        reader = rackbeat_stock_reads.AccountStockReader(self.rackbeat, self.account)
        return self._store(number, reader.locations(number, changed_at, table, now))

    def _store(self, number: str, found: rackbeat_stock_reads.PerLocation | None) -> int | None:
        if found is None:
            return None
        quantities = {location: counted.in_stock for location, counted in found.items()}
        self.read[number] = quantities
        return sum(quantities.values())


@dataclass(frozen=True)
class ShopboxPlace:
    """Where an item's stock lives in Shopbox."""

    product: str
    variance: str | None


def shopbox_place(
    table: Any, connection: RackbeatShopboxConnection, number: str, rackbeat: RackbeatClient
) -> ShopboxPlace | None:
    """The item's Shopbox product and variant: its mapping row, else its custom fields (`uid_field_id`,
    `variant_field_id`), else None."""
    binding = catalog_mapping.shopbox_of(table, connection.id, number)
    if binding and binding.get("product_uid"):
        variance = binding.get("variant_uid")
        return ShopboxPlace(str(binding["product_uid"]), None if variance in (None, "") else str(variance))
    settings = connection.settings
    if settings.uid_field_id is None:
        return None
    try:
        body = rackbeat.get(f"products/{item_path(number)}/fields", limit=1000)
    except NotFound:
        return None
    values = {str((value.get("field") or {}).get("id")): value.get("value") for value in body.get("field_values", [])}
    product = values.get(str(settings.uid_field_id))
    if product in (None, ""):
        return None
    variance = values.get(str(settings.variant_field_id)) if settings.variant_field_id is not None else None
    return ShopboxPlace(str(product).strip(), None if variance in (None, "") else str(variance).strip())


class BranchStock:
    """`ports.StockTarget`: each planned branch's absolute quantity of each item."""

    batch_size = BATCH

    def __init__(
        self,
        connection: RackbeatShopboxConnection,
        shopbox: ShopboxClient,
        rackbeat: RackbeatClient,
        source: RackbeatLocations,
    ) -> None:
        self._connection = connection
        self._shopbox = shopbox
        self._rackbeat = rackbeat
        self._source = source

    def set_levels(self, wanted: dict[str, StockLevel], report: StockPushReport) -> None:
        plan = branch_plan(self._connection.settings)
        table = self._source.table
        if table is None:
            raise PermanentError(
                "the stock push ran without its table (flows.stock_push hands it in)", FailureClass.BUG
            )
        for number in sorted(wanted):
            place = shopbox_place(table, self._connection, number, self._rackbeat)
            if place is None:
                report.problems.append(
                    f"{number}: no Shopbox product for this item (not in the mapping, and no UID in the item's "
                    "custom field)"
                )
                continue
            at = self._source.read.get(number, {})
            for branch, location in sorted(plan.items()):
                quantity = at.get(location, 0)  # never stocked at that location: none there
                try:
                    self._shopbox.set_inventory(branch, place.product, place.variance, quantity, NOTE)
                except PermanentError as refused:
                    report.problems.append(f"{number} at branch {branch}: {refused.reason}")
                    continue
                report.mutations += 1
                report.pushed += 1


class RackbeatShopboxStock:
    """`ports.StockSync` of this kind."""

    def enabled(self, connection: Connection) -> bool:
        return bool(branch_plan(RackbeatShopboxConnection.of(connection).settings))

    def endpoints(self, connection: Connection, clients: Any) -> tuple[RackbeatLocations, BranchStock]:
        own = RackbeatShopboxConnection.of(connection)
        rackbeat = clients.rackbeat(own)
        source = RackbeatLocations(rackbeat, own_webhooks.account_key(own.accounts.rackbeat))
        return source, BranchStock(own, clients.shopbox(own), rackbeat, source)


STOCK = RackbeatShopboxStock()
