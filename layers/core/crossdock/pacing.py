"""Staying inside a target's rate limit from our side, before the target has to say no.

`clock` is the one place the library reads time for pacing and coalescing and waits for rate limits, so a runtime
that virtualises time (the embedded stack, tests) can substitute it without touching the flows or clients.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


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


@dataclass
class RatePacer:
    """Spaces calls evenly at `per_minute` calls a minute, shared by the threads of one client.

    Even spacing with no burst allowance is what keeps a sliding 60-second window (Rackbeat's) from ever seeing
    more than `per_minute` calls; a classic token bucket with a full burst would overrun it at the window's edge.
    """

    per_minute: float
    _next_slot: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        interval = 60.0 / self.per_minute
        with self._lock:
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

    def wait_turn(self) -> None:
        for pacer in self.pacers:
            pacer.wait_turn()

    def back_off(self, seconds: float) -> None:
        for pacer in self.pacers:
            pacer.back_off(seconds)
