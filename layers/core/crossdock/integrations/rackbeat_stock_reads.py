"""Reads of a Rackbeat item's stock shared by every connection on one Rackbeat account (issue 18): Rackbeat's one
webhook for a change reaches all the account's followers (`rackbeat_webhook_upkeep`), and their stock pushes share
one read of the item through the table instead of each reading it again.

Why the table, not the fan-out's messages: ingest answers Rackbeat without calling it (DESIGN §1), and a push runs
seconds after the webhook, once the burst has settled (`flows.stock_push`): a quantity read at ingest would be older
than the push, and carried in a message it could not be told from a newer one. A read kept in the table says when it
*started* (`read_at`, taken before the call); a connection whose latest change of the item was marked at
`changed_at` uses it only when `read_at >= changed_at` — the change happened before its webhook was received, hence
before such a read — else it reads again and keeps that read. A later read replaces an earlier one, never the other
way round (a conditional put), and the TTL forgets it after `SHARED_READ_SECONDS`. The stock markers and their
ordering (`store.stock`) are as before: what is shared is only a read that is at least as new as the change.

An item is read in one of two shapes, each shared separately: its locations (`products/{n}/locations`: what every
Shopbox branch and a shop at one Rackbeat location need) and the item itself (`products/{n}`: a shop that shows
all locations' total, which the locations do not add up to when stock is kept outside them). So an account whose
followers all read one shape reads each changed item once; one mixing both reads it twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient, item_path

SHARED_READ_SECONDS = 600  # how long a read may serve the account's other connections (then the TTL drops it)

Shape = Literal["locations", "product"]


def whole(value: Any) -> int:
    # Shops and tills sell whole units: 2.5 in stock is 2.
    return int(Decimal(str(value or 0)).to_integral_value(ROUND_FLOOR))


@dataclass(frozen=True)
class Quantities:
    """Whole units in stock and available (in stock less what booked orders reserve)."""

    in_stock: int
    available: int

    def of(self, quantity: Literal["in_stock", "available"]) -> int:
        return self.in_stock if quantity == "in_stock" else self.available


@dataclass(frozen=True)
class ProductStock:
    """The item's own totals (`products/{n}`); `inventory` False: it keeps no stock."""

    totals: Quantities
    inventory: bool


PerLocation = dict[str, Quantities]  # Rackbeat location number → its quantities


def read_locations(rackbeat: RackbeatClient, number: str) -> PerLocation | None:
    """The item's quantities per Rackbeat location, or None when Rackbeat has no such item."""
    try:
        rows = rackbeat.get(f"products/{item_path(number)}/locations", limit=1000)["product_locations"]
    except NotFound:
        return None
    return {
        str(row.get("number")): Quantities(
            whole(row.get("stock_quantity")), whole(row.get("available_quantity", row.get("stock_quantity")))
        )
        for row in rows
    }


def read_product(rackbeat: RackbeatClient, number: str) -> ProductStock | None:
    """The item's totals, or None when Rackbeat has no such item."""
    try:
        product = rackbeat.get(f"products/{item_path(number)}")["product"]
    except NotFound:
        return None
    totals = Quantities(whole(product.get("stock_quantity")), whole(product.get("available_quantity")))
    return ProductStock(totals, bool(product.get("inventory_enabled", True)))


def _encode(found: PerLocation | ProductStock) -> str:
    if isinstance(found, ProductStock):
        return json.dumps([found.totals.in_stock, found.totals.available, found.inventory])
    return json.dumps({location: [q.in_stock, q.available] for location, q in found.items()}, sort_keys=True)


def _decode(shape: Shape, text: str) -> PerLocation | ProductStock:
    value = json.loads(text)
    if shape == "product":
        return ProductStock(Quantities(int(value[0]), int(value[1])), bool(value[2]))
    return {location: Quantities(int(pair[0]), int(pair[1])) for location, pair in value.items()}


@dataclass(frozen=True)
class SharedReads:
    """An account's item reads kept in the table (`STOCKREAD#<account key>`), one item per number and shape."""

    table: Any
    account_key: str  # `connectors.rackbeat.own_webhooks.account_key`

    def _key(self, number: str, shape: Shape) -> dict[str, str]:
        return {"pk": f"STOCKREAD#{self.account_key}", "sk": f"ITEM#{number}#{shape}"}

    def fresh(self, number: str, shape: Shape, changed_at: float) -> tuple[bool, PerLocation | ProductStock | None]:
        """(True, what was read) when a read that started at or after `changed_at` is kept, else (False, None)."""
        found = self.table.get_item(Key=self._key(number, shape), ConsistentRead=True).get("Item")
        if not found or float(found["read_at"]) < changed_at:
            return False, None
        if found.get("gone"):
            return True, None
        return True, _decode(shape, str(found["value"]))

    def keep(self, number: str, shape: Shape, read_at: float, found: PerLocation | ProductStock | None) -> None:
        record: dict[str, Any] = {
            **self._key(number, shape),
            "read_at": Decimal(str(round(read_at, 3))),
            "expires_at": int(read_at) + SHARED_READ_SECONDS,
        }
        if found is None:
            record["gone"] = True
        else:
            record["value"] = _encode(found)
        # Refused when another connection kept a later read: that one serves as well.
        with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.table.put_item(
                Item=record,
                ConditionExpression="attribute_not_exists(pk) OR read_at < :mine",
                ExpressionAttributeValues={":mine": record["read_at"]},
            )


@dataclass(frozen=True)
class AccountStockReader:
    """One connection's reads of its Rackbeat account's stock, shared with the account's other connections when the
    account is known (`account_key`), else read each time."""

    rackbeat: RackbeatClient
    account_key: str | None

    def locations(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> PerLocation | None:
        found = self._shared(number, "locations", changed_at, table, now, lambda: read_locations(self.rackbeat, number))
        assert found is None or isinstance(found, dict)
        return found

    def product(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> ProductStock | None:
        found = self._shared(number, "product", changed_at, table, now, lambda: read_product(self.rackbeat, number))
        assert found is None or isinstance(found, ProductStock)
        return found

    def _shared(
        self,
        number: str,
        shape: Shape,
        changed_at: float,
        table: Any,
        now: Callable[[], float],
        read: Callable[[], PerLocation | ProductStock | None],
    ) -> PerLocation | ProductStock | None:
        if self.account_key is None:
            return read()
        shared = SharedReads(table, self.account_key)
        kept, found = shared.fresh(number, shape, changed_at)
        if kept:
            return found
        started = now()  # before the call: the read sees every change made until then
        found = read()
        shared.keep(number, shape, started, found)
        return found
