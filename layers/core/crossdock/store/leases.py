"""Leases: at most one holder at a time for a named piece of work, across containers (DESIGN §3, `LOCK#<name>`).

A lease is claimed with one conditional put, which succeeds when there is no lease of that name, when the last one
was released, or when it lapsed (its holder crashed or timed out without releasing it). A holder names itself (a
container, a run) and chooses how long the lease lasts: longer than the work can take, so a slow holder is never
overtaken while it still works. Only the holder releases it; one that outlived its lease finds another holder's in
its place and leaves that alone. The table's TTL (`expires_at`) forgets lapsed leases an hour after they end.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr

from crossdock.store import keys

FORGET_AFTER = 3600  # seconds after its end that the table's TTL removes a lease item


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    until: float  # epoch seconds; another holder may take it over from then on


def claim(table: Any, name: str, holder: str, now: float, seconds: float) -> Lease | None:
    """The lease, now held by `holder` until `now + seconds`; None while someone else holds it. A holder that
    claims its own lease again extends it."""
    until = now + seconds
    try:
        table.put_item(
            Item={
                "pk": keys.lock_pk(name),
                "sk": keys.NO_SORT,
                "holder": holder,
                "lease_until": _number(until),
                "expires_at": int(until + FORGET_AFTER),
            },
            ConditionExpression=(
                Attr("pk").not_exists() | Attr("lease_until").lt(_number(now)) | Attr("holder").eq(holder)
            ),
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return Lease(name, holder, until)


def release(table: Any, lease: Lease) -> bool:
    """Ends the lease now, so the next claim need not wait for it to lapse. False when it is no longer ours (it
    lapsed and another holder took it): theirs is left alone."""
    try:
        table.update_item(
            Key={"pk": keys.lock_pk(lease.name), "sk": keys.NO_SORT},
            UpdateExpression="SET lease_until = :free",
            ConditionExpression=Attr("holder").eq(lease.holder),
            ExpressionAttributeValues={":free": 0},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _number(seconds: float) -> Decimal:
    return Decimal(str(round(seconds, 3)))


@dataclass(frozen=True)
class TableLeases:
    """`ports.Leases` in the table, for code that must not know the table (the Shopify token refresh)."""

    table: Any

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        return claim(self.table, name, holder, now, seconds) is not None

    def release(self, name: str, holder: str) -> None:
        # Its end is not needed to release it: only the holder's name is compared.
        release(self.table, Lease(name, holder, 0.0))
