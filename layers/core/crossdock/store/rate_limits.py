"""One rate limiter per external account, shared by every container of every function that calls the account.

A per-container pacer keeps one container inside a limit; three integrations on one Rackbeat account, each scaled
out to several containers, would still send the account several times its 480 calls a minute. So the account's
budget lives in one table item (`RATE#<system>#<account digest>`, `-`): `next_slot`, the epoch second of the next
free call. Every caller claims a slot with one conditional update and sleeps (through `pacing.clock`) until it:

- busy (`next_slot` ahead of now): `SET next_slot = next_slot + :step` if `next_slot >= :now`. DynamoDB does the
  addition, so callers racing for the same item never lose a write to each other: each update gets the slot the
  one before it left, and slots stay `:step` apart however many containers ask at once;
- idle (`next_slot` behind now, or no item yet): `SET next_slot = :now + :step` if it is still behind now, so a
  limiter that sat idle grants no burst for the time it was unused.

A condition fails only when the limiter went from idle to busy (or back) under us; the failed answer carries the
item (`ReturnValuesOnConditionCheckFailure`), and the other form is tried. Evenly spaced slots are what keep a
sliding 60-second window (Rackbeat's) from ever seeing more than the rate (see `pacing.RatePacer`).

A caller answered 429 moves `next_slot` to now + Retry-After (only ever forward), so every container backs off,
not just the one that was told.

Cost: one UpdateItem per call to the target in both steady states (a small item: 1 write request unit, about
$0.63 per million on demand, so $0.000063 per 100 calls; failed conditions are billed too and cost one more only
at an idle/busy change). No read: the update returns the slot. At Rackbeat's 456 calls a minute one item takes
~8 writes a second, far below a partition's 1,000, so reserving several slots per round trip would save little
and would bunch calls; it is not done.
Clocks: slots are epoch seconds from each container's clock; Lambda hosts keep NTP time to a few milliseconds,
which is the error this adds to the spacing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from crossdock import pacing
from crossdock.errors import RateLimited, RetryableError
from crossdock.store import keys

# An idle limiter is forgotten by the table's TTL (`expires_at`); an hour is far beyond any slot or back-off.
IDLE_SECONDS = 3600
# Each failed condition means another caller changed the limiter's state in between; a few in a row is plenty.
ATTEMPTS = 8
_MICROS = Decimal("0.000001")


@dataclass
class AccountRateLimiter:
    """`wait_turn`/`back_off` (`pacing.Pacer`) against the account's item in `table`.

    `max_wait`: a caller whose slot is further away than this does not sleep but raises `RateLimited` with the wait
    as `retry_after`, so a Lambda hands a long wait (after a 429, or behind a deep queue) to its queue's or
    workflow's backoff instead of sleeping into its timeout. The slot it reserved then goes unused."""

    table: Any
    pk: str
    per_minute: float
    max_wait: float | None = None

    def __post_init__(self) -> None:
        self._key = {"pk": self.pk, "sk": keys.NO_SORT}
        # Rounded up to the microsecond the slots are stored in: never closer together than the rate allows.
        self._step = Decimal(repr(60.0 / self.per_minute)).quantize(_MICROS, rounding=ROUND_CEILING)
        self._seen = Decimal(0)  # the last `next_slot` this container saw: which form to try first

    def wait_turn(self) -> None:
        slot = self.reserve()
        wait = slot - pacing.clock.time()
        if self.max_wait is not None and wait > self.max_wait:
            raise RateLimited(f"rate limit {self.pk}: next free slot in {wait:.1f} s", retry_after=wait)
        if wait > 0:
            pacing.clock.sleep(wait)

    def reserve(self) -> float:
        """Claims the next free slot and returns it (epoch seconds)."""
        now = _decimal(pacing.clock.time())
        busy = self._seen >= now
        for _ in range(ATTEMPTS):
            claimed = self._claim_busy(now) if busy else self._claim_idle(now)
            if claimed is not None:
                return float(claimed)
            busy = not busy
        raise RetryableError(f"rate limit {self.pk}: the slot kept changing under {ATTEMPTS} attempts")

    def back_off(self, seconds: float) -> None:
        now = pacing.clock.time()
        until = _decimal(now + seconds)
        # A failed condition: another caller already pushed the slot as far or further.
        with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = :until, expires_at = :ttl",
                ConditionExpression="attribute_not_exists(next_slot) OR next_slot < :until",
                ExpressionAttributeValues={":until": until, ":ttl": int(now) + IDLE_SECONDS},
            )
        self._seen = max(self._seen, until)

    def _claim_busy(self, now: Decimal) -> Decimal | None:
        try:
            answer = self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = next_slot + :step, expires_at = :ttl",
                ConditionExpression="next_slot >= :now",
                ExpressionAttributeValues={":step": self._step, ":now": now, ":ttl": int(now) + IDLE_SECONDS},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException as lost:
            self._seen = _seen_in(lost)
            return None
        self._seen = Decimal(answer["Attributes"]["next_slot"])
        return self._seen - self._step

    def _claim_idle(self, now: Decimal) -> Decimal | None:
        try:
            self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = :next, expires_at = :ttl",
                ConditionExpression="attribute_not_exists(next_slot) OR next_slot < :now",
                ExpressionAttributeValues={":next": now + self._step, ":now": now, ":ttl": int(now) + IDLE_SECONDS},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException as lost:
            self._seen = _seen_in(lost)
            return None
        self._seen = now + self._step
        return now


def _seen_in(lost: Any) -> Decimal:
    """`next_slot` from a failed condition's answer (wire format: `{"N": "…"}`), or 0 when there was no item."""
    raw = lost.response.get("Item", {}).get("next_slot", {}).get("N")
    return Decimal(raw) if raw is not None else Decimal(0)


def _decimal(seconds: float) -> Decimal:
    return Decimal(repr(seconds)).quantize(_MICROS)
