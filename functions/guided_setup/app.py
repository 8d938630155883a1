"""Guided setup: one chunk of a connection's setup step per invocation (`flows.guided_setup`), run by the guided
setup workflow until the step is finished; and the record of a run the workflow caught failing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError
from crossdock.flows import guided_setup
from crossdock.integration import SetupDeps
from crossdock.store.events import received_stamp


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    # Where the steps register the webhooks of the connection (product, order and PeakWMS webhooks).
    webhook_base_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # the platforms' answers, timed in X-Ray


def _deps() -> SetupDeps:
    return SetupDeps(
        table=services.table(),
        clients=services.clients(ENV),
        secrets=services.secrets(),
        now_text=received_stamp,
        webhook_base_url=ENV.webhook_base_url,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id, step, run = event["connection_id"], event["step"], int(event["run"])
    logger.set_correlation_id(f"{connection_id}:setup:{step}:{run}")
    if event.get("action") == guided_setup.FAILED:
        guided_setup.record_failed(connection_id, step, run, event.get("error"), _deps())
        metrics.add_metric(name="guided_setup_step_failed", unit=MetricUnit.Count, value=1)
        return {"connection_id": connection_id, "step": step, "run": run}
    try:
        result = guided_setup.run_chunk(connection_id, step, run, _deps())
    except CrossdockError as failed:
        metrics.add_metric(name=f"guided_setup_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="guided_setup_chunk", unit=MetricUnit.Count, value=1)
    logger.info("setup chunk finished", extra={"step": step, "run": run, "result": result})
    return {"connection_id": connection_id, "step": step, "run": run, **result}
