"""Order steps: a stage of the order workflow, and the stages that follow it while time is left (see `run_stages`).

Errors leave as exceptions whose class name the workflow's Retry/Catch match on (`RetryableError` is retried with
backoff; anything else is caught and recorded as needs_attention).

The workflow's first state (`Run`, stage `start`) ends the execution when it returns, so an order that reaches its
target costs one state transition. What it cannot finish leaves as `Handback`, carrying the order state as its
message: the workflow's Catch rebuilds the state from the cause and routes it as the other stages' results are.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError, PermanentError
from crossdock.flows.order_stages import START, StageDeps, first_stage, run_stages

ENV = FunctionEnvironment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray


# Step Functions keeps 32,768 characters of an error's cause; Lambda's error JSON around the message (type, stack
# trace) takes a few KB of it. An order state is about 1.7 KB.
HANDBACK_LIMIT = 28_000


class Handback(Exception):
    """Stages are left after the workflow's first state. The workflow's Catch matches on this class name; the
    message is the order state as JSON (`next`, and `wait_seconds` when the target asked for a wait) for its
    Unwrap/Restore/Route states. Not an error: no failure metric, and never retried (no Retry entry names it)."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(json.dumps(state, separators=(",", ":"), default=str))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stage, order = event["stage"], event["order"]
    logger.set_correlation_id(f"{order.get('connection_id')}:{order.get('order_id') or order.get('refund_id')}")
    try:
        deps = StageDeps(
            table=services.table(), clients=services.clients(ENV), workflow_status=services.execution_status
        )
        result, ran = run_stages(
            first_stage(order) if stage == START else stage,
            order,
            deps,
            execution=event.get("execution"),
            seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        )
    except CrossdockError as failed:
        # One metric per failure class, so a dashboard tells throttling from a target outage from bad data.
        metrics.add_metric(name=f"order_stage_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    for done in ran:
        metrics.add_metric(name=f"order_stage_{done}", unit=MetricUnit.Count, value=1)
    logger.info("order stages finished", extra={"stages": ran, "next": result.get("next")})
    if stage == START and result.get("next") != "done":
        handback = Handback(result)
        if len(str(handback)) > HANDBACK_LIMIT:
            # Cut short, the cause would not parse in Restore, a Pass state without Catch: fail where Run catches.
            raise PermanentError(f"order state of {len(str(handback))} characters is too large to hand back")
        # Lambda counts the hand-back among the function's Errors; the errors alarm subtracts this count.
        metrics.add_metric(name="order_stages_handed_back", unit=MetricUnit.Count, value=1)
        raise handback
    return result
