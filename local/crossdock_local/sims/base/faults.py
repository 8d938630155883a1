"""Fault injection every simulator offers: errors, throttling, latency, hangs, outages and lost responses.

`Faults` holds the switches; `FaultPlan` applies them around one request in the order a real platform shows them
(an outage answers before anything, a hang or a throttle before the work, a lost response or a crash after the
commit), so every simulator injects the same faults the same way and a seeded run replays the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from crossdock_local.sims.base.http import SimResponse, json_response

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Faults:
    """Fault switches an operator or a test turns on to see how Crossdock copes.

    `server_error_rate`: share of requests answered 5xx before doing anything.
    `latency_seconds`: added to every request (real wall time; keep it small).
    `drop_response_rate`: share of *mutating* requests that commit and then lose their response (the client sees a
    transport error, as when a connection is cut after the server wrote).
    `throttle_rate`: share of requests answered 429 with a `Retry-After` of 1–`max_retry_after` seconds, on top of
    the simulator's own rate limit (a platform throttling for its own reasons).
    `timeout_rate`: share of requests that hang for `hang_seconds` of real time and are then cut without an answer
    (half of the mutating ones after committing): a client whose read timeout is shorter sees a timeout.
    `outage_until`: until this moment of the simulator's clock, every request is answered 503 (an outage).
    `on_committed_write`: called after a mutating request committed, with `crash_after_write_rate` — the caller's
    process dies between this write and its next step (the embedded Lambda runtime arms a crash).
    """

    server_error_rate: float = 0.0
    latency_seconds: float = 0.0
    drop_response_rate: float = 0.0
    throttle_rate: float = 0.0
    max_retry_after: int = 5
    timeout_rate: float = 0.0
    hang_seconds: float = 1.5
    outage_until: float = 0.0
    crash_after_write_rate: float = 0.0
    on_committed_write: Callable[[], None] | None = field(default=None, repr=False)
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def pick(self, choices: tuple[int, ...]) -> int:
        """One of `choices`, from the faults' own RNG so a seeded Faults replays the same status codes."""
        return self._rng.choice(choices)

    def retry_after(self) -> int:
        """Seconds a fault-injected 429 asks the client to wait: 1–`max_retry_after`."""
        return self._rng.randint(1, max(1, self.max_retry_after))


class ResponseDropped(Exception):
    """Raised by a simulator after committing a write whose response is to be lost."""


class ResponseHung(Exception):
    """Raised by a simulator for a request that hangs `seconds` and is then cut without an answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"hanging {seconds}s")
        self.seconds = seconds


@dataclass(frozen=True)
class FaultAnswers:
    """How one platform words its fault answers: the bodies of its 503 outage, its 429 and its 5xx errors."""

    outage: object = field(default_factory=lambda: {"message": "Service Unavailable"})
    throttled: object = field(default_factory=lambda: {"message": "Too Many Attempts."})
    server_error: object = field(default_factory=lambda: {"message": "Server Error"})
    server_error_statuses: tuple[int, ...] = (500, 502, 503)


@dataclass
class FaultPlan:
    """The faults rolled for one request: `before` answers instead of the platform, `after` runs once it answered.

    Use it as::

        plan = FaultPlan(sim.faults, sim.clock(), request.method, request.path, answers)
        if (early := plan.before()) is not None:
            return early
        response = ...do the work...
        plan.after(response)  # may raise ResponseHung / ResponseDropped, or arm a crash
        return response
    """

    faults: Faults
    now: float
    method: str
    path: str = ""
    answers: FaultAnswers = field(default_factory=FaultAnswers)
    _hang_after_commit: bool = False

    @property
    def mutating(self) -> bool:
        return self.method.upper() in MUTATING

    def before(self) -> SimResponse | None:
        faults = self.faults
        if self.now < faults.outage_until:
            return json_response(503, self.answers.outage)
        if faults.roll(faults.timeout_rate):
            # Half of the hung writes hang after committing: the client cannot tell whether the write happened.
            if not (self.mutating and faults.roll(0.5)):
                raise ResponseHung(faults.hang_seconds)
            self._hang_after_commit = True
        if faults.roll(faults.throttle_rate):
            return json_response(429, self.answers.throttled, {"Retry-After": str(faults.retry_after())})
        if faults.roll(faults.server_error_rate):
            return json_response(faults.pick(self.answers.server_error_statuses), self.answers.server_error)
        return None

    def after(self, response: SimResponse) -> None:
        faults = self.faults
        if self.mutating and response.status < 300:
            if faults.on_committed_write is not None and faults.roll(faults.crash_after_write_rate):
                faults.on_committed_write()
            if self._hang_after_commit:
                raise ResponseHung(faults.hang_seconds)
        if self.mutating and faults.roll(faults.drop_response_rate):
            raise ResponseDropped(f"{self.method} {self.path}")
