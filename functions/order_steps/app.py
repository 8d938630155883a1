"""Order steps: a stage of the order workflow, and the stages that follow it while time is left (see `run_stages`).

Errors leave as exceptions whose class name the workflow's Retry/Catch match on (`RetryableError` is retried with
backoff; anything else is caught and recorded as needs_attention).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError
from crossdock.flows.order_stages import StageDeps, run_stages

ENV = FunctionEnvironment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray


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
            stage,
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
    return result
