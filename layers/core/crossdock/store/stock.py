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


def mark_dirty(table: Any, connection_id: str, number: str, now: float) -> None:
    table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.stock_dirty_sk(number)},
        UpdateExpression="SET last_dirty_at = :now, first_dirty_at = if_not_exists(first_dirty_at, :now) "
        "ADD version :one",
        ExpressionAttributeValues={":now": Decimal(str(round(now, 3))), ":one": 1},
    )


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
