"""Self-check: re-creates the Shopify webhook subscriptions Shopify removed, and the Webshipper and Rackbeat webhooks
that went missing, for every active connection — in two halves, so that it scales with the connections.

- Run by the schedule (its input carries nothing the check needs): lists the active connections and queues one
  message per connection on `SelfCheckQueue` (SendMessageBatch, ten to a request). A failure to queue fails the
  run: the asynchronous invoke retries it once, then it lands in the self-check DLQ.
- Fed by that queue (an SQS event source, a few containers at most): checks each connection of the batch on its
  own. A transient failure (a platform down, throttled) is reported and the record is handed back to SQS, which
  delivers it again after its visibility timeout and moves it to the DLQ after its last receive; a failure that
  needs a person (a revoked token) is reported and not retried — the next hour's run checks it again. The DLQ
  is shared with the schedule's failed runs; `crossdock dlq redrive --queue self-check` sends both here, and a
  failed run's record (no connection id) queues every check again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.connections.model import Connection
from crossdock.environment import FunctionEnvironment
from crossdock.errors import CrossdockError, RetryableError
from crossdock.flows import webhook_self_check
from crossdock.integrations.rackbeat_shopify.connection import KIND as SHOPIFY_KIND
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.self_check import SelfCheckDeps, check_connection


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    webhook_base_url: str
    self_check_queue_url: str  # where the schedule's run queues one check per connection


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

processor = BatchProcessor(event_type=EventType.SQS)
# The kinds whose check is their own, run here; every other kind's goes through the Integration seam.
OWN_CHECKS = frozenset({SHOPIFY_KIND})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    logger.set_correlation_id(f"self-check:{context.aws_request_id}")
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return _queue_checks()


def _queue_checks() -> dict[str, Any]:
    queued = webhook_self_check.connections_to_check(services.table(), OWN_CHECKS)
    services.send_all_to_queue(ENV.self_check_queue_url, [{"connection_id": c} for c in queued])
    metrics.add_metric(name="self_check_queued", unit=MetricUnit.Count, value=len(queued))
    logger.info("self-check queued", extra={"connections": len(queued)})
    return {"queued": len(queued)}


def _check(connection: Connection, table: Any) -> list[str]:
    clients = services.clients(ENV)
    if connection.kind == SHOPIFY_KIND:
        deps = SelfCheckDeps(
            table=table,
            shopify=clients.shopify,
            webhook_base_url=ENV.webhook_base_url,
            rackbeat=clients.rackbeat,
            secrets=services.secrets(),
        )
        return check_connection(RackbeatShopifyConnection.of(connection), deps)
    return webhook_self_check.check_connection(connection, clients, services.secrets(), ENV.webhook_base_url, table)


def record_handler(record: SQSRecord) -> None:
    """One connection's check. Raising hands the record back to SQS (received again, then the DLQ); the batch's
    other records are checked whatever this one does (BatchProcessor)."""
    message = json.loads(record.body)
    if "connection_id" not in message:
        # A failed run's record (Lambda's or the Scheduler's) redriven from the DLQ by an operator: run it again.
        _queue_checks()
        return
    connection_id = str(message["connection_id"])
    table = services.table()
    connection = webhook_self_check.load_to_check(table, connection_id, OWN_CHECKS)
    if connection is None:
        return  # uninstalled or paused since it was queued
    try:
        recreated = _check(connection, table)
    except RetryableError as failure:  # a platform down or throttled: worth another try
        _report_failure(connection_id, failure.failure_class.value, failure.reason)
        raise
    except CrossdockError as failure:  # a revoked token, a refused request: a person's, the next run checks again
        _report_failure(connection_id, failure.failure_class.value, failure.reason)
        metrics.add_metric(name="self_check_connections", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="self_check_connections", unit=MetricUnit.Count, value=1)
    if recreated:
        metrics.add_metric(name="self_check_repaired", unit=MetricUnit.Count, value=1)
        logger.info("webhooks re-created", extra={"connection_id": connection_id, "topics": recreated})


def _report_failure(connection_id: str, failure_class: str, reason: str) -> None:
    metrics.add_metric(name=f"self_check_failed_{failure_class}", unit=MetricUnit.Count, value=1)
    logger.warning(
        "self-check failed for a connection",
        extra={"connection_id": connection_id, "failure_class": failure_class, "reason": reason},
    )
