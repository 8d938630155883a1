"""Unix wall time that moves with a simulator's clock.

Shared because every simulator that stamps records (`created_at`, `crdate`, timestamps in webhooks) must let those
stamps move with the virtual or fake clock it is handed, not with the machine's: `epoch` is the Unix time the
clock's present stands for when the simulator is made (default: now).
"""

from __future__ import annotations

import time

from crossdock_local.sims.base.simulator import Clock


class WallClock:
    """Mixed into a `Simulator` (which holds `clock`); `_start_wall_clock` is called once from its `__init__`."""

    clock: Clock
    _epoch: float
    _clock_zero: float

    def _start_wall_clock(self, epoch: float | None) -> None:
        self._epoch = time.time() if epoch is None else epoch
        self._clock_zero = self.clock()

    @property
    def unix_now(self) -> float:
        return self._epoch + self.clock() - self._clock_zero
