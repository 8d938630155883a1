"""Shopbox push: consumes the Shopbox outbound FIFO queue (one message group per connection, that is per Shopbox
client, so one client's pushes run one at a time inside its token's rate) and writes Rackbeat's stock per branch
and Rackbeat's products to Shopbox. The same command runner as the Shopify push (`flows.push`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, retry_after, services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError, RetryableError
from crossdock.flows.push import FailedMessage, PushDeps, hold_back, run_command
from crossdock.integrations.rackbeat_shopbox import stock_inbound


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    shopbox_outbound_queue_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopbox's answers, timed in X-Ray

# One client's failure holds back only its group; the other clients' messages in the batch still run.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose every push failed is answered like any other (each item reported failed) instead of raising, so the
# handler still makes the throttled ones visible after Shopbox's Retry-After; Lambda retries the failed items
# either way.
processor.raise_on_entire_batch_failure = False
_context: LambdaContext | None = None
# Message id → seconds the target asked for, for the messages of this batch it throttled.
_waits: dict[str, float] = {}


def _deps() -> PushDeps:
    queue_url = ENV.shopbox_outbound_queue_url
    context = _context

    def send(message: dict[str, Any], group: str, dedupe: str) -> None:
        services.send_to_fifo(queue_url, message, group, dedupe)

    return PushDeps(
        table=services.table(),
        clients=services.clients(ENV),
        request_stock_push=stock_inbound.push_request(send, pacing.clock.time),
        continue_stock_push=stock_inbound.push_continuation(send),
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
        if isinstance(failed, RetryableError) and failed.retry_after is not None:
            _waits[record.message_id] = retry_after.for_error(failed)
        raise
    metrics.add_metric(name=f"push_{command.get('command')}", unit=MetricUnit.Count, value=1)
    logger.info("push finished", extra={"command": command.get("command"), "result": result})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    global _context
    _context = context
    _waits.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    failed = [
        FailedMessage(record["messageId"], record["attributes"].get("MessageGroupId"), record["receiptHandle"])
        for record in event["Records"]
        if record["messageId"] in failed_ids
    ]
    for held in hold_back(failed, _waits):
        services.change_visibility(ENV.shopbox_outbound_queue_url, held.receipt_handle, held.seconds)
    if _waits:
        logger.info("pushes wait for Shopbox", extra={"messages": len(failed), "waits": sorted(_waits.values())})
    return response
