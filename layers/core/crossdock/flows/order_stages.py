"""The order workflow's stage runner (SPEC §1.5), the same for every kind: the stages themselves are the
integration's (`ports.OrderWorkflow`: transfer → book → ship → invoice, credit notes, cancellations …).

Each stage is idempotent on (connection, order, stage); the workflow passes the order context from stage to stage
and each stage returns it with `next` set. A workflow that failed for good is recorded here: its event ends
`needs_attention` with the reason and failure class, the failure is remembered per workflow (the reconciliation
sweep retries only passing ones), and the integration does its own bookkeeping.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock import registry, retry_after
from crossdock.connections.model import Connection, ConnectionState
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.ports import OrderWorkflow, WorkflowStatus
from crossdock.store.events import EventStatus
from crossdock.store.repositories import KeptInTable
from crossdock.workflow_names import execution_name


def _never_started(execution_arn: str) -> str | None:
    return None


@dataclass(frozen=True)
class StageDeps(KeptInTable):
    """What the order steps function provides; the integration's stages see it as `ports.StagePorts`."""

    clients: Any
    # Status of another execution of the order workflow (a cancellation waits for its order's own workflow).
    workflow_status: WorkflowStatus = _never_started


def run_stage(stage: str, context: dict[str, Any], deps: StageDeps, execution: str | None = None) -> dict[str, Any]:
    return _run_stage(stage, context, deps, execution)[0]


def _run_stage(
    stage: str, context: dict[str, Any], deps: StageDeps, execution: str | None
) -> tuple[dict[str, Any], frozenset[str]]:
    """The stage's result, and the stages that may follow it in the same invocation."""
    if stage == "needs_attention":
        record_needs_attention(context, deps)
        return context, frozenset()
    connection = _connection(deps, context["connection_id"])
    if connection.state is not ConnectionState.ACTIVE:
        # Uninstalled or paused: work for the shop stops, wherever its workflows were.
        reason = f"connection {connection.id} is {connection.state.value}: work for it has stopped"
        return _skip(context, reason, deps), frozenset()
    workflow = _workflow(connection)
    return workflow.run(stage, context, connection, deps, execution), workflow.chained()


# The workflow's first state runs this stage: the first stage the event's kind needs (the kind is the workflow
# input's; an event without one is an order, as the workflow's old Begin choice defaulted to Transfer).
START = "start"
FIRST_STAGES = {"order": "transfer", "refund": "credit_note", "cancel": "cancel"}


def first_stage(context: dict[str, Any]) -> str:
    return FIRST_STAGES.get(str(context.get("kind", "order")), "transfer")


# Time an invocation keeps for one more stage: a few calls to the target, each with the client's read timeout.
SECONDS_PER_STAGE_RESERVE = 15.0


def run_stages(
    stage: str,
    context: dict[str, Any],
    deps: StageDeps,
    execution: str | None = None,
    seconds_left: Callable[[], float] = lambda: float("inf"),
) -> tuple[dict[str, Any], list[str]]:
    """Runs `stage`, then the order's following stages in the same invocation while time is left; returns the
    context (its `next` is the stage still to run, or `done`) and the stages that ran.

    Standard workflows are billed per state transition, and a Task plus the Choice after it are two per stage: an
    order to `invoiced_and_shipped` took ten, it now takes four. The workflow keeps a Task per stage for what does
    not finish here: a stage that fails for a passing reason (429, 5xx, timeout) is handed back as `next`, so it runs
    again as its own state with that state's retry policy and backoff — never inside this invocation. A permanent
    failure raises as before (Catch → needs_attention), and a crash re-runs the first stage, which is idempotent.

    A stage the target asked to come back to later (`retry_after`: Rackbeat's or Shopify's own word) is handed
    back with `wait_seconds`: the workflow's Wait state waits exactly that long (`SecondsPath`) before running it
    again, instead of the Retry policy's fixed schedule, which calls too early (another 429) or too late."""
    context = _without_wait(context)
    try:
        result, chained = _run_stage(stage, context, deps, execution)
    except RetryableError as passing:
        return _wait_for_target(stage, context, passing), []
    result = _without_wait(result, waited_for=stage)
    ran = [stage]
    while result.get("next") in chained and seconds_left() >= SECONDS_PER_STAGE_RESERVE:
        following = str(result["next"])
        try:
            result, chained = _run_stage(following, result, deps, execution)
        except RetryableError as passing:
            # `next` is still `following`: the workflow runs it as its own state, after the target's wait if any
            return _wait_for_target(following, result, passing, reraise=False), ran
        ran.append(following)
    return result, ran


# The context's keys for a wait the target asked for: how long (the Wait state's SecondsPath) and how many waits in
# a row this stage has had.
WAIT_SECONDS = "wait_seconds"
TARGET_WAITS = "target_waits"
# A target that keeps saying "later" this many times in a row (up to 20 × the 600 s clamp) is down, not busy: the
# state's Retry policy takes over, and after it the order needs attention.
MAX_TARGET_WAITS = 20


def _wait_for_target(
    stage: str, context: dict[str, Any], passing: RetryableError, *, reraise: bool = True
) -> dict[str, Any]:
    """The context handed back to wait for the target before `stage` runs again. Without a hint from the target
    (a 5xx, a timeout), or past MAX_TARGET_WAITS, the error is raised for the Retry policy's backoff — or, for a
    stage chained after one that succeeded, handed back without a wait, to run as its own state."""
    waits = int(context.get(TARGET_WAITS) or 0)
    if passing.retry_after is None or waits >= MAX_TARGET_WAITS:
        if reraise:
            raise passing
        return {**context, "next": stage}
    # Whole seconds, rounded up: a Wait state's SecondsPath must name an integer, and early is another 429.
    wait = math.ceil(retry_after.for_error(passing))
    return {**context, "next": stage, WAIT_SECONDS: wait, TARGET_WAITS: waits + 1}


def _without_wait(context: dict[str, Any], waited_for: str | None = None) -> dict[str, Any]:
    """The context without the last wait (the Wait state has kept it); a stage that ran also clears its count."""
    cleared = {key: value for key, value in context.items() if key != WAIT_SECONDS}
    if waited_for is not None:
        cleared.pop(TARGET_WAITS, None)
    return cleared


def _workflow(connection: Connection) -> OrderWorkflow:
    workflow = registry.integration(connection.kind).order_workflow
    if workflow is None:
        raise PermanentError(f"connection kind {connection.kind} has no order workflow", FailureClass.BUG)
    return workflow


def _connection(deps: StageDeps, connection_id: str) -> Connection:
    connection = deps.connections.load(connection_id)
    if connection is None:
        raise PermanentError(f"connection {connection_id} no longer exists")
    return connection


def _skip(context: dict[str, Any], reason: str, deps: StageDeps) -> dict[str, Any]:
    deps.events.finish(context["connection_id"], context["event_sk"], EventStatus.SKIPPED, reason)
    return {**context, "next": "done"}


def describe_failure(error: dict[str, Any]) -> tuple[str, str]:
    """(reason, failure class) from the `Error`/`Cause` Step Functions caught. A Lambda error's cause is the
    function's error JSON; our errors carry their class as a `[class]` prefix of the message."""
    name = str(error.get("Error", "Error"))
    cause = error.get("Cause") or ""
    try:
        message = str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        message = str(cause)
    failure_class = FailureClass.BUG.value
    if message.startswith("[") and "] " in message:
        failure_class, message = message[1:].split("] ", 1)
    elif name == "RetryableError":
        failure_class = FailureClass.TARGET_DOWN.value
    return f"{name}: {message}" if message else name, failure_class


def record_needs_attention(context: dict[str, Any], deps: StageDeps) -> None:
    reason, failure_class = describe_failure(context.get("error") or {})
    deps.events.finish(
        context["connection_id"],
        context["event_sk"],
        EventStatus.NEEDS_ATTENTION,
        reason,
        failure_class=failure_class,
    )
    # Remembered per workflow so that the reconciliation sweep retries only what failed for a passing reason.
    kind = str(context.get("kind", "order"))
    subject = context.get("refund_id") if kind == "refund" else context.get("order_id")
    if subject is not None:
        first = execution_name(context["connection_id"], str(subject), kind)
        deps.attempts.record_failure(context["connection_id"], first, failure_class)
    connection = deps.connections.load(context["connection_id"])
    if connection is not None:
        _workflow(connection).on_failure(context, reason, failure_class, deps.table)
