"""Renewing a credential once across containers (Shopify's token refresh, Shopbox's new login): a lease in the
table admits one holder, which renews; the others poll for what the holder stores, then use it.

Waiters poll on ticks counted from the start of the wait (a slow poll is followed at once by the next), so the
wait's length is set by the clock alone, however long each poll takes; it ends inside the holder's lease, so a
waiter gives up (and its caller retries later) rather than take over a lease that is still in use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from crossdock import pacing
from crossdock.errors import FailureClass, RetryableError
from crossdock.ports import Leases

T = TypeVar("T")


def renew_once(
    leases: Leases,
    lease: str,
    holder: str,
    *,
    renewed_elsewhere: Callable[[], T | None],
    renew: Callable[[], T],
    lease_seconds: float,
    poll_seconds: float,
    wait_limit: float,
    busy: str,
) -> T:
    """What another holder stored meanwhile (`renewed_elsewhere`, None while nothing new is stored), or what
    `renew` gives under the lease; `RetryableError(busy)` when another holder keeps it past `wait_limit`."""
    started = pacing.clock.monotonic()
    tick = 0
    while True:
        tick += 1
        found = renewed_elsewhere()
        if found is not None:
            return found
        if leases.claim(lease, holder, pacing.clock.time(), lease_seconds):
            try:
                return renew()
            finally:
                leases.release(lease, holder)
        waited = pacing.clock.monotonic() - started
        if waited >= wait_limit:
            raise RetryableError(busy, FailureClass.AUTH, retry_after=lease_seconds)
        pacing.clock.sleep(max(0.0, tick * poll_seconds - waited))
