"""Cursors: how far a scheduled poll of a connection has got in a stream (DESIGN §3, `CUR#<stream>`).

A poll reads its cursor, does its work, and saves the cursor only once that work is durably enqueued, so a run that
fails halfway starts again from the same place. The position is the stream's own text (an ISO timestamp for orders,
an offset for the catalog walk); the cursor does not interpret it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.store import keys


@dataclass(frozen=True)
class Cursor:
    stream: str
    position: str
    saved_at: str  # event-log stamp of the save


def load(table: Any, connection_id: str, stream: str) -> Cursor | None:
    # Consistent: a sweep must not start from a position older than the one the previous sweep saved.
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.cursor_sk(stream)}, ConsistentRead=True
    ).get("Item")
    if item is None:
        return None
    return Cursor(stream, str(item["position"]), str(item.get("saved_at", "")))


def save(table: Any, connection_id: str, stream: str, position: str, saved_at: str) -> None:
    table.put_item(
        Item={
            "pk": keys.connection_pk(connection_id),
            "sk": keys.cursor_sk(stream),
            "stream": stream,
            "position": position,
            "saved_at": saved_at,
        }
    )


def forget(table: Any, connection_id: str, streams: list[str]) -> None:
    """Drops the cursors, so the poll starts afresh when it next runs (after a re-install or re-enable it must
    not catch up on what happened while it was off)."""
    for stream in streams:
        table.delete_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.cursor_sk(stream)})
