"""One rate limiter per external account, shared through the table (store.rate_limits), and the pacers' protocol:
spacing across limiters, leases of several slots per update, a 429's back-off reaching every holder, lost
conditional writes, the idle item's TTL, and the Rackbeat client telling its pacer about a 429."""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossdock import pacing
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import RateLimited
from crossdock.pacing import Pacer, PacerChain, RatePacer
from crossdock.store import keys
from crossdock.store.rate_limits import IDLE_SECONDS, LEASE_MAX, AccountRateLimiter
from crossdock_local.aws.dynamodb_tables import atomic_item_writes
from crossdock_local.aws.template import load_template

LIMIT = 456.0
STEP = 60.0 / LIMIT
PK = keys.rate_limit_pk("rackbeat", "0" * 64)
TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")


class SteppedClock:
    """`pacing.clock` for these tests: time moves only when a caller sleeps (or the test moves it); sleeps are
    recorded. Thread-safe, like the embedded stack's clock: concurrent sleepers end at the latest deadline."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[SteppedClock]:
    stepped = SteppedClock()
    monkeypatch.setattr(pacing, "clock", stepped)
    yield stepped


class CountingTable:
    """The table, counting UpdateItem calls; `before_update` runs first (another container writing in between)."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.meta = table.meta
        self.updates = 0
        self.before_update: Any = None

    def update_item(self, **request: Any) -> Any:
        self.updates += 1
        if self.before_update is not None:
            interfere, self.before_update = self.before_update, None
            interfere()
        return self._table.update_item(**request)


def _limiter(table: Any, max_wait: float | None = None, **options: Any) -> AccountRateLimiter:
    """A limiter in a container of its own: each container has its own table object (its `services.table()`),
    and the limiters of one account on one table object share their lease."""
    return AccountRateLimiter(CountingTable(table), PK, LIMIT, max_wait=max_wait, **options)


def _assert_spaced(slots: list[float]) -> None:
    ordered = sorted(slots)
    gaps = [later - earlier for earlier, later in itertools.pairwise(ordered)]
    assert min(gaps) >= STEP - 1e-6, f"two slots {min(gaps):.6f} s apart, the rate allows {STEP:.6f}"


def test_two_limiters_on_one_account_never_grant_slots_closer_than_the_rate(table: Any, clock: SteppedClock) -> None:
    # GIVEN two containers' limiters on one Rackbeat account, asking in turn, time moving unevenly in between
    first, second = _limiter(table), _limiter(table)
    slots: list[float] = []
    # WHEN each reserves 100 slots, with pauses (idle, then busy again) along the way
    for n in range(200):
        slots.append((first if n % 2 else second).reserve())
        if n % 37 == 0:
            clock.now += 5.0 if n % 74 == 0 else 0.05
    # THEN no two slots are closer than 60 / limit seconds, whoever got them
    assert len(set(slots)) == 200
    _assert_spaced(slots)


def test_limiters_in_concurrent_threads_share_one_budget(table: Any, clock: SteppedClock) -> None:
    # GIVEN three containers with four threads each, all asking the same account for slots at once, on a table
    # whose conditional writes are atomic as DynamoDB's are (plain moto checks and writes without a lock)
    with ExitStack() as patches:
        atomic_item_writes(patches)
        _share_one_budget(table, clock)


def _share_one_budget(table: Any, clock: SteppedClock) -> None:
    limiters = [_limiter(table) for _ in range(3)]
    granted: list[float] = []
    lock = threading.Lock()

    def caller(limiter: AccountRateLimiter) -> None:
        for _ in range(25):
            slot = limiter.reserve()
            with lock:
                granted.append(slot)

    threads = [threading.Thread(target=caller, args=(limiter,)) for limiter in limiters for _ in range(4)]
    # WHEN they run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN the 300 requests got 300 distinct slots spaced by the rate, and the account's next slot follows the last
    # of what was claimed: the 300 granted and what the containers' leases still hold
    assert len(set(granted)) == 300
    _assert_spaced(granted)
    held = sum(limiter.held for limiter in limiters)
    assert held <= 3 * (LEASE_MAX - 1)
    item = table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]
    assert float(item["next_slot"]) == pytest.approx(clock.now + (300 + held) * STEP, abs=1e-3)


def test_a_back_off_moves_the_next_slot_of_every_holder(table: Any, clock: SteppedClock) -> None:
    # GIVEN two containers pacing on one account, the next slot a moment ahead
    first, second = _limiter(table), _limiter(table)
    first.reserve()
    second.reserve()
    # WHEN the first is answered 429 with Retry-After: 30
    first.back_off(30)
    # THEN neither container's next call comes before the 30 seconds have passed
    assert second.reserve() >= clock.now + 30
    assert first.reserve() >= clock.now + 30
    # AND a shorter back-off from a later 429 never pulls the slot back in
    latest = second.reserve()
    first.back_off(1)
    assert first.reserve() >= latest + STEP - 1e-6


def test_a_lost_conditional_write_is_retried_and_the_slots_stay_spaced(table: Any, clock: SteppedClock) -> None:
    # GIVEN a container whose limiter last saw the account idle, and another container claiming a slot just
    # before its update reaches the table
    counting = CountingTable(table)
    stale, other = _limiter(counting), _limiter(table)
    clock.now += 600
    counting.before_update = other.reserve
    # WHEN the stale container reserves
    slot = stale.reserve()
    # THEN its "idle" claim lost to the other's write and was retried as "busy": it got the slot after the other's
    assert counting.updates == 2
    assert slot == pytest.approx(clock.now + STEP, abs=1e-5)
    # AND from then on it knows the account is busy: each update claims a lease, twice as long as the one used up
    # before it (2, 4, then 8 slots for the next 10 calls), none of them a failed condition
    counting.updates = 0
    more = [stale.reserve() for _ in range(10)]
    assert counting.updates == 3
    _assert_spaced([clock.now, slot, *more])


def test_two_containers_calling_at_once_never_put_more_than_the_limit_in_any_minute(
    table: Any, clock: SteppedClock
) -> None:
    # GIVEN two containers on one account, each calling in bursts of 1 to 12 calls as fast as its slots come, the
    # bursts interleaved (one container sleeps while the other holds a lease), with idle stretches in between
    containers = [_limiter(table), _limiter(table)]
    calls: list[float] = []
    # WHEN they make 1,500 calls between them
    for burst in itertools.count():
        if len(calls) >= 1500:
            break
        for _ in range(1 + burst * 7 % 12):
            containers[burst % 2].wait_turn()
            calls.append(clock.now)  # the call goes out when its turn came
        if burst % 23 == 0:
            clock.now += 90.0
    # THEN no 60-second window holds more calls than the limit, and no two calls are closer than the rate allows
    calls.sort()
    busiest = max(bisect.bisect_left(calls, start + 60.0) - index for index, start in enumerate(calls))
    assert busiest <= LIMIT
    _assert_spaced(calls)


def test_a_429_pushes_back_every_holder_of_a_lease(table: Any, clock: SteppedClock) -> None:
    # GIVEN two containers on one account that have each called in a burst, so that each holds a lease of slots
    told, other = _limiter(table), _limiter(table)
    for _ in range(5):
        told.reserve()
        other.reserve()
    held = other.held
    assert told.held > 0 and 0 < held < LEASE_MAX
    # WHEN the first container is answered 429 with Retry-After: 30
    told.back_off(30)
    until = clock.now + 30
    # THEN its own next call waits the 30 seconds: what it held is dropped
    assert told.held == 0
    assert told.reserve() >= until
    # AND the other container uses no more than what it already held before its next claim
    early = [slot for slot in (other.reserve() for _ in range(held + 1)) if slot < until]
    assert len(early) == held
    # AND its next claim, and every one after it, comes after the Retry-After
    assert all(other.reserve() >= until for _ in range(2 * LEASE_MAX))


def test_a_container_calling_slower_than_the_rate_takes_one_slot_per_update_and_wastes_none(
    table: Any, clock: SteppedClock
) -> None:
    # GIVEN a container whose calls are half a second apart (Rackbeat's answers take that long), slower than the
    # 0.13 s the rate allows; and one that called fast and then stopped, leaving slots of its lease unused
    counting = CountingTable(table)
    slow = _limiter(counting)
    fast = _limiter(table)
    for _ in range(4):
        fast.reserve()
    clock.now += 10
    # WHEN the slow container makes 20 calls
    for _ in range(20):
        slow.wait_turn()
        clock.now += 0.5
    # THEN its leases stay one slot long: one update a call, nothing held, the account's next slot right after its
    # last call; the fast container's unused slots are never used late
    assert counting.updates == 20
    assert slow.held == 0
    item = table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]
    assert float(item["next_slot"]) == pytest.approx(clock.now - 0.5 + STEP, abs=1e-5)
    assert fast.reserve() >= clock.now


def test_the_limiters_of_one_account_in_one_container_share_their_lease(table: Any, clock: SteppedClock) -> None:
    # GIVEN one container (one table object) with two limiters on one account: its bulk work's (10 s at most) and
    # its order stages' (5 s at most)
    counting = CountingTable(table)
    bulk = AccountRateLimiter(counting, PK, LIMIT, max_wait=10)
    stages = AccountRateLimiter(counting, PK, LIMIT, max_wait=5)
    # WHEN they take turns for 10 calls
    slots = [(bulk if n % 2 else stages).reserve() for n in range(10)]
    # THEN they take their slots from one lease, growing as one limiter's would (1, 2, 4, then 8 slots: 4 updates),
    # and the slots follow each other at the rate
    assert counting.updates == 4
    assert bulk.held == stages.held == 15 - 10
    assert slots == pytest.approx([clock.now + n * STEP for n in range(10)], abs=1e-5)


def test_a_lease_of_one_slot_is_one_update_per_call(table: Any, clock: SteppedClock) -> None:
    # GIVEN a limiter that may claim only one slot per update
    counting = CountingTable(table)
    single = _limiter(counting, lease_max=1)
    # WHEN it is asked for 10 slots in a row
    slots = [single.reserve() for _ in range(10)]
    # THEN it made 10 updates, and the slots follow each other at the rate
    assert counting.updates == 10
    assert slots == pytest.approx([clock.now + n * STEP for n in range(10)], abs=1e-5)


def test_an_idle_limiter_grants_no_burst_for_the_time_it_was_unused(table: Any, clock: SteppedClock) -> None:
    # GIVEN a limiter that ran, then sat idle for ten minutes
    limiter = _limiter(table)
    for _ in range(5):
        limiter.wait_turn()
    clock.now += 600
    # WHEN it is asked for three calls
    slots = [limiter.reserve() for _ in range(3)]
    # THEN the first is now and the others follow at the rate, not all at once
    assert slots == pytest.approx([clock.now, clock.now + STEP, clock.now + 2 * STEP], abs=1e-5)


def test_an_idle_limiter_item_expires_by_the_tables_ttl(table: Any, clock: SteppedClock) -> None:
    # GIVEN a limiter that made one call
    _limiter(table).wait_turn()
    # WHEN its item is read
    item = table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]
    # THEN it carries the table's TTL attribute, due an hour after the last call and after its next slot
    assert TEMPLATE["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert int(item["expires_at"]) == int(clock.now) + IDLE_SECONDS
    assert item["expires_at"] > item["next_slot"]
    assert isinstance(item["next_slot"], Decimal)


def test_a_slot_further_than_max_wait_raises_rate_limited_instead_of_sleeping(table: Any, clock: SteppedClock) -> None:
    # GIVEN an account backed off for 20 seconds after a 429
    _limiter(table).back_off(20)
    impatient = _limiter(table, max_wait=5)
    # WHEN an order stage's limiter (5 s at most) asks for a slot
    with pytest.raises(RateLimited) as refused:
        impatient.wait_turn()
    # THEN it does not sleep but hands the wait to the workflow's backoff
    assert clock.sleeps == []
    assert refused.value.retry_after == pytest.approx(20, abs=1e-3)


def test_a_refused_slot_is_kept_for_the_retry(table: Any, clock: SteppedClock) -> None:
    # GIVEN an order stage's limiter (5 s at most) that was refused a slot 20 seconds away
    counting = CountingTable(table)
    _limiter(table).back_off(20)
    impatient = _limiter(counting, max_wait=5)
    with pytest.raises(RateLimited):
        impatient.wait_turn()
    refused_at = clock.now
    counting.updates = 0
    # WHEN the workflow retries the stage once the wait has passed
    clock.now += 20
    impatient.wait_turn()
    # THEN the retry takes the slot it was refused (the account's budget loses nothing), without another update
    assert counting.updates == 0
    item = table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]
    assert float(item["next_slot"]) == pytest.approx(refused_at + 20 + STEP, abs=1e-5)


def test_both_pacers_satisfy_the_protocol_and_a_chain_backs_all_off(table: Any, clock: SteppedClock) -> None:
    # GIVEN a function's own share (a per-container pacer) inside the account's shared limit
    own = RatePacer(120)
    shared = _limiter(table)
    chain: Pacer = PacerChain((own, shared))
    chain.wait_turn()
    # WHEN a 429 backs the chain off
    chain.back_off(10)
    start = clock.now
    chain.wait_turn()
    # THEN the next call waited the 10 seconds, and the shared item moved too
    assert clock.now >= start + 10
    assert float(table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]["next_slot"]) >= start + 10


def test_the_rackbeat_client_backs_its_pacer_off_when_answered_429(clock: SteppedClock) -> None:
    # GIVEN a Rackbeat client with a pacer, and Rackbeat answering 429 with Retry-After: 7
    backed_off: list[float] = []

    class Recording:
        def wait_turn(self) -> None:
            pass

        def back_off(self, seconds: float) -> None:
            backed_off.append(seconds)

    throttled = httpx.MockTransport(lambda request: httpx.Response(429, headers={"Retry-After": "7"}, json={}))
    client = RackbeatClient("https://rackbeat.test/api", "key", throttled, pacer=Recording())
    # WHEN it makes a call
    with pytest.raises(RateLimited) as raised:
        client.get("products")
    # THEN the pacer (every caller sharing it) is told to wait 7 s, and the error still carries Retry-After
    assert backed_off == [7.0]
    assert raised.value.retry_after == 7.0


def test_every_function_that_may_call_rackbeat_may_update_the_table() -> None:
    # GIVEN every function but ingest, which never calls out (DESIGN §1); each may call Rackbeat and so take its
    # slots from the account's limiter item
    resources = TEMPLATE["Resources"]
    functions = [
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and name != "IngestFunction"
    ]
    assert len(functions) >= 6
    for name in functions:
        # WHEN its role's inline statements are read
        statements = [
            statement
            for policy in resources[name]["Properties"]["Policies"]
            if isinstance(policy, dict) and "Statement" in policy
            for statement in policy["Statement"]
        ]
        # THEN one allows UpdateItem on the table: the limiter's only action (no read, no put)
        assert any(
            "dynamodb:UpdateItem" in statement["Action"] and "Table" in str(statement["Resource"])
            for statement in statements
        ), name
