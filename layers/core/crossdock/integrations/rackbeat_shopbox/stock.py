"""Stock of `rackbeat_shopbox`: Rackbeat is the stock master, each mapped Shopbox branch a target (SPEC §2, issue 14
item 5).

The push itself — coalescing a burst, batches, continuations — is `flows.stock_push`, as for every kind. What this
kind reads and sets:

- source: the item's stock per Rackbeat location, one `products/{number}/locations` read per item whatever the
  number of branches (the quantity `flows.stock_push` sees is their sum; the target takes the per-location figures
  from the same read). Connections on one Rackbeat account share that read for a few minutes (`SharedReads`), but
  only a read that started after the connection's latest change of the item: an older one is never written.
- target: every branch of the plan (`branch_plan`) gets the absolute quantity of its location through
  `POST /product-inventories`, on the item's Shopbox product and variant — the mapping row the initial sync or the
  product push wrote (`catalog_mapping.shopbox_of`), else the item's custom fields `uid_field_id` /
  `variant_field_id`. An item with neither is reported, never guessed by SKU.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient, item_path
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.model.product import StockLevel
from crossdock.ports import StockPushReport
from crossdock.store import stock

BATCH = 50  # items per batch: up to branches × 50 writes, at Shopbox's guessed 5 a second well inside a minute
SHARED_READ_SECONDS = 600  # how long a read may serve the other connections of the account (then the TTL drops it)
NOTE = "Rackbeat stock"  # the inventory note Shopbox keeps with each write: where the number came from

PerLocation = dict[str, int]


def stock_changed(
    connection_id: str, number: str, table: Any, now: Callable[[], float], request_push: Callable[[str], None]
) -> str:
    """Rackbeat says `number`'s stock changed: remember it and make sure a push will come."""
    stock.mark_dirty(table, connection_id, number, now())
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


def _whole(value: Any) -> int:
    # A till sells whole units: 2.5 in stock is 2.
    return int(Decimal(str(value or 0)).to_integral_value(ROUND_FLOOR))


def read_locations(rackbeat: RackbeatClient, number: str) -> PerLocation | None:
    """The item's quantity in stock per Rackbeat location number, or None when Rackbeat has no such item."""
    try:
        rows = rackbeat.get(f"products/{item_path(number)}/locations", limit=1000)["product_locations"]
    except NotFound:
        return None
    return {str(row.get("number")): _whole(row.get("stock_quantity")) for row in rows}


@dataclass(frozen=True)
class SharedReads:
    """Reads of one Rackbeat account's stock, kept briefly so its other connections need not read again.

    A record says what the item's locations held when a read *started* (`read_at`, taken before the call): a
    connection whose latest change of the item came at `changed_at` may use it only when `read_at >= changed_at`,
    because the change happened before its webhook was received, hence before such a read. A later read replaces an
    earlier one, never the other way round (conditional put)."""

    table: Any
    account: str  # the Rackbeat account (api base + company id)

    def _key(self, number: str) -> dict[str, str]:
        digest = hashlib.sha256(self.account.encode()).hexdigest()[:32]
        return {"pk": f"STOCKREAD#{digest}", "sk": f"ITEM#{number}"}

    def fresh(self, number: str, changed_at: float) -> tuple[bool, PerLocation | None]:
        """(True, the quantities) when a read that started at or after `changed_at` is kept, else (False, None)."""
        found = self.table.get_item(Key=self._key(number), ConsistentRead=True).get("Item")
        if not found or float(found["read_at"]) < changed_at:
            return False, None
        if found.get("gone"):
            return True, None
        return True, {location: int(quantity) for location, quantity in json.loads(found["locations"]).items()}

    def keep(self, number: str, read_at: float, quantities: PerLocation | None) -> None:
        record: dict[str, Any] = {
            **self._key(number),
            "read_at": Decimal(str(round(read_at, 3))),
            "expires_at": int(read_at) + SHARED_READ_SECONDS,
        }
        if quantities is None:
            record["gone"] = True
        else:
            record["locations"] = json.dumps(quantities, sort_keys=True)
        # Refused when another connection kept a later read: that one serves as well.
        with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.table.put_item(
                Item=record,
                ConditionExpression="attribute_not_exists(pk) OR read_at < :mine",
                ExpressionAttributeValues={":mine": record["read_at"]},
            )


@dataclass
class RackbeatLocations:
    """`ports.StockSource` (and `flows.stock_push.SharedReadSource`): the item's stock per Rackbeat location."""

    rackbeat: RackbeatClient
    account: str | None  # None: the company id is unknown, so nothing is shared
    missing: str = "not an item in Rackbeat (deleted?)"
    read: dict[str, PerLocation] = field(default_factory=dict)  # what the target sets, per item number
    # The push's table, handed in by `flows.stock_push` with the first item; the target finds the mapping in it.
    table: Any = None

    def quantity(self, number: str) -> int | None:
        return self._store(number, self._read(number))

    def quantity_after(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> int | None:
        self.table = table
        if self.account is None:
            return self.quantity(number)
        shared = SharedReads(table, self.account)
        kept, quantities = shared.fresh(number, changed_at)
        if not kept:
            started = now()
            quantities = self._read(number)
            shared.keep(number, started, quantities)
        return self._store(number, quantities)

    def _read(self, number: str) -> PerLocation | None:
        return read_locations(self.rackbeat, number)

    def _store(self, number: str, quantities: PerLocation | None) -> int | None:
        if quantities is None:
            return None
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


def _account(connection: RackbeatShopboxConnection) -> str | None:
    rackbeat = connection.accounts.rackbeat
    return None if rackbeat.identity is None else f"{rackbeat.api_base.rstrip('/')}|{rackbeat.identity}"


class RackbeatShopboxStock:
    """`ports.StockSync` of this kind."""

    def enabled(self, connection: Connection) -> bool:
        return bool(branch_plan(RackbeatShopboxConnection.of(connection).settings))

    def endpoints(self, connection: Connection, clients: Any) -> tuple[RackbeatLocations, BranchStock]:
        own = RackbeatShopboxConnection.of(connection)
        rackbeat = clients.rackbeat(own)
        source = RackbeatLocations(rackbeat, _account(own))
        return source, BranchStock(own, clients.shopbox(own), rackbeat, source)


STOCK = RackbeatShopboxStock()
