"""Shopify push: consumes the shops' outbound FIFO queue (one message group per connection, so one shop's pushes
run one at a time and stay inside its API budget) and writes products and stock to Shopify."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError
from crossdock.flows.push import PushDeps, run_command
from crossdock.integrations.rackbeat_shopify import outbound


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    shopify_outbound_queue_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

processor = SqsFifoPartialProcessor()
_context: LambdaContext | None = None


def _deps() -> PushDeps:
    queue_url = ENV.shopify_outbound_queue_url
    context = _context

    def send(message: dict[str, Any], group: str, dedupe: str) -> None:
        services.send_to_fifo(queue_url, message, group, dedupe)

    return PushDeps(
        table=services.table(),
        clients=services.clients(ENV),
        request_stock_push=outbound.stock_push_request(send, pacing.clock.time),
        continue_stock_push=outbound.stock_push_continuation(send),
        now=pacing.clock.time,
        sleep=pacing.clock.sleep,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000 if context else 900.0,
    )


def record_handler(record: SQSRecord) -> None:
    command = json.loads(record.body)
    logger.set_correlation_id(f"{command.get('connection_id')}:{command.get('command')}")
    try:
        result = run_command(command, _deps())
    except CrossdockError as failed:
        metrics.add_metric(name=f"push_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"push_{command.get('command')}", unit=MetricUnit.Count, value=1)
    logger.info("push finished", extra={"command": command.get("command"), "result": result})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    global _context
    _context = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
