"""Delivery dedupe: a webhook delivery is queued once, however often the sender repeats it (DESIGN §3)."""

from __future__ import annotations

import time
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


def release_delivery(table: Any, source: str, delivery_id: str) -> None:
    """Forgets a claim whose event could not be queued, so the sender's retry is accepted."""
    table.delete_item(Key={"pk": keys.delivery_pk(source, delivery_id), "sk": keys.NO_SORT})
