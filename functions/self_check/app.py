"""Self-check: run by the schedule, re-creates the Shopify webhook subscriptions Shopify removed, and the Webshipper
and Rackbeat webhooks that went missing, for every active connection. The schedule's input carries nothing the
check needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.flows import webhook_self_check
from crossdock.integrations.rackbeat_shopify.self_check import CheckFailure, SelfCheckDeps, run_self_check


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    webhook_base_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(f"self-check:{context.aws_request_id}")
    clients = services.clients(ENV)
    deps = SelfCheckDeps(
        table=services.table(),
        shopify=clients.shopify,
        webhook_base_url=ENV.webhook_base_url,
        rackbeat=clients.rackbeat,
        secrets=services.secrets(),
    )
    report = run_self_check(deps)
    # The other kinds (Shopbox, Webshipper): each keeps its webhooks through the Integration seam, in the same report.
    checked, repaired, failed = webhook_self_check.run_self_check(
        deps.table, clients, deps.secrets, ENV.webhook_base_url
    )
    report.checked += checked
    report.repaired.update(repaired)
    report.failed.extend(CheckFailure(*failure) for failure in failed)
    metrics.add_metric(name="self_check_connections", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="self_check_repaired", unit=MetricUnit.Count, value=len(report.repaired))
    for failure in report.failed:
        metrics.add_metric(name=f"self_check_failed_{failure.failure_class}", unit=MetricUnit.Count, value=1)
        logger.warning("self-check failed for a connection", extra=vars(failure))
    for connection_id, topics in report.repaired.items():
        logger.info("webhooks re-created", extra={"connection_id": connection_id, "topics": topics})
    return report.as_dict()
