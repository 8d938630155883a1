"""Ingest: webhook routes behind API Gateway. Verifies, validates, dedupes, queues — and answers fast.

API Gateway invokes this function only for the two routes template.yaml gives it, and names the route it matched in
the event (`resource`, with the `pathParameters` it parsed), so the handler picks its route by that name. Powertools'
APIGatewayRestResolver did this before, but importing it loads its whole `event_handler` package (AppSync, Bedrock,
OpenAPI, asyncio, every event data class): some 70 ms of cold start for two fixed routes (bench/cold_import.py).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock.aws import services
from crossdock.aws.observability import logger, metrics, tracer
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_rackbeat_webhook, receive_shopify_webhook

QUEUE_URL = os.environ["INBOUND_QUEUE_URL"]

ProxyEvent = dict[str, Any]  # API Gateway's REST (v1) Lambda proxy event
ProxyResult = dict[str, Any]


def _deps() -> IngestDeps:
    return IngestDeps(
        table=services.table(),
        secrets=services.secrets(),
        enqueue=lambda message: services.send_to_queue(QUEUE_URL, message),
    )


def _headers(event: ProxyEvent) -> dict[str, str]:
    return event.get("headers") or {}  # None when the request had none


def _raw_body(event: ProxyEvent) -> bytes:
    """The exact bytes the sender signed: API Gateway may hand them over base64-encoded."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def shopify_webhook(event: ProxyEvent) -> IngestAnswer:
    return receive_shopify_webhook(_headers(event), _raw_body(event), _deps())


def rackbeat_webhook(event: ProxyEvent) -> IngestAnswer:
    connection_id = event["pathParameters"]["connection_id"]
    return receive_rackbeat_webhook(connection_id, _headers(event), _raw_body(event), _deps())


# (method, resource) exactly as template.yaml declares the IngestFunction's Api events → (source, route).
ROUTES: dict[tuple[str, str], tuple[str, Callable[[ProxyEvent], IngestAnswer]]] = {
    ("POST", "/webhooks/shopify"): ("shopify", shopify_webhook),
    ("POST", "/webhooks/rackbeat/{connection_id}"): ("rackbeat", rackbeat_webhook),
}


def _json_result(status: int, body: dict[str, Any]) -> ProxyResult:
    """The proxy result as Powertools' resolver wrote it for a REST API: compact JSON, headers as multiValueHeaders."""
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def _respond(answer: IngestAnswer, source: str) -> ProxyResult:
    metrics.add_metric(name=f"{source}_webhook_{answer.status}", unit=MetricUnit.Count, value=1)
    if answer.status >= 400:
        logger.warning(
            "webhook refused", extra={"source": source, "status": answer.status, "refusal": answer.body.get("message")}
        )
    return _json_result(answer.status, answer.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: ProxyEvent, context: LambdaContext) -> ProxyResult:
    route = ROUTES.get((str(event.get("httpMethod", "")).upper(), str(event.get("resource"))))
    if route is None:  # not one of ours: answered as Powertools' resolver answers an unknown route
        return _json_result(404, {"statusCode": 404, "message": "Not found"})
    source, receive = route
    return _respond(receive(event), source)
