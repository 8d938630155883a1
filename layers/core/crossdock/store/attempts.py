"""Attempts of one order workflow (or refund, or cancellation): how many were started, and why the last failed.

One item per first execution name (`ATTEMPT#<name>` in the connection's partition), written only when an attempt
fails or a redrive starts a new one — an order that goes through at the first attempt never writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.store import keys


@dataclass(frozen=True)
class Attempts:
    latest: int  # 0 = only the first attempt was ever started (or none)
    last_failure: str | None  # failure class of the latest attempt, when it ended needs_attention


def current(table: Any, connection_id: str, first_name: str) -> Attempts:
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.attempt_sk(first_name)}, ConsistentRead=True
    ).get("Item")
    if item is None:
        return Attempts(0, None)
    failure = item.get("last_failure")
    return Attempts(int(item.get("latest", 0)), str(failure) if failure else None)


def begin_next(table: Any, connection_id: str, first_name: str, seen: Attempts) -> int | None:
    """Claims attempt `seen.latest + 1`; None when another dispatcher claimed it first (both saw the same state)."""
    following = seen.latest + 1
    try:
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": keys.attempt_sk(first_name)},
            UpdateExpression="SET latest = :next REMOVE last_failure",
            ConditionExpression="attribute_not_exists(latest) OR latest = :seen",
            ExpressionAttributeValues={":next": following, ":seen": seen.latest},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return following


def record_failure(table: Any, connection_id: str, first_name: str, failure_class: str) -> None:
    table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.attempt_sk(first_name)},
        UpdateExpression="SET last_failure = :f",
        ExpressionAttributeValues={":f": failure_class},
    )
