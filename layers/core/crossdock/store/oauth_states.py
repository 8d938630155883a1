"""OAuth `state` nonces: one per install started, bound to its connection and shop, consumed exactly once.

The callback deletes the nonce with a condition (it exists, belongs to the shop, has not expired), so of two
callbacks carrying one state only the first gets through, and a state minted for another shop opens nothing.
Expiry is checked in the condition because DynamoDB's TTL removes expired items only eventually. Only a digest of
the nonce is stored: whoever can read the table still cannot complete someone's install with it.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from boto3.dynamodb.conditions import Attr

from crossdock.store import keys

# Long enough for a shop owner to read the permissions page; short enough that a leaked link soon goes stale.
STATE_SECONDS = 600


def issue(table: Any, connection_id: str, shop_domain: str, now: float, lifetime: float = STATE_SECONDS) -> str:
    state = secrets.token_urlsafe(32)
    table.put_item(
        Item={
            "pk": keys.oauth_state_pk(_digest(state)),
            "sk": keys.NO_SORT,
            "connection_id": connection_id,
            "shop_domain": shop_domain.lower(),
            "expires_at": int(now + lifetime),
        }
    )
    return state


def consume(table: Any, state: str, shop_domain: str, now: float) -> str | None:
    """The connection id the state was issued for, or None when it is unknown, expired, already used or was
    issued for another shop."""
    if not state:
        return None
    try:
        answer = table.delete_item(
            Key={"pk": keys.oauth_state_pk(_digest(state)), "sk": keys.NO_SORT},
            ConditionExpression=Attr("pk").exists()
            & Attr("shop_domain").eq(shop_domain.lower())
            & Attr("expires_at").gt(int(now)),
            ReturnValues="ALL_OLD",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return str(answer["Attributes"]["connection_id"])


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()
