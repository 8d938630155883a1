"""The target's own word decides the wait (issue 13): `crossdock.retry_after` reads and clamps it, and the order
stage runner hands a throttled stage back to the workflow's Wait state with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flow_fakes import MadeUpKind, RecordingWorkflow, connection, goes_to, raises, registered
from test_flow_order_stages import Harness, context

from crossdock import retry_after
from crossdock.errors import RateLimited, RetryableError
from crossdock.flows.order_stages import MAX_TARGET_WAITS, TARGET_WAITS, WAIT_SECONDS, run_stages
from crossdock.flows.push import FailedMessage, HeldBack, hold_back


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("1.5", 1.5), ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0), (None, None), ("soon", None), ("", None)],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    now = 1792567680.0  # Wed, 21 Oct 2026 07:28:00 GMT
    assert retry_after.parse(header, now) == seconds


@pytest.mark.parametrize(
    ("hint", "wait"),
    [(7.0, 7.0), (0.0, 1.0), (-30.0, 1.0), (86_400.0, 600.0), (None, 5.0), (float("nan"), 5.0)],
)
def test_the_wait_keeps_the_hint_within_sane_bounds(hint: float | None, wait: float) -> None:
    # A zero or past hint would call again at once; a day-long one is a broken header, not a rate limit.
    assert retry_after.seconds(hint) == wait


def test_a_bucket_restores_the_missing_points_at_its_rate() -> None:
    assert retry_after.restore_seconds(cost=502, available=2, restore_rate=50) == 10.0
    assert retry_after.restore_seconds(cost=10, available=900, restore_rate=50) == 0.0


@pytest.fixture
def harness() -> Iterator[Harness]:
    workflow = RecordingWorkflow(
        stages={"transfer": goes_to("book"), "book": goes_to("ship"), "ship": goes_to("done")},
        chain=frozenset({"book", "ship"}),
    )
    with registered(MadeUpKind(workflow=workflow)) as kind:
        made = Harness(kind)
        made.connections.add(connection())
        yield made


def test_a_throttled_first_stage_is_handed_back_with_the_targets_wait(harness: Harness) -> None:
    # GIVEN Rackbeat answers the transfer 429 with Retry-After 37.2
    harness.workflow.stages["transfer"] = raises(RateLimited("429", retry_after=37.2))
    # WHEN the stage runs
    result, ran = run_stages("transfer", context(), harness.deps())
    # THEN nothing ran, and the workflow is told to run the transfer again after 38 whole seconds
    assert ran == []
    assert (result["next"], result[WAIT_SECONDS], result[TARGET_WAITS]) == ("transfer", 38, 1)


def test_a_throttled_following_stage_is_handed_back_with_the_targets_wait(harness: Harness) -> None:
    harness.workflow.stages["ship"] = raises(RetryableError("503", retry_after=12))
    result, ran = run_stages("transfer", context(), harness.deps())
    assert ran == ["transfer", "book"]
    assert (result["next"], result[WAIT_SECONDS]) == ("ship", 12)


def test_a_stage_that_runs_after_its_wait_clears_it(harness: Harness) -> None:
    # GIVEN the workflow waited 38 s (its second wait) and runs the transfer again
    waited: dict[str, Any] = context(next="transfer", **{WAIT_SECONDS: 38, TARGET_WAITS: 2})
    # WHEN it succeeds
    result, ran = run_stages("transfer", waited, harness.deps())
    # THEN no wait is left for the workflow's Route to act on, and the count starts again
    assert ran == ["transfer", "book", "ship"] and result["next"] == "done"
    assert WAIT_SECONDS not in result and TARGET_WAITS not in result


def test_without_a_hint_the_workflows_retry_policy_decides(harness: Harness) -> None:
    harness.workflow.stages["transfer"] = raises(RetryableError("503 from the target"))
    with pytest.raises(RetryableError):
        run_stages("transfer", context(), harness.deps())


def test_a_target_that_keeps_saying_later_is_left_to_the_retry_policy(harness: Harness) -> None:
    # GIVEN the transfer has waited for Rackbeat MAX_TARGET_WAITS times in a row
    harness.workflow.stages["transfer"] = raises(RateLimited("429", retry_after=5))
    tired = context(**{TARGET_WAITS: MAX_TARGET_WAITS})
    # WHEN it is throttled once more; THEN the error goes to the state's Retry policy (and after it, Catch)
    with pytest.raises(RateLimited):
        run_stages("transfer", tired, harness.deps())


def test_a_throttled_push_and_the_rest_of_its_group_return_when_the_target_allows() -> None:
    # GIVEN a batch where shop A's first push was throttled for 9.2 s (its second was not tried behind it), shop B's
    # push failed with a 5xx (no hint), and a message without a group was throttled for 3 s
    failed = [
        FailedMessage("a1", "shop-a", "rh-a1"),
        FailedMessage("a2", "shop-a", "rh-a2"),
        FailedMessage("b1", "shop-b", "rh-b1"),
        FailedMessage("n1", None, "rh-n1"),
    ]
    # WHEN the batch's failures are held back
    held = hold_back(failed, {"a1": 9.2, "n1": 3.0})
    # THEN shop A's group shows again in 10 whole seconds, in order; shop B keeps the visibility timeout
    assert held == [HeldBack("rh-a1", 10), HeldBack("rh-a2", 10), HeldBack("rh-n1", 3)]
