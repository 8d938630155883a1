"""Shopify push: consumes the shops' outbound FIFO queue (one message group per connection, so one shop's pushes
run one at a time and stay inside its API budget) and writes products and stock to Shopify (`push_consumer`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import services
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.integrations.rackbeat_shopify import outbound
from crossdock.push_consumer import PushConsumer


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    shopify_outbound_queue_url: str


ENV = Environment.read(os.environ)
services.configure(ENV)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

CONSUMER = PushConsumer(
    ENV, ENV.shopify_outbound_queue_url, "Shopify", outbound.stock_push_request, outbound.stock_push_continuation
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return CONSUMER.handle(event, context)
