"""Ingest work per webhook vs. the floor of verifying and parsing it (DESIGN §8, issue 18), for every webhook source,
measured side by side in one run.

Each source has its own floor: what it takes at the least to authenticate its delivery and read its body — Shopify
and Webshipper base64(HMAC-SHA256) over the raw body, Rackbeat its static token, PeakWMS the key in the address,
each compared in constant time — plus `json.loads` of a body of the size that source really sends (events/: a
Shopify order, and bodies the Rackbeat, Webshipper and PeakWMS simulators send). Shopbox sends no webhooks (its
sales are polled; its stock push is off), so it has no row. Rackbeat has two rows: its account's own webhook
(`/webhooks/rackbeat/account/<key>`, issue 18), fanned out to the account's followers (two shops and a Shopbox café
here: one message each, one SendMessageBatch), and a connection's own address, which registrations of releases
before still use.

Against the floor: the real `receive_webhook` (header or address parsing, connection lookup, authentication, JSON
validation, delivery id and dedupe claim) with the real enqueue (`services.send_to_queue`), and the whole Lambda
handler (routing, JSON logger, EMF metric, response) given the proxy event API Gateway hands it (base64 body: the API's
BinaryMediaTypes is */*). Only the AWS calls are in-memory stand-ins (a dict for the table, the secret cache's steady
state, an SQS client that takes the request), so the figures are Crossdock's own work. Rounds of the three alternate
per source, so all see the same machine noise; medians are compared (target: whole handler ≤ 2 × its floor). Also
timed in the same rounds: what the transport alone makes the handler do whatever Crossdock does — decode the event's
base64 body and escape the body as a JSON string into the queued message ("base64+escape"). Last, a full Shopify
request through the embedded API Gateway → Lambda → moto path, and one real SendMessage through botocore to an
endpoint on the loopback address (what the stand-in SQS client leaves out), for scale.

Run: .venv/bin/python bench/ingest_work.py [--rounds 15] [--requests 500] [--no-embedded]
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
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from crossdock import services
from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET
from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_webhook
from crossdock.store import keys

PROJECT = Path(__file__).resolve().parents[1]
EVENTS = PROJECT / "events"
SECRET = "bench-secret"
KIND = "rackbeat_shopify"  # the Shopify app whose webhooks the bench sends
SHOP = "bench.myshopify.com"
CONNECTION = "bench-connection"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-inbound"
# Rackbeat issues one token per webhook; a connection holds one for each event it subscribes to.
RACKBEAT_TOKENS = [f"{index:02d}" + "t0k3n" * 6 for index in range(4)]
PEAKWMS_KEY = "bench-webhook-key-for-this-connection"
RACKBEAT_ACCOUNT = "4711"
# An account's own webhook (issue 18) fans out to its followers: here two shops and a Shopbox café on one account.
FOLLOWERS = (("shop-a", "rackbeat_shopify"), ("shop-b", "rackbeat_shopify"), ("cafe", "rackbeat_shopbox"))
TARGET = 2.0


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
        self.followers: dict[str, list[dict[str, Any]]] = {}  # the followers index: hook_account → its items

    def query(self, **request: Any) -> dict[str, Any]:
        assert request["IndexName"] == keys.FOLLOWERS_INDEX, request
        return {"Items": self.followers.get(request["ExpressionAttributeValues"][":account"], [])}

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


SECRETS = {
    SHOPIFY_APP_SECRET: SECRET,
    WEBHOOK_SECRET: SECRET,
    RACKBEAT_WEBHOOK_TOKENS: json.dumps(RACKBEAT_TOKENS),  # stored as a JSON list (connectors/rackbeat)
    WEBHOOK_KEY: PEAKWMS_KEY,
}


class FixedSecrets:
    """The secret store after its first lookup in a container: decrypted secrets are cached (store.secrets)."""

    def get(self, connection_id: str, name: str) -> str | None:
        return SECRETS.get(name)


class MemorySqs:
    """Takes `send_message` and `send_message_batch` as boto3's SQS client would (the bodies already serialised);
    counts the requests."""

    def __init__(self) -> None:
        self.sent = 0

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:
        self.sent += 1
        return {"MessageId": "bench"}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.sent += 1
        return {"Successful": [{"Id": entry["Id"], "MessageId": "bench"} for entry in Entries], "Failed": []}


def _signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def hmac_floor(body: bytes, offered: str) -> None:
    """Shopify's and Webshipper's least work: the body's base64 HMAC-SHA256 compared with the header, and parsed."""
    hmac.compare_digest(_signature(body).encode(), offered.encode())
    json.loads(body)


def token_floor(body: bytes, offered: str) -> None:
    """Rackbeat's and PeakWMS's least work: the presented token or key compared with the one held, and parsed."""
    hmac.compare_digest(offered.encode(), offered.encode())
    json.loads(body)


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes
    credential: str  # what the floor compares: the signature, token or key the request carries


@dataclass
class Source:
    """One webhook source: its requests as the system sends them, its floor, and its route in template.yaml."""

    name: str
    resource: str
    body: bytes
    floor: Callable[[bytes, str], None]
    make: Callable[[int], Request]  # the i-th request (each a new delivery, so dedupe does not answer "duplicate")
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    receive: dict[str, Any] = field(default_factory=dict)  # receive_webhook's keywords for this route
    label: str = ""  # the row's name, when the source has more than one route
    answer: dict[str, Any] = field(default_factory=lambda: {"status": "queued"})

    def event(self, request: Request) -> dict[str, Any]:
        """The REST API proxy event API Gateway hands the function (the body base64: BinaryMediaTypes */*)."""
        path = self.resource
        for name, value in self.path.items():
            path = path.replace("{" + name + "}", value)
        return {
            "resource": self.resource,
            "path": path,
            "httpMethod": "POST",
            "headers": request.headers,
            "multiValueHeaders": {key: [value] for key, value in request.headers.items()},
            "queryStringParameters": self.query,
            "multiValueQueryStringParameters": {k: [v] for k, v in self.query.items()} if self.query else None,
            "pathParameters": self.path or None,
            "requestContext": {
                "stage": "dev",
                "resourcePath": self.resource,
                "httpMethod": "POST",
                "path": f"/dev{path}",
                "requestId": str(uuid.uuid4()),
            },
            "body": base64.b64encode(request.body).decode(),
            "isBase64Encoded": True,
        }


def _shopify(index: int) -> Request:
    body = SHOPIFY_BODY
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Hmac-Sha256": _signature(body),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-04",
    }
    return Request(headers, body, headers["X-Shopify-Hmac-Sha256"])


def _rackbeat(index: int) -> Request:
    headers = {
        "Content-Type": "application/json",
        "Rackbeat-Webhook-Token": RACKBEAT_TOKENS[-1],
        "Rackbeat-Webhook-Event": "product.stock_changed",
        "Rackbeat-Account-Id": "4711",
        "User-Agent": "Rackbeat Webhook",
    }
    return Request(headers, RACKBEAT_BODY, RACKBEAT_TOKENS[-1])


def _webshipper(index: int) -> Request:
    # A new change of the order each time: Webshipper's delivery id is (topic, data.id, attributes.updated_at).
    body = WEBSHIPPER_BODY.replace(b"2025-12-06T05:46:40.000Z", f"2025-12-06T05:46:40.{index % 1000:03d}Z".encode())
    body = body.replace(b'"id": "1001"', f'"id": "{1001 + index // 1000}"'.encode(), 1)
    headers = {
        "Content-Type": "application/vnd.api+json;charset=utf-8",
        "User-Agent": "Webshipper",
        "X-Webshipper-Topic": "order/created",
        "X-Webshipper-Hmac-Sha256": _signature(body),
    }
    return Request(headers, body, headers["X-Webshipper-Hmac-Sha256"])


def _peakwms(index: int) -> Request:
    # A new pick order each time: PeakWMS's delivery id is a hash of the event, its subject and its body.
    body = PEAKWMS_BODY.replace(b'"pickOrderId":60001', f'"pickOrderId":{60001 + index}'.encode())
    return Request({"Content-Type": "application/json", "User-Agent": "PeakWMS"}, body, PEAKWMS_KEY)


SHOPIFY_BODY = (EVENTS / "shopify-order-paid.json").read_bytes()
RACKBEAT_BODY = (EVENTS / "rackbeat-product-stock-changed.json").read_bytes()
WEBSHIPPER_BODY = (EVENTS / "webshipper-order-created.json").read_bytes()
PEAKWMS_BODY = (EVENTS / "peakwms-pick-order-packed.json").read_bytes()

SOURCES = (
    Source("shopify", "/webhooks/shopify", SHOPIFY_BODY, hmac_floor, _shopify, receive={"kind": KIND}),
    Source(
        "rackbeat",
        "/webhooks/rackbeat/{connection_id}",
        RACKBEAT_BODY,
        token_floor,
        _rackbeat,
        path={"connection_id": CONNECTION},
        receive={"connection_id": CONNECTION},
    ),
    Source(
        "rackbeat",
        "/webhooks/rackbeat/account/{account_key}",
        RACKBEAT_BODY,
        token_floor,
        _rackbeat,
        path={"account_key": RACKBEAT_ACCOUNT},
        receive={"webhook_account": RACKBEAT_ACCOUNT},
        label="rackbeat-account",
        answer={"status": "queued", "followers": len(FOLLOWERS)},
    ),
    Source(
        "webshipper",
        "/webhooks/webshipper/{connection_id}",
        WEBSHIPPER_BODY,
        hmac_floor,
        _webshipper,
        path={"connection_id": CONNECTION},
        receive={"connection_id": CONNECTION},
    ),
    Source(
        "peakwms",
        "/webhooks/peakwms/{connection_id}/{event}",
        PEAKWMS_BODY,
        token_floor,
        _peakwms,
        path={"connection_id": CONNECTION, "event": "pick_order_packed"},
        query={"key": PEAKWMS_KEY},
        receive={"connection_id": CONNECTION, "address": {"event": "pick_order_packed", "key": PEAKWMS_KEY}},
    ),
)


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


def memory_table() -> MemoryTable:
    table = MemoryTable()
    table.put_item({"pk": keys.claim_pk(KIND, "shopify", SHOP), "sk": keys.META, "connection_id": CONNECTION})
    table.put_item({"pk": keys.connection_pk(CONNECTION), "sk": keys.META, "connection_id": CONNECTION})
    table.followers[keys.hook_account("rackbeat", RACKBEAT_ACCOUNT)] = [
        {keys.LISTED_ID: connection_id, "kind": kind, "state": "active", keys.HOOK_EVENTS: {"product.stock_changed"}}
        for connection_id, kind in FOLLOWERS
    ]
    return table


@dataclass(frozen=True)
class Figures:
    source: str
    body_bytes: int
    floor: float
    ingest: float
    handler: float
    transport: float  # of the handler's: the event's base64 body decoded, the body escaped into the message


def transport(event: dict[str, Any]) -> None:
    """What the handler must do because of how the body travels, whatever Crossdock does: decode API Gateway's
    base64 (BinaryMediaTypes */*, for the exact signed bytes) and escape the body as a JSON string in the message."""
    json.dumps(base64.b64decode(event["body"]).decode())


def measure(source: Source, rounds: int, requests: int, table: MemoryTable, handler: Any) -> Figures:
    prepared = [source.make(index) for index in range(requests)]
    events = [source.event(request) for request in prepared]
    context = _lambda_context()
    deps = IngestDeps(  # the handler's own enqueue (functions/ingest/app.py)
        table=table,
        secrets=FixedSecrets(),  # type: ignore[arg-type]
        enqueue=lambda message: services.send_to_queue(QUEUE_URL, message),
        enqueue_all=lambda messages: services.send_all_to_queue(QUEUE_URL, messages),
    )

    def ingest(request: Request) -> IngestAnswer:
        return receive_webhook(source.name, request.headers, request.body, deps, **source.receive)

    queued = IngestAnswer(200, source.answer)
    for request, event in zip(prepared[:3], events[:3], strict=False):  # every request is one that is queued
        assert ingest(request) == queued, f"{source.name}: the flow did not queue it"
        table.forget_deliveries()
        assert IngestAnswer(**_answer(handler(event, context))) == queued, f"{source.name}: the handler did not"
        table.forget_deliveries()
    floors, ingests, handlers, transports = [], [], [], []
    for _ in range(rounds):  # interleaved rounds: every side sees the same machine noise
        floors.append(per_call(lambda r: source.floor(r.body, r.credential), prepared))
        transports.append(per_call(transport, events))
        ingests.append(per_call(ingest, prepared))
        table.forget_deliveries()
        handlers.append(per_call(lambda e: handler(e, context), events))
        table.forget_deliveries()
    return Figures(
        source.label or source.name,
        len(source.body),
        statistics.median(floors),
        statistics.median(ingests),
        statistics.median(handlers),
        statistics.median(transports),
    )


def _answer(result: dict[str, Any]) -> dict[str, Any]:
    return {"status": result["statusCode"], "body": json.loads(result["body"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds of each side (median taken)")
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    parser.add_argument(
        "--no-embedded", action="store_true", help="leave out the full request through the embedded stack"
    )
    args = parser.parse_args()
    table = memory_table()
    handler = _load_handler()
    figures = []
    with stubbed_aws(table) as sqs, open(os.devnull, "w") as logs, contextlib.redirect_stdout(logs):
        for source in SOURCES:
            figures.append(measure(source, args.rounds, args.requests, table, handler))
    assert sqs.sent == len(SOURCES) * (6 + 2 * args.rounds * args.requests), "every request must have been queued"
    print(f"{args.requests} requests x {args.rounds} alternating rounds per source, medians; AWS calls stubbed")
    print(
        f"{'source':<16} {'body':>7} {'floor':>9} {'ingest work':>18} {'whole handler':>18} "
        f"{'of it base64+escape':>20}  (× its floor; target whole handler ≤ {TARGET:g})"
    )
    for row in figures:
        verdict = "met" if row.handler / row.floor <= TARGET else "NOT MET"
        print(
            f"{row.source:<16} {row.body_bytes:>6}B {row.floor * 1e6:>7.1f}µs "
            f"{row.ingest * 1e6:>9.1f}µs {row.ingest / row.floor:>6.2f}x "
            f"{row.handler * 1e6:>9.1f}µs {row.handler / row.floor:>6.2f}x "
            f"{row.transport * 1e6:>9.1f}µs {row.transport / row.floor:>6.2f}x  {verdict}"
        )
    _real_send(figures[0].floor)
    if not args.no_embedded:
        _through_embedded_api()


class _SqsEndpoint(BaseHTTPRequestHandler):
    """Answers every request as SQS answers a SendMessage (JSON protocol), on the loopback address."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle would hold the second for the ACK
    answer = json.dumps({"MD5OfMessageBody": "0" * 32, "MessageId": "bench"}).encode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _real_send(shopify_floor: float, sends: int = 300) -> None:
    """For scale: one SendMessage of Shopify's message through a real botocore SQS client with the functions' client
    config (services._CONFIG), to an endpoint on 127.0.0.1 — request building, signing, HTTP and answer parsing, which
    the stand-ins above leave out."""
    import boto3

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SqsEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    client = boto3.client(
        "sqs",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=services._CONFIG,
    )
    message = {
        "source": "shopify",
        "connection_id": CONNECTION,
        "event_id": str(uuid.uuid4()),
        "topic": "orders/paid",
        "received_at": "2026-12-07T23:00:00.000000Z",
        "payload": SHOPIFY_BODY.decode(),
    }
    body = json.dumps(message, separators=(",", ":"))
    try:
        for _ in range(20):  # the connection pool and botocore's caches warm, as in a warm container
            client.send_message(QueueUrl=f"{endpoint}/123456789012/bench-inbound", MessageBody=body)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(sends):
            client.send_message(QueueUrl=f"{endpoint}/123456789012/bench-inbound", MessageBody=body)
        wall, cpu = (time.perf_counter() - wall) / sends, (time.process_time() - cpu) / sends
    finally:
        server.shutdown()
    print(
        f"one real SendMessage of Shopify's message (botocore, loopback endpoint, mean of {sends}): "
        f"{wall * 1e6:.0f} µs wall, {cpu * 1e6:.0f} µs CPU with the endpoint's = {cpu / shopify_floor:.1f}x "
        f"Shopify's floor"
    )


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
            request_headers = _shopify(0).headers
            request_headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(
                hmac.new(connection.app_secret.encode(), SHOPIFY_BODY, hashlib.sha256).digest()
            ).decode()
            start = time.perf_counter()
            stack.aws.api_request("POST", "/webhooks/shopify", request_headers, SHOPIFY_BODY)
            samples.append(time.perf_counter() - start)
    print(
        f"full Shopify request on the embedded stack (moto, in-process), median of 200: "
        f"{statistics.median(samples) * 1e3:.2f} ms, p95 {sorted(samples)[189] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
