"""How long to leave a target alone after it said "later": its own word decides (Rackbeat's and Shopify's
`Retry-After`, Shopify GraphQL's throttle status), clamped to sane bounds. One helper for every place that waits —
the order stages (a Wait state), the pushes (the message's visibility) and the initial sync (in place) — and
`call_in_place`, the loop by which the Shopbox, Webshipper and PeakWMS clients wait out a short "later" themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from crossdock import pacing
from crossdock.errors import FailureClass, RateLimited, RetryableError

T = TypeVar("T")

# Never sooner than a second: a `Retry-After: 0` (or a date in the past, or clock skew) would call again at once and
# only meet the limit again.
MIN_WAIT_SECONDS = 1.0
# Never longer than ten minutes: Rackbeat counts per minute and Shopify's bucket refills in seconds (1,000 points
# at 50 a second: 20 s), so a longer hint is a misbehaving proxy or a far-off date; a wait cut short costs one more
# 429, which brings a fresh hint. Ten minutes also stays below the outbound queue's 720 s visibility timeout.
MAX_WAIT_SECONDS = 600.0
# When the target gave no hint: about what Rackbeat's sliding window and Shopify's bucket need to let one call in.
DEFAULT_WAIT_SECONDS = 5.0
# How often `call_in_place` tries a read the platform failed passingly (TARGET_DOWN: a 5xx, a timeout); a write is
# tried once, as its answer may be lost after it committed.
READ_ATTEMPTS = 2


def parse(value: str | None, now: float) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); None when absent
    or unreadable. Not clamped: `seconds` does that where the wait is decided."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def seconds(hint: float | None, default: float = DEFAULT_WAIT_SECONDS) -> float:
    """The wait to keep: the target's hint (or `default` without one), within MIN_WAIT_SECONDS..MAX_WAIT_SECONDS."""
    wanted = default if hint is None else hint
    if wanted != wanted:  # NaN from a garbled header: no hint
        wanted = default
    return min(MAX_WAIT_SECONDS, max(MIN_WAIT_SECONDS, wanted))


def for_error(error: RetryableError, default: float = DEFAULT_WAIT_SECONDS) -> float:
    return seconds(error.retry_after, default)


def restore_seconds(cost: float, available: float, restore_rate: float) -> float:
    """Seconds until a leaky bucket reporting `available` points and refilling `restore_rate` a second holds `cost`
    points (Shopify GraphQL's throttleStatus); 0 when it does now."""
    missing = cost - available
    if missing <= 0:
        return 0.0
    return missing / restore_rate if restore_rate > 0 else MAX_WAIT_SECONDS


@dataclass(frozen=True)
class InPlace:
    """What a client repeats itself before a failure goes to its caller's backoff (a queue's or a workflow's retry,
    which costs a whole stage or command). Each client sets its own numbers from its platform's limits."""

    waits: int  # "later" answers waited out here, at most
    wait_limit_seconds: float  # a longer hint is the caller's: waiting here would outlast the invocation
    # The wait when the answer carried no hint; None: without a hint the "later" is the caller's.
    default_wait_seconds: float | None
    # What counts as "later": answers that refuse before any work, so repeating them is safe for writes too.
    later: tuple[type[RetryableError], ...] = (RateLimited,)


def call_in_place(
    policy: InPlace,
    method: str,
    call: Callable[[], T],
    *,
    before_each: Callable[[], None] | None = None,
    sleep: bool = True,
) -> T:
    """`call()`'s answer, with a "later" (`policy.later`) waited out per its `retry_after` up to `policy.waits`
    times and a read's passing failure tried again up to `READ_ATTEMPTS`; anything else, or more, is raised.

    `before_each` runs before every try, outside it (a pacer's turn: its own `RateLimited`, when its next slot is
    too far off, goes straight to the caller). `sleep=False` counts the waits without sleeping them, for a client
    whose pacer waits them instead (the 429 backed the pacer off)."""
    attempts = READ_ATTEMPTS if method == "GET" else 1
    attempt, waits = 1, policy.waits
    while True:
        if before_each is not None:
            before_each()
        try:
            return call()
        except RetryableError as failed:
            if isinstance(failed, policy.later):
                wait = policy.default_wait_seconds if failed.retry_after is None else failed.retry_after
                if waits == 0 or wait is None or wait > policy.wait_limit_seconds:
                    raise
                waits -= 1
                if sleep:
                    pacing.clock.sleep(wait)
                continue
            if attempt >= attempts or failed.failure_class is not FailureClass.TARGET_DOWN:
                raise
            attempt += 1
