"""Ingest: webhook routes behind API Gateway. Verifies, validates, dedupes, queues — and answers fast."""

from __future__ import annotations

import base64
import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock.aws import services
from crossdock.aws.observability import logger, metrics, tracer
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_rackbeat_webhook, receive_shopify_webhook

app = APIGatewayRestResolver()
QUEUE_URL = os.environ["INBOUND_QUEUE_URL"]


def _deps() -> IngestDeps:
    return IngestDeps(
        table=services.table(),
        secrets=services.secrets(),
        enqueue=lambda message: services.send_to_queue(QUEUE_URL, message),
    )


def _raw_body() -> bytes:
    """The exact bytes the sender signed: API Gateway may hand them over base64-encoded."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def _respond(answer: IngestAnswer, source: str) -> Response[Any]:
    metrics.add_metric(name=f"{source}_webhook_{answer.status}", unit=MetricUnit.Count, value=1)
    if answer.status >= 400:
        logger.warning(
            "webhook refused", extra={"source": source, "status": answer.status, "refusal": answer.body.get("message")}
        )
    return Response(status_code=answer.status, content_type=content_types.APPLICATION_JSON, body=answer.body)


@app.post("/webhooks/shopify")
def shopify_webhook() -> Response[Any]:
    return _respond(receive_shopify_webhook(app.current_event.headers, _raw_body(), _deps()), "shopify")


@app.post("/webhooks/rackbeat/<connection_id>")
def rackbeat_webhook(connection_id: str) -> Response[Any]:
    answer = receive_rackbeat_webhook(connection_id, app.current_event.headers, _raw_body(), _deps())
    return _respond(answer, "rackbeat")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
