"""Shopbox push: consumes the Shopbox outbound FIFO queue (one message group per connection, that is per Shopbox
client, so one client's pushes run one at a time inside its token's rate) and writes Rackbeat's stock per branch
and Rackbeat's products to Shopbox (`push_consumer`, as the Shopify push)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.integrations.rackbeat_shopbox import stock_inbound
from crossdock.push_consumer import PushConsumer


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    shopbox_outbound_queue_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopbox's answers, timed in X-Ray

CONSUMER = PushConsumer(
    ENV, ENV.shopbox_outbound_queue_url, "Shopbox", stock_inbound.push_request, stock_inbound.push_continuation
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return CONSUMER.handle(event, context)
