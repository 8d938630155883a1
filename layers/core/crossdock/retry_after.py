"""How long to leave a target alone after it said "later": its own word decides (Rackbeat's and Shopify's
`Retry-After`, Shopify GraphQL's throttle status), clamped to sane bounds. One helper for every place that waits —
the order stages (a Wait state), the pushes (the message's visibility) and the initial sync (in place).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from crossdock.errors import RetryableError

# Never sooner than a second: a `Retry-After: 0` (or a date in the past, or clock skew) would call again at once and
# only meet the limit again.
MIN_WAIT_SECONDS = 1.0
# Never longer than ten minutes: Rackbeat counts per minute and Shopify's bucket refills in seconds (1,000 points
# at 50 a second: 20 s), so a longer hint is a misbehaving proxy or a far-off date; a wait cut short costs one more
# 429, which brings a fresh hint. Ten minutes also stays below the outbound queue's 720 s visibility timeout.
MAX_WAIT_SECONDS = 600.0
# When the target gave no hint: about what Rackbeat's sliding window and Shopify's bucket need to let one call in.
DEFAULT_WAIT_SECONDS = 5.0


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
