"""Staying inside a target's rate limit from our side, before the target has to say no.

`clock` is the one place the library reads time for pacing and coalescing and waits for rate limits, so a runtime
that virtualises time (the embedded stack, tests) can substitute it without touching the flows or clients.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class Clock(Protocol):
    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


clock: Clock = SystemClock()


class Pacer(Protocol):
    """What a client asks before each call to a rate-limited target, and tells after the target said no."""

    def wait_turn(self) -> None:
        """Returns when this caller may make its next call (sleeping through `clock` until then)."""

    def back_off(self, seconds: float) -> None:
        """The target answered 429 with this `Retry-After`: no caller sharing the limit calls before it has passed."""


@contextlib.contextmanager
def expecting(pacer: Pacer | None, calls: int) -> Iterator[None]:
    """The caller makes `calls` calls in a row through `pacer` in this block; a pacer that can use that (an
    `expecting` method: `RatePacer`, `PacerChain`, `store.rate_limits.AccountRateLimiter`) plans for them."""
    plan: Any = getattr(pacer, "expecting", None)
    if plan is None:
        yield
        return
    with plan(calls):
        yield


@dataclass
class RatePacer:
    """Spaces calls evenly at `per_minute` calls a minute, shared by the threads of one client.

    Even spacing with no burst allowance is what keeps a sliding 60-second window (Rackbeat's) from ever seeing
    more than `per_minute` calls; a classic token bucket with a full burst would overrun it at the window's edge.
    """

    per_minute: float
    _next_slot: float = 0.0
    _charged: int = 0  # calls of an announced batch (`expecting`) already paid for: they do not wait here

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def expecting(self, calls: int) -> Iterator[None]:
        """A batch of `calls` calls in a row: one wait for the batch's turn, which is charged `calls` intervals
        at once, then its calls pass without waiting here (a limit shared with others, chained after this pacer,
        still spaces them). The rate over time stays `per_minute`; within a minute a batch is a burst, so this is
        for a caller's own share of a limit that is kept exactly elsewhere (`PacerChain`), not for the limit.
        Calls of the batch not made are given back at the end."""
        interval = 60.0 / self.per_minute
        with self._lock:
            now = clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + interval * max(0, calls)
            self._charged += max(0, calls)
        if slot > now:
            clock.sleep(slot - now)
        try:
            yield
        finally:
            with self._lock:
                self._next_slot -= interval * min(self._charged, max(0, calls))
                self._charged = max(0, self._charged - calls)

    def wait_turn(self) -> None:
        interval = 60.0 / self.per_minute
        with self._lock:
            if self._charged:
                self._charged -= 1
                return
            now = clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + interval
        if slot > now:
            clock.sleep(slot - now)

    def back_off(self, seconds: float) -> None:
        with self._lock:
            self._next_slot = max(self._next_slot, clock.monotonic() + seconds)


@dataclass
class PacerChain:
    """Waits for each pacer in turn: a caller's own share (a `RatePacer` below the account's rate) inside a limit
    shared with others. A 429 backs all of them off."""

    pacers: tuple[Pacer, ...]

    @contextlib.contextmanager
    def expecting(self, calls: int) -> Iterator[None]:
        with contextlib.ExitStack() as plans:
            for pacer in self.pacers:
                plans.enter_context(expecting(pacer, calls))
            yield

    def wait_turn(self) -> None:
        for pacer in self.pacers:
            pacer.wait_turn()

    def back_off(self, seconds: float) -> None:
        for pacer in self.pacers:
            pacer.back_off(seconds)
