"""Announced calls (`expecting`): a caller that knows it makes N calls in a row claims their slots of the account's
shared limiter a lease at a time (store.rate_limits), never more than it announced, and its own share
(`pacing.RatePacer`) charges the batch at once instead of spacing it."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from crossdock import pacing
from crossdock.pacing import PacerChain, RatePacer
from crossdock.store import keys
from crossdock.store.rate_limits import LEASE_MAX, AccountRateLimiter

LIMIT = 456.0
STEP = 60.0 / LIMIT
PK = keys.rate_limit_pk("rackbeat", "1" * 64)


class SteppedClock:
    """Time moves only when a caller sleeps or the test moves it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[SteppedClock]:
    stepped = SteppedClock()
    monkeypatch.setattr(pacing, "clock", stepped)
    yield stepped


class CountingTable:
    def __init__(self, table: Any) -> None:
        self._table = table
        self.meta = table.meta
        self.updates = 0

    def update_item(self, **request: Any) -> Any:
        self.updates += 1
        return self._table.update_item(**request)


def _next_slot(table: Any) -> float:
    return float(table.get_item(Key={"pk": PK, "sk": keys.NO_SORT})["Item"]["next_slot"])


def test_announced_calls_claim_their_slots_a_full_lease_at_a_time_and_no_more(table: Any, clock: SteppedClock) -> None:
    # GIVEN a container that will make 20 calls in a row and says so
    counting = CountingTable(table)
    limiter = AccountRateLimiter(counting, PK, LIMIT)
    # WHEN it makes them
    with limiter.expecting(20):
        slots = [limiter.reserve() for _ in range(20)]
    # THEN 3 updates claimed them (8 + 8 + 4, not 1, 2, 4, 8, 5 as without the announcement), nothing is left
    # over, and the account's next free slot is right after the last call: no slot of the budget claimed unused
    assert counting.updates == 3
    assert limiter.held == 0
    assert slots == pytest.approx([clock.now + n * STEP for n in range(20)], abs=1e-5)
    assert _next_slot(table) == pytest.approx(clock.now + 20 * STEP, abs=1e-5)


def test_a_caller_that_stops_early_leaves_at_most_a_lease_less_one_unused(table: Any, clock: SteppedClock) -> None:
    # GIVEN a container that announced 20 calls
    limiter = AccountRateLimiter(CountingTable(table), PK, LIMIT)
    # WHEN it stops after 9 (an error ended its page)
    with limiter.expecting(20):
        for _ in range(9):
            limiter.reserve()
    # THEN it holds the 7 slots of its second lease still, which its next call uses, and the plan is over: the
    # call after them claims one slot (the size adapts again, as without an announcement)
    assert limiter.held == LEASE_MAX - 1
    start = clock.now
    clock.now += 60.0  # the held slots have passed
    limiter.reserve()
    assert limiter.held == 0
    assert _next_slot(table) == pytest.approx(start + 60.0 + STEP, abs=1e-5)


def test_a_plan_is_off_once_the_caller_proves_slower_than_the_rate(table: Any, clock: SteppedClock) -> None:
    # GIVEN a container announcing 40 calls whose answers take half a second each (slower than the 0.13 s step)
    counting = CountingTable(table)
    limiter = AccountRateLimiter(counting, PK, LIMIT)
    # WHEN it makes them
    with limiter.expecting(40):
        for _ in range(40):
            limiter.wait_turn()
            clock.now += 0.5
    # THEN only its first lease was a full one: after a slot of it passed unused, one slot per update, so at most
    # a lease less one slot of the account's budget went unused
    assert counting.updates == 1 + (40 - 2)
    assert limiter.held == 0


def test_announced_calls_of_two_containers_never_exceed_the_limit_in_any_minute(
    table: Any, clock: SteppedClock
) -> None:
    # GIVEN two containers on one account announcing pages of 1 to 40 calls, interleaved, with idle stretches
    containers = [AccountRateLimiter(table, PK, LIMIT), AccountRateLimiter(table, PK, LIMIT)]
    calls: list[float] = []
    page = 0
    # WHEN they make 1,500 calls between them, alternating page by page and call by call
    while len(calls) < 1500:
        sizes = (1 + page * 13 % 40, 1 + page * 7 % 40)
        page += 1
        with containers[0].expecting(sizes[0]), containers[1].expecting(sizes[1]):
            for n in range(max(sizes)):
                for which, size in enumerate(sizes):
                    if n < size:
                        containers[which].wait_turn()
                        calls.append(clock.now)
        if page % 9 == 0:
            clock.now += 90.0
    # THEN no 60-second window holds more than the limit, and no two calls are closer than the rate allows
    calls.sort()
    busiest = max(bisect.bisect_left(calls, start + 60.0) - index for index, start in enumerate(calls))
    assert busiest <= LIMIT
    assert min(later - earlier for earlier, later in itertools.pairwise(calls)) >= STEP - 1e-6


def test_a_share_charges_a_batch_at_once_and_gives_back_what_was_not_called(clock: SteppedClock) -> None:
    # GIVEN a function's share of 120 calls a minute (a call every 0.5 s), chained before the account's limiter
    share = RatePacer(120)
    share.wait_turn()
    start = clock.now
    # WHEN a batch of 10 is announced and 6 of them are made
    with share.expecting(10):
        waited = clock.now - start
        for _ in range(6):
            share.wait_turn()
        within = clock.now - start
    # THEN the batch waited once, for the share's next turn, and its calls did not wait here; the share's next
    # call comes the 6 calls' intervals after the batch's turn (the 4 not made were given back)
    assert waited == pytest.approx(0.5)
    assert within == pytest.approx(0.5)
    share.wait_turn()
    assert clock.now - start == pytest.approx(0.5 + 6 * 0.5)


def test_a_chain_passes_the_announcement_to_the_share_and_the_account(table: Any, clock: SteppedClock) -> None:
    # GIVEN the poll function's pacer: its share of 120 a minute, then the account's limiter
    counting = CountingTable(table)
    chain = PacerChain((RatePacer(120), AccountRateLimiter(counting, PK, LIMIT)))
    # WHEN 16 calls are announced and made
    start = clock.now
    with chain.expecting(16):
        for _ in range(16):
            chain.wait_turn()
    # THEN they went at the account's rate (not the share's 0.5 s) in two leases of 8
    assert counting.updates == 2
    assert clock.now - start == pytest.approx(15 * STEP, abs=1e-5)
