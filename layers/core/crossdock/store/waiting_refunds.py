"""Refunds that wait for their order's invoice: the order could no longer change (booked and shipped, say) and had
no booked invoice yet, so a credit note could not be made (issue 13, "refunds before invoicing").

One item per connection (`WAITREFUNDS` in its partition) holding a map refund id → what is waiting, so the
reconciliation sweep reads them all with one GetItem and every write is item-level (the order stages and the poll
function may neither query nor scan the table). An entry holds ids only (the refund, the orders, the refund's own
event), nothing about the customer; it goes once the refund is credited. Waiting refunds are rare (an order that
shipped before its invoice and was refunded in between), and at about 150 bytes an entry the item holds some 2,500
of them before DynamoDB's 400 KB limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.store import keys


@dataclass(frozen=True)
class WaitingRefund:
    refund_id: str
    order_id: str  # the Shopify order's
    rackbeat_order: int
    event_sk: str  # the refund's own event: the one finished when it is credited
    since: int  # epoch seconds
    round: int = 1  # how many times it began to wait (a credit that found the order changed back waits again)


def _key(connection_id: str) -> dict[str, str]:
    return {"pk": keys.connection_pk(connection_id), "sk": keys.WAITING_REFUNDS}


def put(table: Any, connection_id: str, waiting: WaitingRefund) -> None:
    # The map must exist before an entry can be set in it; one expression may not do both (overlapping paths).
    table.update_item(
        Key=_key(connection_id),
        UpdateExpression="SET waiting = if_not_exists(waiting, :none)",
        ExpressionAttributeValues={":none": {}},
    )
    table.update_item(
        Key=_key(connection_id),
        UpdateExpression="SET waiting.#refund = :entry",
        ExpressionAttributeNames={"#refund": waiting.refund_id},
        ExpressionAttributeValues={
            ":entry": {
                "order_id": waiting.order_id,
                "rackbeat_order": waiting.rackbeat_order,
                "event_sk": waiting.event_sk,
                "since": waiting.since,
                "round": waiting.round,
            }
        },
    )


def _all(table: Any, connection_id: str) -> dict[str, Any]:
    item = table.get_item(Key=_key(connection_id), ConsistentRead=True).get("Item") or {}
    entries: dict[str, Any] = item.get("waiting") or {}
    return entries


def get(table: Any, connection_id: str, refund_id: str) -> WaitingRefund | None:
    entry = _all(table, connection_id).get(refund_id)
    return None if entry is None else _waiting(refund_id, entry)


def remove(table: Any, connection_id: str, refund_id: str) -> None:
    """No longer waiting (credited, reduced, skipped); nothing to do when it never waited."""
    try:
        table.update_item(
            Key=_key(connection_id),
            UpdateExpression="REMOVE waiting.#refund",
            ConditionExpression="attribute_exists(waiting)",
            ExpressionAttributeNames={"#refund": refund_id},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return


def oldest(table: Any, connection_id: str, limit: int) -> list[WaitingRefund]:
    """Up to `limit` waiting refunds, the longest waiting first."""
    found = [_waiting(refund_id, entry) for refund_id, entry in _all(table, connection_id).items()]
    return sorted(found, key=lambda waiting: (waiting.since, waiting.refund_id))[:limit]


def _waiting(refund_id: str, entry: dict[str, Any]) -> WaitingRefund:
    return WaitingRefund(
        refund_id=refund_id,
        order_id=str(entry["order_id"]),
        rackbeat_order=int(entry["rackbeat_order"]),
        event_sk=str(entry["event_sk"]),
        since=int(entry.get("since", 0)),
        round=int(entry.get("round", 1)),
    )
