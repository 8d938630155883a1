"""Initial sync steps: one step of the initial-sync workflow per invocation (read the catalogue, check, import a
chunk), run by the connection's kind (`flows.initial_sync`)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError
from crossdock.flows.initial_sync import run_step
from crossdock.integration import InitialSyncDeps
from crossdock.store.events import received_stamp

ENV = FunctionEnvironment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and the source's (Shopify's, Shopbox's) answers, timed in X-Ray


def _deps() -> InitialSyncDeps:
    return InitialSyncDeps(table=services.table(), clients=services.clients(ENV), now_text=received_stamp)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, connection_id = event["step"], event["connection_id"]
    logger.set_correlation_id(f"{connection_id}:initial-sync")
    try:
        result = run_step(step, connection_id, _deps(), event.get("error"))
    except CrossdockError as failed:
        metrics.add_metric(name=f"initial_sync_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"initial_sync_{step}", unit=MetricUnit.Count, value=1)
    logger.info("initial sync step finished", extra={"step": step, "result": result})
    return {"connection_id": connection_id, **result}
