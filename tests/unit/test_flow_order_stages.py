"""The order workflow's stage runner (flows/order_stages.py) against in-memory fakes: a made-up kind whose stages
record that they ran, no AWS. The connection's state, chaining within one invocation, and how a workflow that
failed for good is recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import (
    FakeAttempts,
    FakeConnections,
    FakeEventLog,
    MadeUpKind,
    RecordingWorkflow,
    connection,
    goes_to,
    raises,
    registered,
)

from crossdock.connections.model import ConnectionState
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.flows.order_stages import (
    SECONDS_PER_STAGE_RESERVE,
    StageDeps,
    describe_failure,
    first_stage,
    record_needs_attention,
    run_stage,
    run_stages,
)
from crossdock.store.attempts import Attempts
from crossdock.store.events import EventStatus
from crossdock.workflow_names import execution_name

SK = "EVT#2026-03-01T10:00:00.000000Z#e-1"
EXECUTION = "c-1-order-1001"


def context(**fields: Any) -> dict[str, Any]:
    return {"connection_id": "c-1", "event_sk": SK, "order_id": "1001", **fields}


@dataclass
class Harness:
    kind: MadeUpKind
    events: FakeEventLog = field(default_factory=FakeEventLog)
    connections: FakeConnections = field(default_factory=FakeConnections)
    attempts: FakeAttempts = field(default_factory=FakeAttempts)

    @property
    def workflow(self) -> RecordingWorkflow:
        assert self.kind.workflow is not None
        return self.kind.workflow

    def deps(self) -> StageDeps:
        return StageDeps(
            table=None,
            clients=None,
            event_log=self.events,
            connection_repository=self.connections,
            attempt_log=self.attempts,
        )


@pytest.fixture
def harness() -> Iterator[Harness]:
    workflow = RecordingWorkflow(
        stages={
            "transfer": goes_to("book"),
            "book": goes_to("ship"),
            "ship": goes_to("invoice"),
            "invoice": goes_to("done"),
        },
        chain=frozenset({"book", "ship", "invoice"}),
    )
    with registered(MadeUpKind(workflow=workflow)) as kind:
        made = Harness(kind)
        made.connections.add(connection())
        yield made


def test_a_stage_runs_in_the_kinds_workflow_with_the_connection_and_execution(harness: Harness) -> None:
    result = run_stage("transfer", context(), harness.deps(), EXECUTION)

    assert result == context(next="book")
    assert harness.workflow.ran == [("transfer", "c-1", EXECUTION)]
    assert harness.events.events == {}


@pytest.mark.parametrize("state", [ConnectionState.PAUSED, ConnectionState.UNINSTALLED])
def test_a_stage_for_a_connection_that_is_not_active_ends_the_event_skipped_and_the_workflow_done(
    harness: Harness, state: ConnectionState
) -> None:
    harness.connections.add(connection(state=state))

    result = run_stage("book", context(), harness.deps())

    assert result["next"] == "done" and harness.workflow.ran == []
    stored = harness.events.events[("c-1", SK)]
    assert stored.status is EventStatus.SKIPPED
    assert stored.reason == f"connection c-1 is {state.value}: work for it has stopped"


def test_a_stage_for_a_deleted_connection_fails_for_good(harness: Harness) -> None:
    with pytest.raises(PermanentError, match="connection c-9 no longer exists"):
        run_stage("transfer", context(connection_id="c-9"), harness.deps())
    assert harness.workflow.ran == []


def test_a_kind_without_an_order_workflow_is_a_bug() -> None:
    with registered(MadeUpKind(workflow=None)) as kind:
        made = Harness(kind)
        made.connections.add(connection())
        with pytest.raises(PermanentError) as failed:
            run_stage("transfer", context(), made.deps())
    assert failed.value.failure_class is FailureClass.BUG
    assert "has no order workflow" in failed.value.reason


def test_stages_the_workflow_chains_run_in_one_invocation_until_done(harness: Harness) -> None:
    # WHEN the first stage runs with time to spare
    result, ran = run_stages("transfer", context(), harness.deps(), EXECUTION)
    # THEN every chained stage followed it, in order, and the workflow is done
    assert ran == ["transfer", "book", "ship", "invoice"] == harness.workflow.stage_names
    assert result["next"] == "done"


def test_a_stage_the_workflow_does_not_chain_is_handed_back_to_the_workflow(harness: Harness) -> None:
    harness.workflow.chain = frozenset({"book"})

    result, ran = run_stages("transfer", context(), harness.deps())

    assert ran == ["transfer", "book"] and result["next"] == "ship"
    assert harness.workflow.stage_names == ["transfer", "book"]


def test_a_following_stage_that_fails_for_a_passing_reason_is_handed_back_as_next(harness: Harness) -> None:
    # GIVEN shipping fails for a passing reason (the target is down)
    harness.workflow.stages["ship"] = raises(RetryableError("503 from the target"))
    # WHEN the chain reaches it
    result, ran = run_stages("transfer", context(), harness.deps())
    # THEN the stages before it count as run, and the workflow is told to run shipping itself (with its backoff)
    assert ran == ["transfer", "book"]
    assert result["next"] == "ship"
    assert harness.workflow.stage_names == ["transfer", "book", "ship"]


def test_the_first_stage_failing_for_a_passing_reason_raises_for_the_workflows_retry(harness: Harness) -> None:
    harness.workflow.stages["transfer"] = raises(RetryableError("429", FailureClass.RATE_LIMIT))

    with pytest.raises(RetryableError):
        run_stages("transfer", context(), harness.deps())
    assert harness.workflow.stage_names == ["transfer"]


def test_a_lasting_failure_in_a_following_stage_raises(harness: Harness) -> None:
    harness.workflow.stages["book"] = raises(PermanentError("unknown product"))

    with pytest.raises(PermanentError, match="unknown product"):
        run_stages("transfer", context(), harness.deps())


def test_chaining_stops_when_too_little_time_is_left_for_another_stage(harness: Harness) -> None:
    # GIVEN the invocation has time for one more stage after the first, then not
    left = iter([SECONDS_PER_STAGE_RESERVE + 1, SECONDS_PER_STAGE_RESERVE - 1])
    # WHEN the stages run
    result, ran = run_stages("transfer", context(), harness.deps(), seconds_left=lambda: next(left))
    # THEN the chain stops before shipping, which the workflow runs as its own state
    assert ran == ["transfer", "book"] and result["next"] == "ship"


def test_a_failed_workflow_ends_its_event_needs_attention_and_remembers_the_failure(harness: Harness) -> None:
    # GIVEN the workflow caught a lasting failure of a stage, as Step Functions hands it over
    cause = json.dumps({"errorMessage": "[unmapped] product SKU-9 has no item", "errorType": "PermanentError"})
    failed = context(error={"Error": "PermanentError", "Cause": cause})
    # WHEN the needs_attention stage runs
    result = run_stage("needs_attention", failed, harness.deps())
    # THEN the event needs attention with the reason and class
    assert result == failed
    stored = harness.events.events[("c-1", SK)]
    assert stored.status is EventStatus.NEEDS_ATTENTION
    assert stored.reason == "PermanentError: product SKU-9 has no item"
    assert stored.details == {"failure_class": "unmapped"}
    # AND the failure is remembered under the order's first execution name, and the kind does its bookkeeping
    assert harness.attempts.current("c-1", execution_name("c-1", "1001")) == Attempts(0, "unmapped")
    assert harness.workflow.failures == [(failed, "PermanentError: product SKU-9 has no item", "unmapped")]
    assert harness.workflow.ran == []


def test_a_failed_refund_is_remembered_under_the_refunds_execution_name(harness: Harness) -> None:
    failed = context(kind="refund", refund_id="77", error={"Error": "RetryableError", "Cause": "timeout"})

    record_needs_attention(failed, harness.deps())

    assert harness.attempts.attempts == {("c-1", execution_name("c-1", "77", "refund")): Attempts(0, "target_down")}


def test_a_failure_recorded_after_the_connection_was_deleted_skips_the_kinds_bookkeeping(harness: Harness) -> None:
    failed = context(connection_id="c-9", error={"Error": "States.Timeout"})

    record_needs_attention(failed, harness.deps())

    stored = harness.events.events[("c-9", SK)]
    assert (stored.status, stored.reason, stored.details) == (
        EventStatus.NEEDS_ATTENTION,
        "States.Timeout",
        {"failure_class": "bug"},
    )
    assert harness.workflow.failures == []


@pytest.mark.parametrize(
    ("error", "described"),
    [
        (
            {"Error": "PermanentError", "Cause": json.dumps({"errorMessage": "[auth] token revoked"})},
            ("PermanentError: token revoked", "auth"),
        ),
        ({"Error": "RetryableError", "Cause": "read timed out"}, ("RetryableError: read timed out", "target_down")),
        ({"Error": "KeyError", "Cause": json.dumps({"errorMessage": "'sku'"})}, ("KeyError: 'sku'", "bug")),
        ({"Error": "States.Timeout"}, ("States.Timeout", "bug")),
        ({}, ("Error", "bug")),
    ],
)
def test_describe_failure_reads_the_class_a_stage_put_in_its_message(
    error: dict[str, Any], described: tuple[str, str]
) -> None:
    assert describe_failure(error) == described


@pytest.mark.parametrize(
    ("kind", "stage"),
    [("order", "transfer"), ("refund", "credit_note"), ("cancel", "cancel"), (None, "transfer")],
)
def test_the_workflows_first_state_runs_the_first_stage_of_the_events_kind(kind: str | None, stage: str) -> None:
    # GIVEN a workflow input of that kind (none: an order, as the old Begin choice's default)
    workflow_input = context() if kind is None else context(kind=kind)
    # WHEN the first state asks which stage to run THEN it is the kind's first stage
    assert first_stage(workflow_input) == stage
