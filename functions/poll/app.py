"""Poll: run by one schedule per connection and stream (`{"connection_id": …, "stream": …}`, flows/poll_schedules.py),
reads what changed in the stream since its cursor and queues it on the inbound queue (flows/poll.py). A run that
fails is reported here and left for the next one: its cursor stayed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, services
from crossdock.aws import queues, schedules
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.flows.poll import PollDeps, run_poll
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.registry import poll_streams


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    inbound_queue_url: str
    poll_schedule_group: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # the polled systems' answers, timed in X-Ray


def _deps(context: LambdaContext) -> PollDeps:
    queue_url = ENV.inbound_queue_url
    # Deleting its own schedule (connection uninstalled, stream switched off) needs no target.
    group = schedules.ScheduleGroup.named(ENV.poll_schedule_group)

    def enqueue(messages: list[dict[str, Any]]) -> None:
        queues.send_all(queues.client(), queue_url, messages)

    return PollDeps(
        table=services.table(),
        clients=services.clients(ENV),
        streams=poll_streams,
        enqueue=enqueue,
        now=pacing.clock.time,
        holder=context.aws_request_id,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        schedules=PollSchedules(services.table(), group, poll_streams),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id, stream = str(event.get("connection_id") or ""), str(event.get("stream") or "")
    logger.set_correlation_id(f"poll:{connection_id}:{stream}:{context.aws_request_id}")
    if not connection_id or not stream:
        # A schedule made by hand without its connection or stream: nothing to poll, and retrying would not help.
        logger.error("poll event lacks connection_id or stream", extra={"event_keys": sorted(event)})
        metrics.add_metric(name="poll_failed_bug", unit=MetricUnit.Count, value=1)
        return {"skipped": "connection_id and stream: both are needed in the schedule's input"}
    run = run_poll(connection_id, stream, _deps(context))
    result = run.as_dict()
    if run.skipped is not None:
        metrics.add_metric(name="poll_skipped", unit=MetricUnit.Count, value=1)
        logger.info("poll skipped", extra={"connection_id": connection_id, "stream": stream, "reason": run.skipped})
        return result
    metrics.add_metric(name="poll_enqueued", unit=MetricUnit.Count, value=run.enqueued)
    if run.failure is not None:
        metrics.add_metric(name=f"poll_failed_{run.failure.failure_class.value}", unit=MetricUnit.Count, value=1)
        logger.warning(
            "poll failed",
            extra={
                "connection_id": connection_id,
                "stream": stream,
                "failure_class": run.failure.failure_class.value,
                "reason": run.failure.reason,
            },
        )
        return result
    logger.info("polled", extra={k: v for k, v in result.items() if k != "failure"})
    return result
