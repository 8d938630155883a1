"""Delivery dedupe: a webhook delivery is queued once, however often the sender repeats it (DESIGN §3).

A delivery is claimed only after its event was queued (see `flows.ingest`), so a claim always means "queued".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr

from crossdock.store import keys

# Shopify retries for 4 hours and Rackbeat for about 24; 14 days covers every retry with a wide margin.
DEDUPE_DAYS = 14


def claim_delivery(table: Any, source: str, delivery_id: str, connection_id: str, now: float | None = None) -> bool:
    """True the first time a delivery is seen; False for a repeat (and the repeat is counted on the record)."""
    now = time.time() if now is None else now
    key = {"pk": keys.delivery_pk(source, delivery_id), "sk": keys.NO_SORT}
    try:
        table.put_item(
            Item={
                **key,
                "connection_id": connection_id,
                "first_seen": int(now),
                "repeats": 0,
                "expires_at": int(now) + DEDUPE_DAYS * 86400,
            },
            ConditionExpression=Attr("pk").not_exists(),
        )
        return True
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        table.update_item(Key=key, UpdateExpression="ADD repeats :one", ExpressionAttributeValues={":one": 1})
        return False


def already_queued(table: Any, source: str, delivery_id: str) -> bool:
    """True when a delivery was claimed before (its event was queued); the repeat is counted on the record."""
    key = {"pk": keys.delivery_pk(source, delivery_id), "sk": keys.NO_SORT}
    if "Item" not in table.get_item(Key=key, ProjectionExpression="pk"):
        return False
    table.update_item(Key=key, UpdateExpression="ADD repeats :one", ExpressionAttributeValues={":one": 1})
    return True


@dataclass(frozen=True)
class TableDeliveryLog:
    """`ports.DeliveryLog` in the table (here, not in `store.repositories`, for ingest's cold start)."""

    table: Any

    def already_queued(self, source: str, delivery_id: str) -> bool:
        return already_queued(self.table, source, delivery_id)

    def claim(self, source: str, delivery_id: str, connection_id: str) -> bool:
        return claim_delivery(self.table, source, delivery_id, connection_id)
