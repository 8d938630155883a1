"""Self-check: run by the schedule, re-creates the Shopify webhook subscriptions Shopify removed, for every active
connection. The schedule's input carries nothing the check needs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock.aws import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.integrations.rackbeat_shopify.self_check import SelfCheckDeps, run_self_check

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(f"self-check:{context.aws_request_id}")
    deps = SelfCheckDeps(
        table=services.table(),
        shopify=services.clients().shopify,
        # Read per run, not at import: the address is configuration, and a container outlives a change of it.
        webhook_base_url=services.env("WEBHOOK_BASE_URL"),
    )
    report = run_self_check(deps)
    metrics.add_metric(name="self_check_connections", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="self_check_repaired", unit=MetricUnit.Count, value=len(report.repaired))
    for failure in report.failed:
        metrics.add_metric(name=f"self_check_failed_{failure.failure_class}", unit=MetricUnit.Count, value=1)
        logger.warning("self-check failed for a connection", extra=vars(failure))
    for connection_id, topics in report.repaired.items():
        logger.info("webhook subscriptions re-created", extra={"connection_id": connection_id, "topics": topics})
    return report.as_dict()
