"""The platforms' own rate limits: a sliding window of requests or a leaky bucket of points, answered with 429.

Each simulator keeps one limiter per caller (an API token, an app and shop) on its clock; the limiter only says
whether a request is admitted and, when not, how long to wait. How the refusal is worded (body, extra headers) is
the platform's, so `too_many_requests` takes those from the simulator.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from crossdock_local.sims.base.http import SimResponse, json_response


@dataclass
class SlidingWindow:
    """At most `limit` admitted requests in any `window_seconds`; refused requests take no slot.

    `admit` returns None when the request may go ahead, else the whole seconds until the oldest slot frees up (at
    least 1, as a `Retry-After` header carries integer seconds).
    """

    limit: int
    window_seconds: float = 60.0
    _hits: dict[str, deque[float]] = field(default_factory=dict, repr=False)

    def admit(self, caller: str, now: float) -> int | None:
        window = self._hits.setdefault(caller, deque())
        while window and window[0] <= now - self.window_seconds:
            window.popleft()
        if len(window) < self.limit:
            window.append(now)
            return None
        return max(1, math.ceil(window[0] + self.window_seconds - now))

    def remaining(self, caller: str, now: float) -> int:
        window = self._hits.get(caller, deque())
        return max(0, self.limit - sum(1 for hit in window if hit > now - self.window_seconds))


@dataclass
class LeakyBucket:
    """A bucket of `capacity` points that refills at `refill_per_second`; a request costs points.

    Floats are fine here: these are points, not money.
    """

    capacity: float
    refill_per_second: float
    available: float = -1.0  # -1: full at first use
    updated_at: float | None = None

    def __post_init__(self) -> None:
        if self.available < 0:
            self.available = self.capacity

    def refill(self, now: float) -> None:
        if self.updated_at is not None:
            self.available = min(self.capacity, self.available + (now - self.updated_at) * self.refill_per_second)
        self.updated_at = now

    def take(self, points: float, now: float) -> float | None:
        """Take `points` and return None, or take nothing and return the seconds until they are there."""
        self.refill(now)
        if points <= self.available:
            self.available -= points
            return None
        return (points - self.available) / self.refill_per_second

    def refund(self, points: float) -> None:
        self.available = min(self.capacity, self.available + points)


def too_many_requests(retry_after: int, body: object, headers: dict[str, str] | None = None) -> SimResponse:
    """A 429 whose `Retry-After` is the limiter's wait, worded as the platform words it."""
    return json_response(429, body, {"Retry-After": str(retry_after), **(headers or {})})
