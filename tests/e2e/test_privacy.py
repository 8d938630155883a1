"""Shopify's mandatory privacy webhooks, end to end: signed by the shop's app secret, delivered by the simulator
through the normal delivery queue to our webhook route, handled by dispatch."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET
from crossdock.connectors.shopify.webhooks import sign
from crossdock.integrations.rackbeat_shopify.privacy import CustomerMatch, PrivacyCustomer
from crossdock.store import connections, keys, stock, sync_progress
from crossdock_local.stack import LocalStack

PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
METTE = "mette.oestergaard.1@example.com"  # orders 0 and 2 of the generator
RASMUS = "rasmus.andersen.0@example.com"  # order 1


def _items(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    """Every item of the connection's partition, whole."""
    query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id))}
    items: list[dict[str, Any]] = []
    while True:
        page = stack.table.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _queued(stack: LocalStack) -> int:
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.aws.queue_url("InboundQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _events_of(merchant: Any, topic: str) -> list[dict[str, Any]]:
    return [event for event in merchant.events() if event["topic"] == topic]


def _audit_trail(merchant: Any) -> dict[str, tuple[str, str, str]]:
    return {str(e["sk"]): (str(e["topic"]), str(e["status"]), str(e.get("reason"))) for e in merchant.events()}


def _webhook_uri(stack: LocalStack) -> str:
    return f"{stack.base_url}/webhooks/shopify"


@pytest.fixture
def shop_with_customers(stack: LocalStack, merchant_with: Any) -> Any:
    """A shop whose two customers ordered: Mette twice, Rasmus once; all orders paid and in Rackbeat."""
    merchant = merchant_with()
    placed = [stack.shopify.create_order(merchant.domain, merchant.order(i), paid=True) for i in range(3)]
    stack.settle()
    for order in placed:
        assert merchant.only_rackbeat_order(order)
    merchant.placed = placed
    return merchant


def _orders_of(merchant: Any, email: str) -> list[dict[str, Any]]:
    return [order for order in merchant.placed if order["email"] == email]


def _events_mentioning(merchant: Any, text: str) -> list[dict[str, Any]]:
    return [event for event in merchant.events() if text in str(event.get("payload", ""))]


@pytest.mark.parametrize("topic", PRIVACY_TOPICS)
def test_privacy_webhook_with_a_bad_signature_is_401_and_nothing_is_queued(
    stack: LocalStack, merchant_with: Any, topic: str
) -> None:
    merchant = merchant_with()
    body = json.dumps({"shop_id": 1, "shop_domain": merchant.domain, "customer": {"id": 1}}).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": merchant.domain,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": sign(body, "not-the-app-secret"),
        "Content-Type": "application/json",
    }
    before = _queued(stack)

    answer = stack.aws.api_request("POST", "/webhooks/shopify", headers, body)

    assert answer.status == 401
    assert _queued(stack) == before
    stack.settle()
    assert merchant.events() == []


def test_data_request_reports_what_is_held_about_the_customer(stack: LocalStack, shop_with_customers: Any) -> None:
    merchant = shop_with_customers
    mettes_orders = _orders_of(merchant, METTE)
    mettes_events = _events_mentioning(merchant, METTE)
    rasmus_events = _events_mentioning(merchant, RASMUS)
    customer_id = mettes_orders[0]["customer"]["id"]

    request = stack.shopify.request_customer_data(
        merchant.domain, customer_id, [o["id"] for o in mettes_orders], uri=_webhook_uri(stack)
    )
    stack.settle()

    (answered,) = _events_of(merchant, "customers/data_request")
    reason = str(answered["reason"])
    assert answered["status"] == "done"
    assert reason.startswith(f"data request {request['data_request']['id']}: Crossdock holds 4 webhook payload(s)")
    assert "(orders/create 2, orders/paid 2)" in reason
    assert all(str(event["event_id"]) in reason for event in mettes_events)
    assert not any(str(event["event_id"]) in reason for event in rasmus_events)
    for order in mettes_orders:
        assert f"{order['id']} → {merchant.only_rackbeat_order(order)['number']}" in reason
    assert METTE not in reason
    # Nothing is erased by a data request, and its own payload (the customer's e-mail and phone) is not kept.
    assert len(_events_mentioning(merchant, METTE)) == len(mettes_events)
    assert METTE not in str(answered["payload"])


def test_customer_redact_removes_the_customers_payloads_and_keeps_the_others(
    stack: LocalStack, shop_with_customers: Any
) -> None:
    merchant = shop_with_customers
    connection_id = merchant.connection.connection_id
    mettes_orders = _orders_of(merchant, METTE)
    # An earlier data request names the customer too.
    stack.shopify.request_customer_data(
        merchant.domain, mettes_orders[0]["customer"]["id"], [mettes_orders[0]["id"]], uri=_webhook_uri(stack)
    )
    stack.settle()
    rasmus_before = _events_mentioning(merchant, RASMUS)
    trail_before = _audit_trail(merchant)

    stack.shopify.redact_customer(
        merchant.domain, mettes_orders[0]["customer"]["id"], [o["id"] for o in mettes_orders], uri=_webhook_uri(stack)
    )
    stack.settle()

    (redacted,) = _events_of(merchant, "customers/redact")
    assert redacted["status"] == "done"
    assert redacted["reason"] == (
        "customer data redacted: 4 event payload(s) replaced by a redaction marker (orders/create 2, orders/paid 2); "
        "2 order mapping(s) kept, they hold ids only; this request's own payload dropped"
    )
    everything = json.dumps(_items(stack, connection_id), default=repr, ensure_ascii=False)
    for trace in (METTE, "Østergaard", "Jernbanegade 14"):
        assert trace not in everything
    assert _events_mentioning(merchant, RASMUS) == rasmus_before
    # The audit trail stays: every event keeps its topic, status and reason.
    assert {sk: trail for sk, trail in _audit_trail(merchant).items() if sk in trail_before} == trail_before
    for order in mettes_orders:
        assert merchant.only_rackbeat_order(order)  # the merchant's ERP data is not ours to delete


def test_shop_redact_after_uninstall_leaves_only_a_tombstone(stack: LocalStack, shop_with_customers: Any) -> None:
    merchant = shop_with_customers
    connection_id = merchant.connection.connection_id
    # What else a connection accumulates: stock waiting for a push, initial sync progress, settings history.
    stock.mark_dirty(stack.table, connection_id, "SKU-001", 1.0)
    sync_progress.claim(stack.table, connection_id, "2026-01-01T00:00:00Z")
    connections.record_settings_version(stack.table, stack.connection(merchant.connection), None)
    stack.shopify.uninstall(merchant.domain)
    stack.settle()

    stack.shopify.redact_shop(merchant.domain, uri=_webhook_uri(stack))
    stack.settle()

    items = {str(item["sk"]): item for item in _items(stack, connection_id)}
    (event_sk,) = [sk for sk in items if sk.startswith(keys.EVENT_PREFIX)]
    assert set(items) == {keys.TOMBSTONE, event_sk}
    redact_event = items[event_sk]
    assert (redact_event["topic"], redact_event["status"]) == ("shop/redact", "done")
    assert str(redact_event["reason"]).startswith(f"shop {merchant.domain} redacted: ")
    assert json.loads(str(redact_event["payload"]))["redacted"] is True
    tombstone = connections.load_tombstone(stack.table, connection_id)
    assert tombstone is not None
    assert {k: v for k, v in tombstone.items() if k != "redacted_at"} == {
        "connection_id": connection_id,
        "kind": "rackbeat_shopify",
        "accounts": {"shopify": merchant.domain},
        "state": "uninstalled",
    }
    assert connections.load_connection(stack.table, connection_id) is None
    assert connections.connection_for_account(stack.table, "rackbeat_shopify", "shopify", merchant.domain) is None
    for order in merchant.placed:
        assert merchant.only_rackbeat_order(order)


def test_shop_redact_of_an_active_connection_is_refused(stack: LocalStack, shop_with_customers: Any) -> None:
    merchant = shop_with_customers
    connection_id = merchant.connection.connection_id
    before = {str(item["sk"]) for item in _items(stack, connection_id)}

    stack.shopify.redact_shop(merchant.domain, uri=_webhook_uri(stack))
    stack.settle()

    (refused,) = _events_of(merchant, "shop/redact")
    assert refused["status"] == "needs_attention"
    assert "is still active" in str(refused["reason"]) and "nothing was deleted" in str(refused["reason"])
    assert {str(item["sk"]) for item in _items(stack, connection_id)} == before | {str(refused["sk"])}
    assert stack.connection(merchant.connection).state is ConnectionState.ACTIVE
    assert SHOPIFY_APP_SECRET in connections.stored_secret_names(stack.table, connection_id)
    assert (
        connections.connection_for_account(stack.table, "rackbeat_shopify", "shopify", merchant.domain) == connection_id
    )


def test_what_concerns_a_customer() -> None:
    mette = CustomerMatch.of(PrivacyCustomer(id=77, email="Mette@Example.com", phone="+45 12 34 56 78"), [1001])

    assert mette.concerns("orders/paid", json.dumps({"id": 1001}))
    assert mette.concerns("refunds/create", json.dumps({"id": 5, "order_id": 1001}))
    assert mette.concerns("orders/create", json.dumps({"id": 2002, "customer": {"id": 77}}))
    assert mette.concerns("orders/create", json.dumps({"id": 2003, "note": "ring mette@example.com"}))
    assert mette.concerns("orders/create", json.dumps({"id": 2004, "phone": "+4512345678"}))
    assert not mette.concerns("products/update", json.dumps({"id": 1001}))  # another resource's id
    assert not mette.concerns("orders/create", json.dumps({"id": 2005, "customer": {"id": 78}, "phone": "12"}))
    assert not mette.concerns("orders/create", "not json")
    nobody = CustomerMatch.of(PrivacyCustomer(id=None, email=None, phone="12"), [])
    assert not nobody.concerns("orders/create", json.dumps({"id": 1, "phone": "12", "customer": {}}))
