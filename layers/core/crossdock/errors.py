"""The error taxonomy (DESIGN §4). External clients translate transport failures into these; flows decide by type.

The class names are part of the contract with the workflow: Step Functions `Retry`/`Catch` match on the Lambda
error type, which is the exception class name (`RetryableError`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class FailureClass(StrEnum):
    """Why something needs an operator; one metric per class."""

    AUTH = "auth"
    VALIDATION = "validation"
    UNMAPPED = "unmapped"
    RATE_LIMIT = "rate_limit"
    TARGET_DOWN = "target_down"
    BUG = "bug"


class CrossdockError(Exception):
    def __init__(self, reason: str, failure_class: FailureClass) -> None:
        # The class leads the message so it survives the trip through a Lambda error into the workflow's Catch.
        super().__init__(f"[{failure_class.value}] {reason}")
        self.reason = reason
        self.failure_class = failure_class


class RetryableError(CrossdockError):
    """Transient: 429, 5xx, timeouts, a busy lock. Retry with backoff; `retry_after` is the target's own hint."""

    def __init__(
        self, reason: str, failure_class: FailureClass = FailureClass.TARGET_DOWN, retry_after: float | None = None
    ) -> None:
        super().__init__(reason, failure_class)
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """429: the target's rate limit. A class of its own so the workflow can back off on the scale of the target's
    window (Rackbeat counts per minute) instead of the short backoff that suits a 5xx."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason, FailureClass.RATE_LIMIT, retry_after)


class PermanentError(CrossdockError):
    """Will not succeed by retrying: record `needs_attention` with the reason and stop."""

    def __init__(self, reason: str, failure_class: FailureClass = FailureClass.VALIDATION) -> None:
        super().__init__(reason, failure_class)


class Skip(Exception):
    """A business no-op (already done, stale, not wanted by the settings): record `skipped` with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExecutionAlreadyExists(Exception):
    """A workflow execution with this name was started before (Step Functions refuses a second one)."""


def repeat_transient(call: Callable[[], T], attempts: int) -> T:
    """Run `call`, repeating it at once on a transient failure, `attempts` times at most. For reads, which are safe
    to repeat; a 429 is not repeated at once (that would only meet the limit again) but raised for the caller's
    backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except RateLimited:
            raise
        except RetryableError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
