"""Virtual clock shared by the embedded AWS runtime and the simulators.

Time flows with the real clock plus an offset that only grows: `advance` and `sleep` move the offset forward, so
code that waits (Step Functions retry backoff, SQS visibility timeouts, rate-limit windows in simulators) sees the
time pass in the right order without the process actually waiting.
"""

from __future__ import annotations

import threading
import time as _real_time


class VirtualClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Epoch seconds, like `time.time()`."""
        return _real_time.time() + self._offset

    def monotonic(self) -> float:
        """Monotonic seconds, like `time.monotonic()`; moves together with `time()`."""
        return _real_time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def advance_to(self, epoch_seconds: float) -> None:
        """Move the clock to `epoch_seconds` unless it is already there or later."""
        with self._lock:
            self._offset = max(self._offset, epoch_seconds - _real_time.time())

    def sleep(self, seconds: float) -> None:
        """Return at once with the clock moved to `now + seconds`.

        Concurrent sleepers that started at the same time move the clock to the latest of their deadlines rather
        than the sum of their waits, as they would in real time.
        """
        if seconds > 0:
            self.advance_to(self.time() + seconds)
