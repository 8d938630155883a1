"""Progress of a connection's one-time initial sync (SPEC §1.2): stored, readable, and claimed exactly once; and
the catalogue a sync read from a source without an export file of its own (Shopbox), kept in chunks beside it so
every step imports what the first one read."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from crossdock.store import keys


class InitialSyncAlreadyClaimed(Exception):
    """The connection's initial sync was started before; it runs once per connection, ever."""

    def __init__(self, progress: dict[str, Any]) -> None:
        super().__init__(f"initial sync already {progress.get('status')}")
        self.progress = progress


def _key(connection_id: str) -> dict[str, str]:
    return {"pk": keys.connection_pk(connection_id), "sk": keys.INITIAL_SYNC}


def claim(table: Any, connection_id: str, started_at: str) -> dict[str, Any]:
    item = {**_key(connection_id), "status": "starting", "started_at": started_at, "done": 0, "total": None}
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        raise InitialSyncAlreadyClaimed(load(table, connection_id) or {}) from None
    return item


def load(table: Any, connection_id: str) -> dict[str, Any] | None:
    item = table.get_item(Key=_key(connection_id), ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in item.items() if k not in ("pk", "sk")}


def update(table: Any, connection_id: str, **fields: Any) -> None:
    names = {f"#{name}": name for name in fields}
    values = {f":{name}": value for name, value in fields.items()}
    table.update_item(
        Key=_key(connection_id),
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


# What a chunk item may hold: DynamoDB's limit is 400 KB an item; a chunk's records are written as one JSON text.
MAX_CHUNK_BYTES = 350_000


class ChunkTooLarge(ValueError):
    """The records of one chunk do not fit in one item (a smaller chunk size is the fix)."""


def _chunk_key(connection_id: str, index: int) -> dict[str, str]:
    return {"pk": keys.connection_pk(connection_id), "sk": f"{keys.INITIAL_SYNC}#chunk#{index:06d}"}


def save_chunk(table: Any, connection_id: str, index: int, records: list[dict[str, Any]]) -> None:
    text = json.dumps(records, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_CHUNK_BYTES:
        raise ChunkTooLarge(f"chunk {index} of the initial sync is {len(text.encode())} bytes")
    table.put_item(Item={**_chunk_key(connection_id, index), "records": text})


def load_chunk(table: Any, connection_id: str, index: int) -> list[dict[str, Any]] | None:
    item = table.get_item(Key=_chunk_key(connection_id, index), ConsistentRead=True).get("Item")
    if item is None:
        return None
    records: list[dict[str, Any]] = json.loads(str(item["records"]))
    return records
