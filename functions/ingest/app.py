"""Ingest: webhook routes behind API Gateway. Verifies, validates, dedupes, queues — and answers fast.

API Gateway invokes this function only for the routes template.yaml gives it, and names the route it matched in
the event (`resource`, with the `pathParameters` it parsed), so the handler picks its route by that name. Powertools'
APIGatewayRestResolver did this before, but importing it loads its whole `event_handler` package (AppSync, Bedrock,
OpenAPI, asyncio, every event data class): some 70 ms of cold start for a few fixed routes (bench/cold_import.py).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, services
from crossdock.aws.observability import logger, metrics, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_webhook
from crossdock.registry import WEBHOOK_SOURCES


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    inbound_queue_url: str
    payload_bucket: str  # where a body too large for the queue waits (store.claim_checks)


ENV = Environment.read(os.environ)
services.configure(ENV)

QUEUE_URL = ENV.inbound_queue_url

ProxyEvent = dict[str, Any]  # API Gateway's REST (v1) Lambda proxy event
ProxyResult = dict[str, Any]


def _deps() -> IngestDeps:
    return IngestDeps(
        table=services.table(),
        secrets=services.secrets(),
        enqueue=lambda message: services.send_to_queue(QUEUE_URL, message),
        enqueue_all=lambda messages: services.send_all_to_queue(QUEUE_URL, messages),
        now=pacing.clock.time,
        check_in=lambda connection_id, body: services.payload_bucket(ENV.payload_bucket).put(connection_id, body),
    )


def _headers(event: ProxyEvent) -> dict[str, str]:
    return event.get("headers") or {}  # None when the request had none


def _raw_body(event: ProxyEvent) -> bytes:
    """The exact bytes the sender signed: API Gateway may hand them over base64-encoded."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def _path(event: ProxyEvent, name: str) -> str:
    return str((event.get("pathParameters") or {}).get(name) or "")


def shopify_app_webhook(event: ProxyEvent) -> IngestAnswer:
    """The Rackbeat ⇄ Shopify app's address, as installed shops' subscriptions name it."""
    return receive_webhook("shopify", _headers(event), _raw_body(event), _deps(), kind="rackbeat_shopify")


def kind_webhook(event: ProxyEvent) -> IngestAnswer:
    """`/webhooks/{kind}/{source}`: a kind's app, for a system that names its account in the delivery (a shop)."""
    source, kind = _path(event, "source"), _path(event, "kind")
    return receive_webhook(source, _headers(event), _raw_body(event), _deps(), kind=kind)


def _known_source(event: ProxyEvent) -> str:
    # Metric names come from the path only when they name a registered system: a caller cannot mint new metrics.
    source = _path(event, "source")
    return source if source in WEBHOOK_SOURCES else "unknown"


def connection_webhook(event: ProxyEvent) -> IngestAnswer:
    """`/webhooks/{source}/{connection_id}`: a system whose webhook address names the connection."""
    source = str(event.get("resource", "")).split("/")[2]
    connection_id = _path(event, "connection_id")
    return receive_webhook(source, _headers(event), _raw_body(event), _deps(), connection_id=connection_id)


def account_webhook(event: ProxyEvent) -> IngestAnswer:
    """`/webhooks/{source}/account/{account_key}`: one webhook per account of a system whose account several
    connections share (Rackbeat's), fanned out to the account's followers (issue 18)."""
    source = str(event.get("resource", "")).split("/")[2]
    account_key = _path(event, "account_key")
    return receive_webhook(source, _headers(event), _raw_body(event), _deps(), webhook_account=account_key)


def addressed_webhook(event: ProxyEvent) -> IngestAnswer:
    """`/webhooks/{source}/{connection_id}/{event}?key=…`: a system whose deliveries say nothing themselves
    (PeakWMS's): the address names the connection, the event and the key (`ports.ReadFromAddress`)."""
    source = str(event.get("resource", "")).split("/")[2]
    query = event.get("queryStringParameters") or {}
    address = {str(name): str(value) for name, value in query.items() if value is not None}
    address["event"] = _path(event, "event")  # the path's word wins over a query parameter of the same name
    connection_id = _path(event, "connection_id")
    return receive_webhook(
        source, _headers(event), _raw_body(event), _deps(), connection_id=connection_id, address=address
    )


# (method, resource) exactly as template.yaml declares the IngestFunction's Api events → (metric name, route).
ROUTES: dict[tuple[str, str], tuple[Callable[[ProxyEvent], str], Callable[[ProxyEvent], IngestAnswer]]] = {
    ("POST", "/webhooks/shopify"): (lambda _: "shopify", shopify_app_webhook),
    ("POST", "/webhooks/rackbeat/{connection_id}"): (lambda _: "rackbeat", connection_webhook),
    ("POST", "/webhooks/rackbeat/account/{account_key}"): (lambda _: "rackbeat", account_webhook),
    ("POST", "/webhooks/webshipper/{connection_id}"): (lambda _: "webshipper", connection_webhook),
    ("POST", "/webhooks/peakwms/{connection_id}/{event}"): (lambda _: "peakwms", addressed_webhook),
    ("POST", "/webhooks/{kind}/{source}"): (_known_source, kind_webhook),
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


def _request_id(event: ProxyEvent) -> str | None:
    """API Gateway's request id, the logs' correlation id: what Powertools' `correlation_paths.API_GATEWAY_REST`
    finds, read without a JMESPath search on every webhook."""
    context = event.get("requestContext")
    return context.get("requestId") if isinstance(context, dict) else None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: ProxyEvent, context: LambdaContext) -> ProxyResult:
    logger.set_correlation_id(_request_id(event))
    route = ROUTES.get((str(event.get("httpMethod", "")).upper(), str(event.get("resource"))))
    if route is None:  # not one of ours: answered as Powertools' resolver answers an unknown route
        return _json_result(404, {"statusCode": 404, "message": "Not found"})
    source, receive = route
    return _respond(receive(event), source(event))
