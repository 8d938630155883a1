"""Ingest work per webhook vs. the floor of verifying and parsing it (DESIGN §8), measured side by side.

Floor: HMAC-SHA256 over the raw body + json.loads. Ingest: the real `receive_webhook` for Shopify (header parsing,
connection lookup, signature check, JSON validation, delivery claim) and the real enqueue (`services.send_to_queue`,
which serialises the message), with only the AWS calls replaced by in-memory stand-ins, so the figure is
Crossdock's own work. Rounds of each alternate, so both see the same machine noise; the ratio of the medians is
printed (target ≤ 3). For scale, also: the whole Lambda handler (routing, logging, metrics) with the same
stand-ins, and a full request through the embedded API Gateway → Lambda → moto path.

Run: .venv/bin/python bench/ingest_work.py [--rounds 15] [--requests 500]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from crossdock import services
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET
from crossdock.flows.ingest import IngestDeps, receive_webhook
from crossdock.store import keys

PROJECT = Path(__file__).resolve().parents[1]
BODY = (PROJECT / "events" / "shopify-order-paid.json").read_bytes()
SECRET = "bench-secret"
KIND = "rackbeat_shopify"  # the Shopify app whose webhooks the bench sends
SHOP = "bench.myshopify.com"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-inbound"


class _ConditionalCheckFailed(Exception):
    pass


class MemoryTable:
    """Just enough of a boto3 Table for ingest: get_item, conditional put_item, update_item, delete_item."""

    class meta:
        class client:
            class exceptions:
                ConditionalCheckFailedException = _ConditionalCheckFailed

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get_item(self, Key: dict[str, str], ProjectionExpression: str | None = None) -> dict[str, Any]:
        item = self.items.get((Key["pk"], Key["sk"]))
        return {"Item": item} if item else {}

    def put_item(self, Item: dict[str, Any], ConditionExpression: Any = None) -> None:
        key = (Item["pk"], Item["sk"])
        if ConditionExpression is not None and key in self.items:
            raise _ConditionalCheckFailed
        self.items[key] = Item

    def update_item(self, **_: Any) -> None:
        pass

    def delete_item(self, Key: dict[str, str]) -> None:
        self.items.pop((Key["pk"], Key["sk"]), None)

    def forget_deliveries(self) -> None:
        self.items = {k: v for k, v in self.items.items() if not k[0].startswith("DLV#")}


class FixedSecrets:
    """The secret store after its first lookup in a container: decrypted secrets are cached (store.secrets)."""

    def get(self, connection_id: str, name: str) -> str | None:
        return SECRET if name == SHOPIFY_APP_SECRET else None


class MemorySqs:
    """Takes `send_message` as boto3's SQS client would; the request it would send is the serialised body."""

    def __init__(self) -> None:
        self.sent = 0

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:
        self.sent += 1
        return {"MessageId": "bench"}


def headers() -> dict[str, str]:
    signature = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def floor() -> None:
    digest = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest())
    hmac.compare_digest(digest, digest)
    json.loads(BODY)


def per_call(work: Callable[[Any], Any], prepared: list[Any]) -> float:
    start = time.perf_counter()
    for item in prepared:
        work(item)
    return (time.perf_counter() - start) / len(prepared)


@contextlib.contextmanager
def stubbed_aws(table: MemoryTable) -> Iterator[MemorySqs]:
    """The functions' AWS clients (crossdock.services) replaced by the in-memory stand-ins."""
    sqs = MemorySqs()
    with (
        mock.patch.object(services, "table", lambda: table),
        mock.patch.object(services, "secrets", lambda: FixedSecrets()),
        mock.patch.object(services, "_sqs", lambda: sqs),
    ):
        yield sqs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds of each side (median taken)")
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    args = parser.parse_args()
    table = MemoryTable()
    table.put_item({"pk": keys.claim_pk(KIND, "shopify", SHOP), "sk": keys.META, "connection_id": "bench"})
    handler = _load_handler()
    prepared = [headers() for _ in range(args.requests)]
    events = [_api_event(h) for h in prepared]
    context = _lambda_context()
    ingest_times, floor_times, handler_times = [], [], []
    with stubbed_aws(table) as sqs, open(os.devnull, "w") as logs, contextlib.redirect_stdout(logs):
        enqueue = lambda m: services.send_to_queue(QUEUE_URL, m)  # noqa: E731 - the handler's own enqueue
        deps = IngestDeps(table=table, secrets=FixedSecrets(), enqueue=enqueue)  # type: ignore[arg-type]
        for _ in range(args.rounds):  # interleaved rounds: every side sees the same machine noise
            floor_times.append(per_call(lambda _h: floor(), prepared))
            ingest_times.append(per_call(lambda h: receive_webhook("shopify", h, BODY, deps, kind=KIND), prepared))
            table.forget_deliveries()
            handler_times.append(per_call(lambda e: handler(e, context), events))
            table.forget_deliveries()
    assert sqs.sent == 2 * args.rounds * args.requests, "every request must have been queued"
    ingest, base = statistics.median(ingest_times), statistics.median(floor_times)
    whole = statistics.median(handler_times)
    print(f"body {len(BODY)} bytes, {args.requests} requests x {args.rounds} alternating rounds, medians")
    print(f"floor (HMAC-SHA256 + json.loads):  {base * 1e6:8.1f} µs")
    print(f"ingest work (AWS calls stubbed):    {ingest * 1e6:8.1f} µs")
    print(f"ratio ingest / floor:               {ingest / base:8.2f}  (target ≤ 3)")
    print(f"whole handler (routing, logs, metrics; AWS stubbed): {whole * 1e6:.1f} µs = {whole / base:.2f}x")
    _through_embedded_api()


def _load_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """functions/ingest/app.py with the environment its template gives it (only names matter here)."""
    environment = {
        "INBOUND_QUEUE_URL": QUEUE_URL,
        "KEY_ID": "bench-key",
        "PAYLOAD_BUCKET": "bench-payloads",
        "TABLE_NAME": "bench-table",
        "POWERTOOLS_SERVICE_NAME": "crossdock",
        "POWERTOOLS_METRICS_NAMESPACE": "Crossdock",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    with mock.patch.dict(os.environ, environment):
        spec = importlib.util.spec_from_file_location("bench_ingest_app", PROJECT / "functions" / "ingest" / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # as an import does: the module's dataclasses look themselves up there
        spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def _api_event(request_headers: dict[str, str]) -> dict[str, Any]:
    """A REST API proxy event, as API Gateway hands the webhook to the function."""
    return {
        "resource": "/webhooks/shopify",
        "path": "/webhooks/shopify",
        "httpMethod": "POST",
        "headers": request_headers,
        "multiValueHeaders": {key: [value] for key, value in request_headers.items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "stage": "dev",
            "resourcePath": "/webhooks/shopify",
            "httpMethod": "POST",
            "path": "/dev/webhooks/shopify",
            "requestId": str(uuid.uuid4()),
        },
        "body": BODY.decode(),
        "isBase64Encoded": False,
    }


def _lambda_context() -> Any:
    return SimpleNamespace(
        function_name="crossdock-IngestFunction",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:crossdock-IngestFunction",
        aws_request_id=str(uuid.uuid4()),
    )


def _through_embedded_api() -> None:
    from crossdock_local.scenarios.demo import demo_settings
    from crossdock_local.stack import LocalStack

    with open(os.devnull, "w") as logs, contextlib.redirect_stdout(logs), LocalStack() as stack:
        connection = stack.create_connection(demo_settings(), shop_domain=SHOP)
        samples = []
        for _ in range(200):
            request_headers = headers()
            request_headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(
                hmac.new(connection.app_secret.encode(), BODY, hashlib.sha256).digest()
            ).decode()
            start = time.perf_counter()
            stack.aws.api_request("POST", "/webhooks/shopify", request_headers, BODY)
            samples.append(time.perf_counter() - start)
    print(
        f"full request on the embedded stack (moto, in-process), median of 200: "
        f"{statistics.median(samples) * 1e3:.2f} ms, p95 {sorted(samples)[189] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
