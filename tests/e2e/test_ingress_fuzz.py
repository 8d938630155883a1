"""A fuzz pass of every route of the API (template.yaml's Api events) through the embedded API Gateway: whatever a
careless client or an attacker sends — unsigned or correctly signed, any headers, any bytes, any query — the answer
is never a 5xx, and no function (ingest, the install routes, and dispatch behind the queue) ends in an unhandled
exception: every refusal is a 4xx or an event that ends with a reason (issue 13, item 5).

Hypothesis draws the requests; its runs are kept small (`max_examples`, no deadline) so the file adds seconds, not
minutes. A failing example is shrunk to the smallest request that breaks it and printed.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY as PEAKWMS_WEBHOOK_KEY
from crossdock.connectors.peakwms.webhook_events import EVENTS as PEAKWMS_EVENTS
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopify.webhooks import sign
from crossdock.connectors.webshipper.inbound import signature as webshipper_signature
from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET as WEBSHIPPER_WEBHOOK_SECRET
from crossdock.store import events, keys
from crossdock_local.aws.log_capture import FunctionLogs, capture_function_logs
from crossdock_local.aws.template import load_template
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.stack import LocalStack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
EXAMPLE_ORDER = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "shopify" / "2025-01" / "order_0.json"
RACKBEAT_TOKEN = "t" * 32
WEBSHIPPER_SECRET = "w" * 32
PEAKWMS_KEY = "p" * 32
DEAD_LETTER_QUEUES = ("InboundDeadLetterQueue", "ShopifyOutboundDeadLetterQueue")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# What the runtime writes for a handler's uncaught exception, and what a logged traceback starts with.
UNHANDLED = re.compile(r"^\[ERROR\] |Traceback \(most recent call last\)", re.MULTILINE)


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every Api event in template.yaml, as API Gateway serves them."""
    routes = []
    for resource in load_template(TEMPLATE)["Resources"].values():
        for declared in (resource.get("Properties") or {}).get("Events", {}).values():
            if declared["Type"] == "Api":
                props = declared["Properties"]
                routes.append((str(props["Method"]).upper(), str(props["Path"])))
    return sorted(routes)


ROUTES = api_routes()


@pytest.fixture(scope="module")
def target(stack: LocalStack) -> dict[str, Any]:
    """One installed shop with a Rackbeat webhook token: what the fuzzed requests may sign with or aim at."""
    connection = stack.create_connection(demo_settings(), shop_domain=f"fuzz-{uuid.uuid4().hex[:8]}.myshopify.com")
    stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
    stack.secrets.put(connection.connection_id, RACKBEAT_WEBHOOK_TOKENS, json.dumps([RACKBEAT_TOKEN]))
    account_path = stack.rackbeat_webhook_url(connection.connection_id)[len(stack.base_url) :]
    account_key = account_path.rsplit("/", 1)[-1]
    stack.secrets.put(
        keys.account_secrets_scope("rackbeat", account_key), RACKBEAT_WEBHOOK_TOKENS, json.dumps([RACKBEAT_TOKEN])
    )
    stack.secrets.put(connection.connection_id, WEBSHIPPER_WEBHOOK_SECRET, WEBSHIPPER_SECRET)
    stack.secrets.put(connection.connection_id, PEAKWMS_WEBHOOK_KEY, PEAKWMS_KEY)
    return {
        "connection": connection,
        "order": json.loads(EXAMPLE_ORDER.read_text())["order"],
        "rackbeat_account_path": account_path,
    }


@pytest.fixture(scope="module")
def logs(stack: LocalStack) -> Iterator[FunctionLogs]:
    with capture_function_logs(stack.aws) as captured:
        yield captured


TEXT = st.text(max_size=30)
JUNK = st.one_of(
    TEXT,
    st.sampled_from(["", "-1", "1e400", "true", "null", "\x00", "é", "../..", "%00", "a" * 300, "🦆", "\ud800"]),
)
# What a URL or a header can carry at all: text a client can encode (no lone surrogates).
SENDABLE = JUNK.filter(lambda text: not any("\ud800" <= char <= "\udfff" for char in text))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, JUNK),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


@st.composite
def bodies(draw: st.DrawFn, order: dict[str, Any]) -> bytes:
    kind = draw(st.sampled_from(["order", "json", "bytes", "nested", "empty"]))
    if kind == "order":  # Shopify's example order with some fields replaced
        changed = copy.deepcopy(order)
        for key, value in draw(st.lists(st.tuples(st.sampled_from(sorted(order)), JSON_VALUES), max_size=3)):
            changed[key] = value
        return json.dumps(changed).encode()
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "nested":
        depth = draw(st.integers(min_value=1, max_value=20_000))
        return b'{"a":' * depth + b"1" + b"}" * depth
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=300))


def _stringified(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


TOPICS = [
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "products/update",
    "products/delete",
    "app/uninstalled",
    "customers/redact",
    "shop/redact",
    "x/y",
]


@st.composite
def requests(draw: st.DrawFn, target: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes, dict[str, str]]:
    """Most requests are deliveries a sender could really make (right address, right signature), so the bodies
    reach the parsers behind ingest; the rest are anything at all, to any route or none."""
    connection = target["connection"]
    body = draw(bodies(target["order"]))
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "text/plain", "", "image/png"]))}
    query: dict[str, str] = {}
    made_as = draw(
        st.sampled_from(["shopify", "shopify", "shopify", "rackbeat", "webshipper", "peakwms", "install", "anything"])
    )
    if made_as == "shopify":
        method, path = "POST", draw(st.sampled_from(["/webhooks/shopify", "/webhooks/rackbeat_shopify/shopify"]))
        headers |= {
            "X-Shopify-Topic": draw(st.sampled_from(TOPICS)),
            "X-Shopify-Shop-Domain": connection.shop_domain,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": sign(body, connection.app_secret),
        }
    elif made_as == "rackbeat":
        # The connection's own address (webhooks of releases before) or its Rackbeat account's (issue 18).
        own = f"/webhooks/rackbeat/{connection.connection_id}"
        method, path = "POST", draw(st.sampled_from([own, target["rackbeat_account_path"]]))
        headers |= {
            "Rackbeat-Webhook-Event": draw(st.sampled_from(["product.updated", "product.stock_changed", "x"])),
            "Rackbeat-Webhook-Token": RACKBEAT_TOKEN,
            "Rackbeat-Account-Id": draw(st.sampled_from([str(connection.rackbeat_account_id), "x", ""])),
        }
    elif made_as == "webshipper":
        method, path = "POST", f"/webhooks/webshipper/{connection.connection_id}"
        headers |= {
            "X-Webshipper-Topic": draw(st.sampled_from(["order/created", "order/updated", "shipment/created", "x"])),
            "X-Webshipper-Hmac-Sha256": webshipper_signature(WEBSHIPPER_SECRET, body),
        }
    elif made_as == "peakwms":
        # PeakWMS signs nothing: the address carries the event and the connection's key (mostly the right one).
        event_name = draw(st.sampled_from([*PEAKWMS_EVENTS, "x", "stock_adjust?", "%2e%2e"]))
        method, path = "POST", f"/webhooks/peakwms/{connection.connection_id}/{event_name}"
        query = {"key": draw(st.sampled_from([PEAKWMS_KEY, PEAKWMS_KEY, PEAKWMS_KEY, "", PEAKWMS_KEY[:-1]]))}
        query |= {key: _stringified(value) for key, value in draw(st.dictionaries(TEXT, SENDABLE, max_size=2)).items()}
    elif made_as == "install":
        method, path = "GET", draw(st.sampled_from(["/shopify/install", "/shopify/callback"]))
        query = {key: _stringified(value) for key, value in draw(st.dictionaries(TEXT, SENDABLE, max_size=2)).items()}
        query |= {"shop": connection.shop_domain, "timestamp": draw(st.sampled_from(["0", "9" * 12, "x"]))}
        query |= {"state": draw(SENDABLE), "code": draw(SENDABLE)}
        message = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
        query["hmac"] = hmac.new(connection.app_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    else:
        method, resource = draw(st.sampled_from(ROUTES))
        method = draw(st.sampled_from([method, "GET", "POST", "PUT", "DELETE"]))
        path = re.sub(r"\{([^}]+)\}", lambda _: draw(st.text(alphabet="abcz_-.%0", min_size=1)), resource)
        names = ["X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Hmac-Sha256", "Rackbeat-Webhook-Token",
                 "X-Webshipper-Hmac-Sha256", "Host"]  # fmt: skip
        headers |= draw(st.dictionaries(st.sampled_from(names), SENDABLE))
        query = {key: _stringified(value) for key, value in draw(st.dictionaries(TEXT, SENDABLE, max_size=3)).items()}
    return method, path, headers, body, query


def _headers_that_travel(headers: dict[str, str]) -> dict[str, str]:
    # HTTP headers are Latin-1 on the wire: a client cannot send what it cannot encode.
    return {
        k: v for k, v in headers.items() if v.isprintable() and v.encode("latin-1", "ignore").decode("latin-1") == v
    }


@FUZZ
@given(data=st.data())
def test_no_request_to_any_route_gets_a_5xx_or_an_unhandled_exception(
    stack: LocalStack, target: dict[str, Any], logs: FunctionLogs, data: st.DataObject
) -> None:
    # GIVEN any request to any route of the API
    method, path, headers, body, query = data.draw(requests(target))
    seen_lines, seen_invocations = len(logs.lines), len(stack.aws.invocations)
    dead_before = {queue: stack.aws.queue_depth(queue) for queue in DEAD_LETTER_QUEUES}
    # WHEN it arrives, and whatever it queued is dispatched
    answer = stack.aws.api_request(method, path, _headers_that_travel(headers), body, query=dict(query))
    stack.aws.drain()
    event(f"{method} {path.split('/')[1] if '/' in path else path} → {answer.status}")  # --hypothesis-show-statistics
    # THEN it was answered without a 5xx ...
    assert answer.status < 500, (answer.status, answer.body[:300])
    # ... AND no function raised what it did not handle: no runtime error line, no traceback, no failed invocation
    failed = [i for i in stack.aws.invocations[seen_invocations:] if i.error_type is not None]
    assert failed == [], failed
    unhandled = [line for line in logs.lines[seen_lines:] if UNHANDLED.search(line.text)]
    assert unhandled == [], unhandled[:3]
    # ... AND nothing behind the queue failed either: no message was given up on (a record dispatch kept failing on
    # ends in a dead-letter queue), and no event ended as a bug rather than with a reason naming the problem
    assert {queue: stack.aws.queue_depth(queue) for queue in DEAD_LETTER_QUEUES} == dead_before
    bugs = [
        e
        for e in events.list_events(stack.table, target["connection"].connection_id)
        if e.get("failure_class") == "bug"
    ]
    assert bugs == [], [(e["topic"], e["reason"]) for e in bugs]


def test_the_fuzz_pass_covers_every_route_of_the_template() -> None:
    # The routes the fuzz draws from are read from template.yaml: a new route is fuzzed without touching this file.
    assert ("POST", "/webhooks/shopify") in ROUTES and ("GET", "/shopify/callback") in ROUTES
    assert ("POST", "/webhooks/peakwms/{connection_id}/{event}") in ROUTES
    # The admin API's routes are drawn too (no token: the Cognito authorizer's 401, never a 5xx); schemathesis
    # covers them signed in (tests/e2e/test_admin_api_schema.py).
    assert ("ANY", "/admin/{proxy+}") in ROUTES and ("GET", "/console/{proxy+}") in ROUTES
    assert ("POST", "/webhooks/rackbeat/account/{account_key}") in ROUTES
    assert len(ROUTES) == 12, ROUTES
