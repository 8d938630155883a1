"""Stock waiting to be pushed: one marker per connection and item, set when Rackbeat reports a change.

Many changes of one item collapse into one marker (that is the coalescing), and the marker carries no quantity:
the push reads the current quantity from Rackbeat when it runs, so changes arriving late, twice or out of order
cannot make an older quantity win. The version counter lets the push clear a marker only if no change arrived
while it worked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from crossdock.store import keys


@dataclass(frozen=True)
class DirtyItem:
    number: str
    version: int
    first_dirty_at: float
    last_dirty_at: float
    # The latest time ingest heard of a change of the item, when every change marked was heard so (a webhook
    # fanned out to the account's followers): each change happened before it. None: only `last_dirty_at` is known.
    heard_at: float | None = None

    @property
    def changed_by(self) -> float:
        """A moment every marked change happened before: a read that started then or later has seen them all."""
        return self.heard_at if self.heard_at is not None else self.last_dirty_at


_MARK = "SET last_dirty_at = :now, first_dirty_at = if_not_exists(first_dirty_at, :now) ADD version :one"


def mark_dirty(table: Any, connection_id: str, number: str, now: float, heard_at: float | None = None) -> None:
    """Marks the item changed at `now`. `heard_at` (when ingest heard of the change) is kept as the largest heard
    so far, and only on a marker whose every change was heard so: DynamoDB has no max, so the write is conditional
    — a new marker, or one heard earlier — and when that fails (a later one was heard already, or a change of the
    marker was not heard) the marker is written as without `heard_at`. An unheard change removes it: then only
    `last_dirty_at` vouches for the changes."""
    key = {"pk": keys.connection_pk(connection_id), "sk": keys.stock_dirty_sk(number)}
    values: dict[str, Any] = {":now": Decimal(str(round(now, 3))), ":one": 1}
    if heard_at is not None:
        try:
            table.update_item(
                Key=key,
                UpdateExpression=_MARK.replace("SET ", "SET heard_at = :heard, ", 1),
                ConditionExpression="attribute_not_exists(pk) OR heard_at <= :heard",
                ExpressionAttributeValues={**values, ":heard": Decimal(str(round(heard_at, 3)))},
            )
            return
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            pass
        table.update_item(Key=key, UpdateExpression=_MARK, ExpressionAttributeValues=values)
        return
    table.update_item(Key=key, UpdateExpression=_MARK + " REMOVE heard_at", ExpressionAttributeValues=values)


def dirty_items(table: Any, connection_id: str) -> list[DirtyItem]:
    """Every item of the connection waiting for a push, oldest change first."""
    condition = Key("pk").eq(keys.connection_pk(connection_id)) & Key("sk").begins_with(keys.STOCK_DIRTY_PREFIX)
    items: list[DirtyItem] = []
    arguments: dict[str, Any] = {"KeyConditionExpression": condition}
    while True:
        page = table.query(**arguments)
        for row in page["Items"]:
            items.append(
                DirtyItem(
                    number=row["sk"][len(keys.STOCK_DIRTY_PREFIX) :],
                    version=int(row["version"]),
                    first_dirty_at=float(row["first_dirty_at"]),
                    last_dirty_at=float(row["last_dirty_at"]),
                    heard_at=float(row["heard_at"]) if "heard_at" in row else None,
                )
            )
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item.first_dirty_at, item.number))


def clear_dirty(table: Any, connection_id: str, item: DirtyItem) -> bool:
    """Remove the marker unless the item changed again meanwhile (then it stays for the next push)."""
    try:
        table.delete_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": keys.stock_dirty_sk(item.number)},
            ConditionExpression="version = :seen",
            ExpressionAttributeValues={":seen": item.version},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


@dataclass(frozen=True)
class TableStockMarks:
    """`ports.StockMarks` in the table."""

    table: Any

    def dirty(self, connection_id: str) -> list[DirtyItem]:
        return dirty_items(self.table, connection_id)

    def clear(self, connection_id: str, item: DirtyItem) -> bool:
        return clear_dirty(self.table, connection_id, item)
