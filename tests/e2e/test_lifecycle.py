"""Uninstalling the app in Shopify: the connection is deactivated, its Shopify tokens go, work for the shop stops."""

from __future__ import annotations

import json
import uuid
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopify.secret_names import (
    SHOPIFY_ACCESS_TOKEN_EXPIRES_AT,
    SHOPIFY_APP_SECRET,
    SHOPIFY_REFRESH_TOKEN,
)
from crossdock.connectors.shopify.webhooks import sign
from crossdock.integrations.rackbeat_shopify import activation, lifecycle
from crossdock.store import connections
from crossdock_local.stack import LocalStack


def _post_webhook(stack: LocalStack, domain: str, secret: str, topic: str, payload: dict[str, Any]) -> int:
    """A signed delivery with fresh ids, as Shopify sends a new event."""
    body = json.dumps(payload).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "Content-Type": "application/json",
    }
    return stack.aws.api_request("POST", "/webhooks/shopify", headers, body).status


def _events_of(merchant: Any, topic: str) -> list[dict[str, Any]]:
    return [event for event in merchant.events() if event["topic"] == topic]


def test_every_shop_is_subscribed_to_app_uninstalled(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(product_sync={"master": "rackbeat"})

    subscribed = {s.topic for s in stack.shopify.shop(merchant.domain).subscriptions}

    assert "app/uninstalled" in subscribed
    assert "app/uninstalled" in activation.shopify_topics(stack.connection(merchant.connection))


def test_uninstall_deactivates_the_connection_and_deletes_the_shopify_tokens(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    # An install with expiring tokens keeps these too; every one of them must go.
    stack.secrets.put(connection_id, SHOPIFY_REFRESH_TOKEN, "shprt_" + uuid.uuid4().hex)
    stack.secrets.put(connection_id, SHOPIFY_ACCESS_TOKEN_EXPIRES_AT, "1893456000")

    stack.shopify.uninstall(merchant.domain)
    stack.settle()

    assert stack.connection(merchant.connection).state is ConnectionState.UNINSTALLED
    # The app secret verifies the privacy webhooks still to come; Rackbeat's side is the merchant's.
    assert set(connections.stored_secret_names(stack.table, connection_id)) == {
        SHOPIFY_APP_SECRET,
        RACKBEAT_API_KEY,
        RACKBEAT_WEBHOOK_TOKENS,
    }
    (uninstalled,) = _events_of(merchant, "app/uninstalled")
    assert uninstalled["status"] == "done"
    assert uninstalled["reason"] == (
        f"app uninstalled from {merchant.domain}: connection deactivated, Shopify token deleted"
    )
    # The shop record (owner, e-mail, address) is not kept: Crossdock reads nothing in it.
    assert "owner@" not in uninstalled["payload"]
    assert json.loads(uninstalled["payload"])["redacted"] is True


def test_orders_of_an_uninstalled_shop_are_not_transferred(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders={"transfer_when": "created"})
    stack.shopify.uninstall(merchant.domain)
    stack.settle()
    order = merchant.order(0) | {"id": 4_400_000_000_001, "name": "#9001", "financial_status": "paid"}

    # A late delivery: Shopify queued it before the uninstall removed the subscriptions.
    assert _post_webhook(stack, merchant.domain, merchant.connection.app_secret, "orders/create", order) == 200
    stack.settle()

    (created,) = _events_of(merchant, "orders/create")
    assert created["status"] == "skipped"
    assert created["reason"] == f"connection {merchant.connection.connection_id} is uninstalled"
    assert merchant.rackbeat_orders(order) == []


def test_a_repeated_uninstall_changes_nothing(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.shopify.uninstall(merchant.domain)
    stack.settle()
    shop_record = {"id": 1, "domain": merchant.domain, "myshopify_domain": merchant.domain}

    status = _post_webhook(stack, merchant.domain, merchant.connection.app_secret, "app/uninstalled", shop_record)
    stack.settle()

    assert status == 200
    first, repeated = sorted(_events_of(merchant, "app/uninstalled"), key=lambda event: str(event["sk"]))
    assert first["status"] == "done"
    assert (repeated["status"], repeated["reason"]) == (
        "skipped",
        f"app uninstalled from {merchant.domain}: connection already deactivated, no Shopify token left",
    )
    assert stack.connection(merchant.connection).state is ConnectionState.UNINSTALLED
    assert SHOPIFY_APP_SECRET in connections.stored_secret_names(stack.table, merchant.connection.connection_id)


def test_uninstall_keeps_settings_saved_meanwhile(stack: LocalStack, merchant_with: Any) -> None:
    """The state change touches the state alone: it is no stale copy of the whole connection."""
    merchant = merchant_with()
    before = stack.connection(merchant.connection)

    outcome = lifecycle.handle_lifecycle_event(
        stack.table, stack.secrets, before, "app/uninstalled", "{}", "EVT#not-logged"
    )

    after = stack.connection(merchant.connection)
    assert outcome.status.value == "done"
    assert after.state is ConnectionState.UNINSTALLED
    assert after.model_dump(exclude={"state"}) == before.model_dump(exclude={"state"})
    assert connections.set_state(stack.table, "no-such-connection", ConnectionState.UNINSTALLED, "now") is None
