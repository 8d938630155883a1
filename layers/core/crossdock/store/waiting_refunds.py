"""Refunds that wait for their order's invoice: the order could no longer change (booked and shipped, say) and had
no booked invoice yet, so a credit note could not be made (issue 13, "refunds before invoicing").

One item per refund in the connection's partition (`WAITREFUND#<refund id>`), so the reconciliation sweep reads
just the waiting ones with one query, however many refunds were ever credited. The item holds ids only (the refund,
the Rackbeat order, the refund's own event), nothing about the customer. It goes once the refund is credited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from crossdock.store import keys


@dataclass(frozen=True)
class WaitingRefund:
    refund_id: str
    order_id: str  # the Shopify order's
    rackbeat_order: int
    event_sk: str  # the refund's own event: the one finished when it is credited
    since: int  # epoch seconds
    round: int = 1  # how many times it began to wait (a credit that found the order changed back waits again)


def put(table: Any, connection_id: str, waiting: WaitingRefund) -> None:
    table.put_item(
        Item={
            "pk": keys.connection_pk(connection_id),
            "sk": keys.waiting_refund_sk(waiting.refund_id),
            "refund_id": waiting.refund_id,
            "order_id": waiting.order_id,
            "rackbeat_order": waiting.rackbeat_order,
            "event_sk": waiting.event_sk,
            "since": waiting.since,
            "round": waiting.round,
        }
    )


def get(table: Any, connection_id: str, refund_id: str) -> WaitingRefund | None:
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.waiting_refund_sk(refund_id)}, ConsistentRead=True
    ).get("Item")
    return None if item is None else _waiting(item)


def remove(table: Any, connection_id: str, refund_id: str) -> None:
    table.delete_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.waiting_refund_sk(refund_id)})


def oldest(table: Any, connection_id: str, limit: int) -> list[WaitingRefund]:
    """Up to `limit` waiting refunds, by refund id; a sweep that reads them all names the rest in its report."""
    answer = table.query(
        KeyConditionExpression=Key("pk").eq(keys.connection_pk(connection_id))
        & Key("sk").begins_with(keys.WAITING_REFUND_PREFIX),
        Limit=limit,
    )
    return [_waiting(item) for item in answer.get("Items", [])]


def _waiting(item: dict[str, Any]) -> WaitingRefund:
    return WaitingRefund(
        refund_id=str(item["refund_id"]),
        order_id=str(item["order_id"]),
        rackbeat_order=int(item["rackbeat_order"]),
        event_sk=str(item["event_sk"]),
        since=int(item.get("since", 0)),
        round=int(item.get("round", 1)),
    )
