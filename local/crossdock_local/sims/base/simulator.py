"""The base class of every simulator: counts calls, applies latency, serialises access (they run under threads)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from crossdock_local.sims.base import control
from crossdock_local.sims.base.faults import Faults
from crossdock_local.sims.base.http import SimRequest, SimResponse
from crossdock_local.sims.base.router import Router
from crossdock_local.sims.base.webhooks import DeliveryFaults

Clock = Callable[[], float]
"""Monotonic seconds. The embedded stack hands every simulator its virtual clock (`aws/clock.py`), so rate-limit
windows, token expiry and retry backoff pass without waiting; unit tests hand a clock they move by hand."""


class Simulator:
    """An in-memory model of one external system that answers HTTP requests as its fact sheet describes.

    Subclasses register their routes on `self.router` and, where the platform answers differently, override
    `_handle_locked`. `snapshot()` is what the control API's `GET /_control/state` returns: a subclass adds its own
    state (accounts, shops, …) to it.
    """

    system = "base"

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.faults = Faults()
        self.router = Router()
        self.calls = 0
        self.calls_by_status: dict[int, int] = {}
        self._lock = threading.RLock()

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request; raises ResponseDropped when a committed write must lose its response."""
        if control.answers_control(request):
            # The control API is not the platform: no faults, no auth, not counted among the platform's calls.
            with self._lock:
                return control.control(self, request)
        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)  # a latency fault is real wall time by definition
        with self._lock:
            self.calls += 1
            response = self._handle_locked(request)
            self.count_answer(response)
        return response

    def count_answer(self, response: SimResponse) -> None:
        """Count an answer given outside `handle` (a route a subclass answers without the lock)."""
        with self._lock:
            self.calls_by_status[response.status] = self.calls_by_status.get(response.status, 0) + 1

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        return self.router.dispatch(request)

    def webhook_faults(self) -> DeliveryFaults | None:
        """The delivery faults of the simulator's webhook outbox, which the control API's `webhook_*` switches set;
        None for a simulator that sends no webhooks."""
        return None

    def snapshot(self) -> dict[str, Any]:
        """What an operator or a scenario reads of the simulator: its calls; subclasses add their state."""
        with self._lock:
            return {
                "system": self.system,
                "calls": self.calls,
                "calls_by_status": {str(status): n for status, n in sorted(Counter(self.calls_by_status).items())},
            }
