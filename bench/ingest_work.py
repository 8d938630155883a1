"""Ingest work per webhook vs. the floor of verifying and parsing it (DESIGN §8), measured side by side.

Floor: HMAC-SHA256 over the raw body + json.loads. Ingest: the real `receive_shopify_webhook` (header parsing,
connection lookup, signature check, JSON validation, delivery claim, enqueue) with its AWS calls replaced by
in-memory stand-ins, so the figure is Crossdock's own work. Prints the ratio (target ≤ 3) and, for scale, the
median of a full request through the embedded API Gateway → Lambda → moto path.

Run: .venv/bin/python bench/ingest_work.py
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from crossdock.connections.secret_names import SHOPIFY_APP_SECRET
from crossdock.flows.ingest import IngestDeps, receive_shopify_webhook
from crossdock.store import keys

BODY = (Path(__file__).resolve().parents[1] / "events" / "shopify-order-paid.json").read_bytes()
SECRET = "bench-secret"
SHOP = "bench.myshopify.com"
ROUNDS = 2000


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

    def get_item(self, Key: dict[str, str]) -> dict[str, Any]:
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


class FixedSecrets:
    def get(self, connection_id: str, name: str) -> str | None:
        return SECRET if name == SHOPIFY_APP_SECRET else None


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


def per_call(work: Any, prepared: list[Any]) -> float:
    start = time.perf_counter()
    for item in prepared:
        work(item)
    return (time.perf_counter() - start) / len(prepared)


def main() -> None:
    table = MemoryTable()
    table.put_item({"pk": keys.shop_pk(SHOP), "sk": keys.META, "connection_id": "bench"})
    sent: list[dict[str, Any]] = []
    deps = IngestDeps(table=table, secrets=FixedSecrets(), enqueue=sent.append)  # type: ignore[arg-type]
    prepared = [headers() for _ in range(ROUNDS)]
    ingest_times, floor_times = [], []
    for _ in range(5):  # interleaved rounds: both sides see the same machine noise
        floor_times.append(per_call(lambda _h: floor(), prepared))
        ingest_times.append(per_call(lambda h: receive_shopify_webhook(h, BODY, deps), [dict(h) for h in prepared]))
        table.items = {k: v for k, v in table.items.items() if not k[0].startswith("DLV#")}
    ingest, base = statistics.median(ingest_times), statistics.median(floor_times)
    print(f"body {len(BODY)} bytes, {ROUNDS} requests x 5 rounds")
    print(f"floor (HMAC-SHA256 + json.loads):  {base * 1e6:8.1f} µs")
    print(f"ingest work (AWS calls stubbed):    {ingest * 1e6:8.1f} µs")
    print(f"ratio ingest / floor:               {ingest / base:8.2f}  (target ≤ 3)")
    _through_embedded_api()


def _through_embedded_api() -> None:
    from crossdock_local.demo import demo_settings
    from crossdock_local.stack import LocalStack

    with LocalStack() as stack:
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
