"""Dispatch: consumes the inbound queue in batches and reports only the records that must be retried."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, services
from crossdock.aws import schedules
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment, MisconfiguredFunction
from crossdock.errors import CrossdockError
from crossdock.flows.dispatch import DispatchDeps, dispatch_event
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.registry import poll_streams


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    order_state_machine_arn: str
    outbound_queues: dict[str, str]  # target system → its outbound queue's URL
    poll_schedule_group: str
    payload_bucket: str  # where the bodies of claim-checked messages wait (store.claim_checks)


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

processor = BatchProcessor(event_type=EventType.SQS)
STATE_MACHINE_ARN = ENV.order_state_machine_arn


def _send(system: str, message: dict[str, Any], group: str, dedupe: str) -> None:
    queue_url = ENV.outbound_queues.get(system)
    if queue_url is None:
        raise MisconfiguredFunction(f"OUTBOUND_QUEUES has no queue for {system}")
    services.send_to_fifo(queue_url, message, group, dedupe)


def _execution_status(name: str) -> str | None:
    # arn:…:stateMachine:<machine> → arn:…:execution:<machine>:<name>
    return services.execution_status(STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:", 1) + ":" + name)


def _deps() -> DispatchDeps:
    table = services.table()
    return DispatchDeps(
        table=table,
        start_order_workflow=lambda name, data: services.start_execution(STATE_MACHINE_ARN, name, data),
        secrets=services.secrets(),
        clients=services.clients(ENV),
        send_outbound=_send,
        now=pacing.clock.time,
        workflow_status=_execution_status,
        schedules=PollSchedules(table, schedules.ScheduleGroup.named(ENV.poll_schedule_group), poll_streams),
        read_checked_in=lambda key: services.payload_bucket(ENV.payload_bucket).get(key),
    )


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    logger.set_correlation_id(message.get("event_id"))
    try:
        outcome = dispatch_event(message, _deps())
    except CrossdockError as failed:
        metrics.add_metric(name=f"event_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    # Each finished event is counted where it finishes (store.outcome); here, every event dispatch went through.
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
