"""Refunds that wait for their order's invoice: the order could no longer change (booked and shipped, say) and had
no booked invoice yet, so a credit note could not be made (issue 13, "refunds before invoicing").

One item per connection (`WAITREFUNDS` in its partition) holding a map refund id → what is waiting, so the
reconciliation sweep reads them all with one GetItem and every write is item-level (the order stages and the poll
function may neither query nor scan the table). An entry holds ids only (the refund, the orders, the refund's own
event), nothing about the customer; it goes once the refund is credited. Waiting refunds are rare (an order that
shipped before its invoice and was refunded in between), and at about 150 bytes an entry the item holds some 2,500
of them before DynamoDB's 400 KB limit.

The item is also where a `peakwms_shopify` connection parks the PeakWMS refunds (104) that wait for the pack (102)
that captures their order (`integrations/peakwms_shopify/refunds_parked.py`, through `put_entry` / `entries` /
`remove`): each kind's entries carry their own fields, and a connection is of one kind, so one item never holds
both.
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
    entry = {
        "order_id": waiting.order_id,
        "rackbeat_order": waiting.rackbeat_order,
        "event_sk": waiting.event_sk,
        "since": waiting.since,
        "round": waiting.round,
    }
    put_entry(table, connection_id, waiting.refund_id, entry)


def put_entry(table: Any, connection_id: str, refund_id: str, entry: dict[str, Any]) -> None:
    """Sets the waiting refund `refund_id` to `entry` (ids and numbers only), replacing what it held."""
    # The map must exist before an entry can be set in it; one expression may not do both (overlapping paths).
    table.update_item(
        Key=_key(connection_id),
        UpdateExpression="SET waiting = if_not_exists(waiting, :none)",
        ExpressionAttributeValues={":none": {}},
    )
    table.update_item(
        Key=_key(connection_id),
        UpdateExpression="SET waiting.#refund = :entry",
        ExpressionAttributeNames={"#refund": refund_id},
        ExpressionAttributeValues={":entry": entry},
    )


def entries(table: Any, connection_id: str) -> dict[str, Any]:
    """Every waiting refund of the connection, refund id → its entry as stored (one consistent GetItem)."""
    item = table.get_item(Key=_key(connection_id), ConsistentRead=True).get("Item") or {}
    found: dict[str, Any] = item.get("waiting") or {}
    return found


def get(table: Any, connection_id: str, refund_id: str) -> WaitingRefund | None:
    entry = entries(table, connection_id).get(refund_id)
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
    found = [_waiting(refund_id, entry) for refund_id, entry in entries(table, connection_id).items()]
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
