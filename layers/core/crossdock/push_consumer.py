"""The consumer of one target system's outbound FIFO queue, written once for every push function (Shopify's,
Shopbox's …): each function names its queue, its target and how its kind asks for a stock push, and hands the
Lambda event here.

One message group per connection, so one connection's pushes run one at a time inside the target's budget while
different connections run in parallel. One connection's failure holds back only its group; the other groups'
messages in the batch still run. A push the target throttled is made visible again when the target allows (its
Retry-After or restore time, `flows.push.hold_back`), not after the queue's visibility timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, retry_after, services
from crossdock.aws.observability import logger, metrics
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError, RetryableError
from crossdock.flows.push import FailedMessage, PushDeps, hold_back, run_command

SendFifo = Callable[[dict[str, Any], str, str], None]  # (message, group id, deduplication id)
# How a kind asks its queue for a stock push now, and to go on with one later (its own deduplication ids).
StockPushRequest = Callable[[SendFifo, Callable[[], float]], Callable[[str], None]]
StockPushContinuation = Callable[[SendFifo], Callable[[str], None]]


@dataclass
class PushConsumer:
    env: FunctionEnvironment
    queue_url: str
    target: str  # the target system's name, for the log ("Shopify")
    stock_push_request: StockPushRequest
    stock_push_continuation: StockPushContinuation
    _context: LambdaContext | None = field(default=None, init=False)
    # Message id → seconds the target asked for, for the messages of this batch it throttled.
    _waits: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        # A batch whose every push failed is answered like any other (each item reported failed) instead of
        # raising, so the throttled ones are still made visible when the target allows; Lambda retries the failed
        # items either way.
        self._processor.raise_on_entire_batch_failure = False

    def _deps(self) -> PushDeps:
        queue_url, context = self.queue_url, self._context

        def send(message: dict[str, Any], group: str, dedupe: str) -> None:
            services.send_to_fifo(queue_url, message, group, dedupe)

        return PushDeps(
            table=services.table(),
            clients=services.clients(self.env),
            request_stock_push=self.stock_push_request(send, pacing.clock.time),
            continue_stock_push=self.stock_push_continuation(send),
            now=pacing.clock.time,
            sleep=pacing.clock.sleep,
            seconds_left=lambda: context.get_remaining_time_in_millis() / 1000 if context else 900.0,
        )

    def _record(self, record: SQSRecord) -> None:
        command = json.loads(record.body)
        logger.set_correlation_id(f"{command.get('connection_id')}:{command.get('command')}")
        try:
            result = run_command(command, self._deps())
        except CrossdockError as failed:
            metrics.add_metric(name=f"push_failed_{failed.failure_class.value}", unit=MetricUnit.Count, value=1)
            if isinstance(failed, RetryableError) and failed.retry_after is not None:
                self._waits[record.message_id] = retry_after.for_error(failed)
            raise
        metrics.add_metric(name=f"push_{command.get('command')}", unit=MetricUnit.Count, value=1)
        logger.info("push finished", extra={"command": command.get("command"), "result": result})

    def handle(self, event: dict[str, Any], context: LambdaContext) -> Any:
        self._context = context
        self._waits.clear()
        response = process_partial_response(
            event=event, record_handler=self._record, processor=self._processor, context=context
        )
        failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        failed = [
            FailedMessage(record["messageId"], record["attributes"].get("MessageGroupId"), record["receiptHandle"])
            for record in event["Records"]
            if record["messageId"] in failed_ids
        ]
        for held in hold_back(failed, self._waits):
            services.change_visibility(self.queue_url, held.receipt_handle, held.seconds)
        if self._waits:
            logger.info(
                f"pushes wait for {self.target}", extra={"messages": len(failed), "waits": sorted(self._waits.values())}
            )
        return response
