"""One rate limiter per external account, shared by every container of every function that calls the account.

A per-container pacer keeps one container inside a limit; three integrations on one Rackbeat account, each scaled
out to several containers, would still send the account several times its 480 calls a minute. So the account's
budget lives in one table item (`RATE#<system>#<account digest>`, `-`): `next_slot`, the epoch second of the next
free call. A container claims slots with one conditional update and sleeps (through `pacing.clock`) until each:

- busy (`next_slot` ahead of now): `SET next_slot = next_slot + :lease` if `next_slot >= :now`. DynamoDB does the
  addition, so callers racing for the same item never lose a write to each other: each update gets the slots the
  one before it left, and slots stay `:step` apart however many containers ask at once;
- idle (`next_slot` behind now, or no item yet): `SET next_slot = :now + :lease` if it is still behind now, so a
  limiter that sat idle grants no burst for the time it was unused.

A condition fails only when the limiter went from idle to busy (or back) under us; the failed answer carries the
item (`ReturnValuesOnConditionCheckFailure`), and the other form is tried. Evenly spaced slots are what keep a
sliding 60-second window (Rackbeat's) from ever seeing more than the rate (see `pacing.RatePacer`).

A lease: one update claims `size` consecutive slots (`:lease` = size × step), which this container then uses one
call at a time (every limiter of the account in the container shares it: a connection's paced and unpaced
clients, and the other connections on the account). Slots of different leases never overlap, so the account's
calls stay `:step` apart whatever the leases' sizes: the limit stays exact across containers. The size adapts to
how fast this container calls: it doubles (up to `lease_max`) when a lease was used up and the slot after it had
not passed yet, and falls back to one as soon as a slot went by unused (a container that calls slower than the
rate, as one on AWS waiting for Rackbeat's answers mostly does, takes one slot per update, as before, and wastes
none of the account's budget). A slot that has passed is never used late.

A caller that knows it will make N calls in a row (a sweep's page of items) says so (`expecting(N)`, through the
client): its next lease is min(N, `lease_max`) slots at once, and each after it as many as are still announced
(never more than it said it would use), until a slot of the plan passes unused (the caller turned out slower than
the rate, e.g. waiting for answers on AWS): then the plan is off and the size adapts as above. The plan ends with
the `with` block; what the lease still holds then (at most `lease_max` - 1 slots, when the caller stopped early)
stays in the lease for the container's next call, and is lost only if that comes after the slots passed.

A caller answered 429 moves `next_slot` to now + Retry-After (only ever forward) and drops what is left of its own
lease, so none of its callers calls before the Retry-After has passed; every other container's next claim gets a
slot after it. What another container still holds of a lease it claimed before the 429 (at most `lease_max` - 1
slots, under a second at Rackbeat's rate) it still uses: seeing the 429 at once would take a read per call
(docs/known-limits.md).

Cost: one UpdateItem per lease (a small item: 1 write request unit, about $0.63 per million on demand); at one slot
per lease, one per call. Failed conditions are billed too and cost one more only at an idle/busy change. No read:
the update returns the slots.
Clocks: slots are epoch seconds from each container's clock; Lambda hosts keep NTP time to a few milliseconds,
which is the error this adds to the spacing.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from crossdock import pacing
from crossdock.errors import RateLimited, RetryableError
from crossdock.store import keys

# An idle limiter is forgotten by the table's TTL (`expires_at`); an hour is far beyond any slot or back-off.
IDLE_SECONDS = 3600
# Each failed condition means another caller changed the limiter's state in between; a few in a row is plenty.
ATTEMPTS = 8
# The most slots one update claims: 8 slots are about a second at Rackbeat's 456 calls a minute, which bounds both
# what a container holds when another is answered 429 and what a container that stops calling leaves unused.
LEASE_MAX = 8
_MICROS = Decimal("0.000001")


@dataclass
class _Lease:
    """What one container knows of an account's limiter: `held` slots from `next` on, a step apart; the size of its
    next claim; the last `next_slot` it saw (`seen`: which form to try first). Shared by every limiter of the
    account in the container (the paced and the unpaced client of each connection on it) and by their threads."""

    next: Decimal = Decimal(0)
    held: int = 0
    size: int = 1
    dropped: bool = True  # a slot of the current lease passed unused (none yet: the first lease is one slot)
    seen: Decimal = Decimal(0)
    planned: int = 0  # calls announced (`expecting`) and not taken yet
    slow: bool = False  # a slot passed unused during the current plan: it claims as without one
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Leases:
    """The container's leases, per table object (a container's `services.table()`; another table object is
    another container, as in the tests) and account item, step and most slots per claim."""

    def __init__(self) -> None:
        self._tables: weakref.WeakKeyDictionary[Any, dict[tuple[str, Decimal, int], _Lease]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def of(self, table: Any, pk: str, step: Decimal, lease_max: int) -> _Lease:
        with self._lock:
            return self._tables.setdefault(table, {}).setdefault((pk, step, lease_max), _Lease())


_leases = _Leases()


@dataclass
class AccountRateLimiter:
    """`wait_turn`/`back_off` (`pacing.Pacer`) against the account's item in `table`.

    `max_wait`: a caller whose slot is further away than this does not sleep but raises `RateLimited` with the wait
    as `retry_after`, so a Lambda hands a long wait (after a 429, or behind a deep queue) to its queue's or
    workflow's backoff instead of sleeping into its timeout. The slot goes back to the container's lease, where the
    retry finds it if it comes in time.
    `lease_max`: the most slots one update claims (1: an update per call)."""

    table: Any
    pk: str
    per_minute: float
    max_wait: float | None = None
    lease_max: int = LEASE_MAX

    def __post_init__(self) -> None:
        self._key = {"pk": self.pk, "sk": keys.NO_SORT}
        # Rounded up to the microsecond the slots are stored in: never closer together than the rate allows.
        self._step = Decimal(repr(60.0 / self.per_minute)).quantize(_MICROS, rounding=ROUND_CEILING)
        self._lease = _leases.of(self.table, self.pk, self._step, self.lease_max)

    @property
    def held(self) -> int:
        """Slots this container has claimed and not used yet (some may have passed)."""
        return self._lease.held

    def wait_turn(self) -> None:
        lease = self._lease
        with lease.lock:
            slot = self._take(_decimal(pacing.clock.time()))
            wait = float(slot) - pacing.clock.time()
            if self.max_wait is not None and wait > self.max_wait:
                # Not used: it heads the lease again (it was the last one taken), for the retry.
                lease.next, lease.held, lease.dropped = slot, lease.held + 1, True
                raise RateLimited(f"rate limit {self.pk}: next free slot in {wait:.1f} s", retry_after=wait)
        if wait > 0:
            pacing.clock.sleep(wait)

    @contextlib.contextmanager
    def expecting(self, calls: int) -> Iterator[None]:
        """The caller makes `calls` calls in a row in this block: claim their slots in leases of up to
        `lease_max` at once instead of one by one. Never claims more than announced; the plan ends with the block
        (announcements of several callers in the container add up; the first block to end ends them all, which
        only costs the others their bigger leases)."""
        lease = self._lease
        with lease.lock:
            if lease.planned == 0:
                lease.slow = False
            lease.planned += max(0, calls)
        try:
            yield
        finally:
            with lease.lock:
                lease.planned = 0

    def reserve(self) -> float:
        """Takes the next free slot (from the lease, or claims a new lease) and returns it (epoch seconds)."""
        with self._lease.lock:
            return float(self._take(_decimal(pacing.clock.time())))

    def back_off(self, seconds: float) -> None:
        now = pacing.clock.time()
        until = _decimal(now + seconds)
        lease = self._lease
        with lease.lock:
            # Nothing this container holds comes before `until`; the next lease starts at one slot again.
            lease.held, lease.size, lease.dropped = 0, 1, True
        # A failed condition: another caller already pushed the slot as far or further.
        with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = :until, expires_at = :ttl",
                ConditionExpression="attribute_not_exists(next_slot) OR next_slot < :until",
                ExpressionAttributeValues={":until": until, ":ttl": int(now) + IDLE_SECONDS},
            )
        with lease.lock:
            lease.seen = max(lease.seen, until)

    def _take(self, now: Decimal) -> Decimal:
        """The lease's next slot that has not passed, or the first of a new lease (under the lease's lock)."""
        lease = self._lease
        lease.planned = max(0, lease.planned - 1)  # this call's slot, whichever it is
        while lease.held:
            slot = lease.next
            lease.next, lease.held = slot + self._step, lease.held - 1
            if slot >= now:
                return slot
            lease.dropped = True
            lease.slow = lease.slow or lease.planned > 0
        if lease.planned and not lease.slow:
            # Announced calls: as many slots as are still to come (this one included), up to lease_max.
            lease.size = min(self.lease_max, lease.planned + 1)
        else:
            # A longer lease only when this one was used up and the slot after it would not have passed either:
            # this container calls faster than the rate. Else one slot.
            fast = not lease.dropped and now <= lease.next
            lease.size = min(self.lease_max, lease.size * 2) if fast else 1
        first = self._claim(now, lease.size)
        lease.next, lease.held, lease.dropped = first + self._step, lease.size - 1, False
        return first

    def _claim(self, now: Decimal, size: int) -> Decimal:
        """Claims `size` consecutive slots and returns the first."""
        lease = self._step * size
        busy = self._lease.seen >= now
        for _ in range(ATTEMPTS):
            claimed = self._claim_busy(now, lease) if busy else self._claim_idle(now, lease)
            if claimed is not None:
                return claimed
            busy = not busy
        raise RetryableError(f"rate limit {self.pk}: the slot kept changing under {ATTEMPTS} attempts")

    def _claim_busy(self, now: Decimal, lease: Decimal) -> Decimal | None:
        try:
            answer = self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = next_slot + :lease, expires_at = :ttl",
                ConditionExpression="next_slot >= :now",
                ExpressionAttributeValues={":lease": lease, ":now": now, ":ttl": int(now) + IDLE_SECONDS},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException as lost:
            self._lease.seen = _seen_in(lost)
            return None
        self._lease.seen = Decimal(answer["Attributes"]["next_slot"])
        return self._lease.seen - lease

    def _claim_idle(self, now: Decimal, lease: Decimal) -> Decimal | None:
        try:
            self.table.update_item(
                Key=self._key,
                UpdateExpression="SET next_slot = :next, expires_at = :ttl",
                ConditionExpression="attribute_not_exists(next_slot) OR next_slot < :now",
                ExpressionAttributeValues={":next": now + lease, ":now": now, ":ttl": int(now) + IDLE_SECONDS},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException as lost:
            self._lease.seen = _seen_in(lost)
            return None
        self._lease.seen = now + lease
        return now


def _seen_in(lost: Any) -> Decimal:
    """`next_slot` from a failed condition's answer (wire format: `{"N": "…"}`), or 0 when there was no item."""
    raw = lost.response.get("Item", {}).get("next_slot", {}).get("N")
    return Decimal(raw) if raw is not None else Decimal(0)


def _decimal(seconds: float) -> Decimal:
    return Decimal(repr(seconds)).quantize(_MICROS)
