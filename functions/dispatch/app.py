"""Dispatch: consumes the inbound queue in batches and reports only the records that must be retried."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing
from crossdock.aws import schedules, services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.connectors.shopify import order_query
from crossdock.errors import CrossdockError
from crossdock.flows import outbound
from crossdock.flows.dispatch import DispatchDeps, dispatch_event
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.integrations.rackbeat_shopify.products import ProductDeps
from crossdock.integrations.rackbeat_shopify.reconciliation import streams_of
from crossdock.integrations.rackbeat_shopify.stock import StockDeps

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

processor = BatchProcessor(event_type=EventType.SQS)
STATE_MACHINE_ARN = os.environ["ORDER_STATE_MACHINE_ARN"]
OUTBOUND_QUEUE_URL = os.environ["SHOPIFY_OUTBOUND_QUEUE_URL"]


def _send(message: dict[str, Any], group: str, dedupe: str) -> None:
    services.send_to_fifo(OUTBOUND_QUEUE_URL, message, group, dedupe)


def _execution_status(name: str) -> str | None:
    # arn:…:stateMachine:<machine> → arn:…:execution:<machine>:<name>
    return services.execution_status(STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:", 1) + ":" + name)


def _deps() -> DispatchDeps:
    clients = services.clients()
    table = services.table()
    return DispatchDeps(
        table=table,
        start_order_workflow=lambda name, data: services.start_execution(STATE_MACHINE_ARN, name, data),
        send_command=outbound.item_push_request(_send, pacing.clock.time),
        stock=StockDeps(
            table=table,
            now=pacing.clock.time,
            request_push=outbound.stock_push_request(_send, pacing.clock.time),
            rackbeat=clients.rackbeat,
            shopify=clients.shopify,
        ),
        products=ProductDeps(table=table, rackbeat=clients.rackbeat, shopify=clients.shopify),
        secrets=services.secrets(),
        workflow_status=_execution_status,
        fetch_order=lambda connection, order_id: order_query.fetch_order(clients.shopify(connection), order_id),
        schedules=PollSchedules(table, schedules.ScheduleGroup.from_env("POLL", with_target=False), streams_of),
    )


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    logger.set_correlation_id(message.get("event_id"))
    try:
        outcome = dispatch_event(message, _deps())
    except CrossdockError as failed:
        metrics.add_metric(name=f"event_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    # Each finished event is counted where it finishes (flows.outcome); here, every event dispatch went through.
    metrics.add_metric(name="event_dispatched", unit=MetricUnit.Count, value=1)
    logger.info(
        "event dispatched",
        extra={"topic": message.get("topic"), "status": outcome.status.value, "reason": outcome.reason},
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
