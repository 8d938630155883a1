"""Reconcile: run by a connection's own schedule (`{"connection_id": …}`), finds what webhooks missed and queues
its repair on the inbound queue. A part that fails is reported here and left for the next sweep: its cursor stayed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing
from crossdock.aws import queues, schedules, services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.flows.reconcile_schedule import ReconcileSchedules
from crossdock.integrations.rackbeat_shopify.reconciliation import ReconcileDeps, reconcile_connection

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray


def _deps(context: LambdaContext) -> ReconcileDeps:
    clients = services.clients()
    # Read per run, not at import: configuration, and a container outlives a change of it.
    queue_url = services.env("INBOUND_QUEUE_URL")
    # Deleting its own schedule (connection uninstalled, reconciliation off) needs no target.
    group = schedules.ScheduleGroup.from_env("RECONCILE", with_target=False)

    def enqueue(messages: list[dict[str, Any]]) -> None:
        queues.send_all(queues.client(), queue_url, messages)

    return ReconcileDeps(
        table=services.table(),
        shopify=clients.shopify,
        rackbeat=clients.rackbeat,
        enqueue=enqueue,
        now=pacing.clock.time,
        schedules=ReconcileSchedules(services.table(), group),
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = str(event.get("connection_id") or "")
    logger.set_correlation_id(f"reconcile:{connection_id}:{context.aws_request_id}")
    if not connection_id:
        # A schedule made by hand without the connection: nothing to sweep, and retrying would not help.
        logger.error("reconcile event has no connection_id", extra={"event_keys": sorted(event)})
        metrics.add_metric(name="reconcile_failed_bug", unit=MetricUnit.Count, value=1)
        return {"skipped": "connection_id: missing from the schedule's input"}
    report = reconcile_connection(connection_id, _deps(context))
    metrics.add_metric(name="reconcile_orders_enqueued", unit=MetricUnit.Count, value=len(report.orders_enqueued))
    metrics.add_metric(name="reconcile_refunds_enqueued", unit=MetricUnit.Count, value=len(report.refunds_enqueued))
    metrics.add_metric(name="reconcile_stock_corrected", unit=MetricUnit.Count, value=len(report.stock_corrected))
    for part, failed in report.failures:
        metrics.add_metric(name=f"reconcile_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        logger.warning(
            "reconciliation part failed",
            extra={
                "connection_id": connection_id,
                "part": part,
                "failure_class": failed.failure_class.value,
                "reason": failed.reason,
            },
        )
    logger.info("reconciliation swept", extra={k: v for k, v in report.as_dict().items() if k != "failures"})
    return report.as_dict()
