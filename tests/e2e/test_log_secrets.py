"""No secret reaches a function's log: real flows on the embedded stack, everything at DEBUG (the functions' logger,
httpx, httpcore, botocore), every line the functions write captured and searched for every secret the run used.

The run: a shop installs the app (OAuth: install link, approval, code exchange, expiring token), a webhook with a bad
signature and a Rackbeat webhook with a wrong token are refused, the token expires, an order comes in while Rackbeat
throttles and fails now and then, the order ships, Rackbeat's stock webhook comes back, and the stock push to the
shop refreshes the token.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from crossdock.aws.observability import logger
from crossdock.aws.redaction import MASK
from crossdock_local.aws.log_capture import FunctionLogs, capture_function_logs
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.sims.base import Faults
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalInstall, LocalStack

SHOP = "secrets-shop.myshopify.com"
TOKEN_LIFETIME = 3600.0  # the simulator's, as Shopify's
LIBRARIES = ("httpx", "httpcore", "botocore", "boto3", "urllib3")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=23, log_level="DEBUG") as running:
        yield running


@pytest.fixture(scope="module")
def everything_at_debug() -> Iterator[None]:
    """The functions' logger is made once per process (its level read then); libraries log through the root."""
    libraries = [logging.getLogger(name) for name in LIBRARIES]
    own_level, library_levels = logger.log_level, [library.level for library in libraries]
    logger.setLevel(logging.DEBUG)
    for library in libraries:
        library.setLevel(logging.DEBUG)
    yield
    logger.setLevel(own_level)
    for library, level in zip(libraries, library_levels, strict=True):
        library.setLevel(level)


@dataclass(frozen=True)
class Run:
    logs: FunctionLogs
    secrets: dict[str, str] = field(repr=False)  # label → value; a failing test shows its arguments
    rackbeat_account: int = 0


@pytest.fixture(scope="module")
def run(stack: LocalStack, everything_at_debug: None) -> Run:
    signatures: dict[str, str] = {}
    with capture_function_logs(stack.aws) as logs, _recording_signatures(stack, signatures):
        pending = stack.begin_install({**demo_settings(), "stock_sync": {"enabled": True}}, shop_domain=SHOP)
        installed = stack.install(pending)
        _refused_webhooks(stack, installed.connection_id, pending)
        stack.seed_items(pending.rackbeat_account_id, DEMO_SKUS)
        order = varied_orders(1, seed=5, skus=DEMO_SKUS)[0].order
        for sku in sorted({line["sku"] for line in order["line_items"]}):
            product = {"title": sku, "variants": [{"sku": sku, "price": "100.00", "inventory_quantity": 0}]}
            stack.shopify.create_product(SHOP, product, emit=False)
        stack.aws.clock.advance(TOKEN_LIFETIME + 1)
        stack.rackbeat.faults = Faults(throttle_rate=0.3, server_error_rate=0.1, max_retry_after=2, seed=5)
        stack.shopify.create_order(SHOP, order, paid=True)
        stack.settle()
        stack.rackbeat.faults = Faults()
    return Run(logs, {**signatures, **_secrets_of(stack, pending)}, pending.rackbeat_account_id)


def test_no_function_log_line_carries_a_secret(run: Run) -> None:
    run.logs.assert_no_secrets(run.secrets)


def test_the_run_used_every_kind_of_secret(stack: LocalStack, run: Run) -> None:
    kinds = {label.split(" #")[0] for label in run.secrets}
    assert kinds == {
        "app client secret",
        "Rackbeat API key",
        "Rackbeat webhook token",
        "OAuth code",
        "OAuth query hmac",
        "Shopify access token",
        "Shopify refresh token",
        "Shopify webhook hmac",
    }
    # The token had expired when the stock push needed it: a second access token came from a refresh.
    assert sum(label.startswith("Shopify access token") for label in run.secrets) >= 2
    assert stack.rackbeat.state(run.rackbeat_account).orders, "the order reached Rackbeat"


def test_the_search_covered_every_function_that_ran_at_debug_level(stack: LocalStack, run: Run) -> None:
    ran = {invocation.function for invocation in stack.aws.invocations}
    assert {"ShopifyAppFunction", "IngestFunction", "DispatchFunction", "OrderStepsFunction"} <= ran
    assert "ShopifyPushFunction" in ran, "the stock push (and its token refresh) ran"
    assert ran <= run.logs.functions()
    texts = [line.text for line in run.logs.lines]
    assert any("HTTP Request:" in text for text in texts), "httpx's request lines were captured"
    assert any(text.startswith("[DEBUG]\t") for text in texts), "library DEBUG records were captured"
    assert any('"level":"INFO"' in text and '"function_request_id"' in text for text in texts), "and our own lines"
    assert any('"_aws"' in text for text in texts), "and the metrics"
    # A 429 with Retry-After is handed back to the workflow's Wait state; a 5xx leaves as the function's error — from
    # the first task as `Handback` (the order state in its message: searched for secrets like every line), from a
    # stage the workflow retries as the error itself.
    errors = ("[ERROR] Handback: ", "[ERROR] RateLimited: ", "[ERROR] RetryableError: ")
    assert any(text.startswith(errors) for text in texts), "and the runtime's error lines"


def test_secrets_were_in_the_way_and_were_masked(run: Run) -> None:
    # A search that finds nothing proves little unless the lines had secrets to hide: here they did.
    masked = {line.function for line in run.logs.lines if MASK in line.text}
    assert masked >= {"ShopifyAppFunction", "IngestFunction", "OrderStepsFunction"}


# -- the run's secrets -------------------------------------------------------------------------------------------------


@contextmanager
def _recording_signatures(stack: LocalStack, kept: dict[str, str]) -> Iterator[None]:
    """Keeps every signature the simulators send or hand to the browser: webhook HMAC headers, install and callback
    query `hmac`s (Crossdock verifies them; none may be logged)."""
    shopify = stack.shopify
    sink, install_request, approve = shopify.webhook_sink, shopify.install_request, shopify.approve
    assert sink is not None

    def keep(kind: str, value: str | None) -> None:
        if value and value not in kept.values():
            kept[f"{kind} #{len(kept) + 1}"] = value

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        keep("Shopify webhook hmac", headers.get("X-Shopify-Hmac-Sha256"))
        return sink(url, headers, body)

    def signed_install(domain: str, client_id: str) -> dict[str, str]:
        query = install_request(domain, client_id)
        keep("OAuth query hmac", query.get("hmac"))
        return query

    def approved(domain: str, authorize_url: str, **kwargs: Any) -> str:
        callback = approve(domain, authorize_url, **kwargs)
        keep("OAuth query hmac", dict(parse_qsl(urlsplit(callback).query)).get("hmac"))
        return callback

    shopify.webhook_sink = deliver
    shopify.install_request = signed_install  # type: ignore[method-assign]
    shopify.approve = approved  # type: ignore[method-assign]
    try:
        yield
    finally:
        shopify.webhook_sink = sink
        shopify.install_request = install_request  # type: ignore[method-assign]
        shopify.approve = approve  # type: ignore[method-assign]


def _refused_webhooks(stack: LocalStack, connection_id: str, pending: LocalInstall) -> None:
    """A forged Shopify webhook and a Rackbeat webhook with a wrong token: refused, and logged as refused."""
    body = json.dumps({"id": 1, "name": "#1"}).encode()
    forged = stack.aws.api_request(
        "POST",
        "/webhooks/shopify",
        {
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": "Zm9yZ2VkLXNpZ25hdHVyZS1mb3JnZWQtc2lnbmF0dXJl",
        },
        body,
    )
    wrong_token = stack.aws.api_request(
        "POST",
        f"/webhooks/rackbeat/{connection_id}",
        {"Rackbeat-Webhook-Token": pending.client_secret[::-1], "Rackbeat-Webhook-Event": "product.stock_changed"},
        json.dumps({"key_name": "number", "key": DEMO_SKUS[0]}).encode(),
    )
    assert (forged.status, wrong_token.status) == (401, 401)


def _secrets_of(stack: LocalStack, pending: LocalInstall) -> dict[str, str]:
    """Every secret the run handled for the shop, read from the simulators' own state."""
    apps = stack.shopify.apps
    found = {
        "app client secret": pending.client_secret,
        "Rackbeat API key": pending.rackbeat_api_key,
        # The wrong token sent above is the client secret reversed: a secret of the test's making, searched too.
        "Rackbeat webhook token #0": pending.client_secret[::-1],
    }
    for number, code in enumerate(c.code for c in apps.codes.values() if c.domain == SHOP):
        found[f"OAuth code #{number}"] = code
    for number, token in enumerate(t.token for t in apps.access_tokens.values() if t.domain == SHOP):
        found[f"Shopify access token #{number}"] = token
    for number, token in enumerate(t.token for t in apps.refresh_tokens.values() if t.domain == SHOP):
        found[f"Shopify refresh token #{number}"] = token
    hooks = stack.rackbeat.state(pending.rackbeat_account_id).webhooks.values()
    for number, hook in enumerate(hooks, start=1):
        found[f"Rackbeat webhook token #{number}"] = hook["_token"]
    return found
