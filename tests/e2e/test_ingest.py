"""The webhook front door: what API Gateway → ingest answers, and that nothing is queued when it refuses."""

from __future__ import annotations

import json
import uuid
from typing import Any
from unittest import mock

import boto3
import pytest

from crossdock import services
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopify.webhooks import sign
from crossdock_local.aws.lambda_runtime import ProcessCrash
from crossdock_local.stack import LocalStack


def shopify_headers(domain: str, body: bytes, secret: str, topic: str = "orders/create") -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "Content-Type": "application/json",
    }


def queued(stack: LocalStack) -> int:
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.aws.queue_url("InboundQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def post(stack: LocalStack, headers: dict[str, str], body: bytes, *, base64_body: bool = False) -> Any:
    """`base64_body`: API Gateway hands the body to the function base64-encoded (binary media types)."""
    return stack.aws.api_request("POST", "/webhooks/shopify", headers, body, base64=base64_body)


def test_valid_webhook_is_queued(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = json.dumps(merchant.order(0) | {"id": 1, "name": "#1"}).encode()
    before = queued(stack)
    answer = post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body)
    assert (answer.status, answer.json()) == (200, {"status": "queued"})
    assert queued(stack) == before + 1
    stack.settle()


def test_base64_encoded_body_is_verified_over_the_decoded_bytes(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = json.dumps({"id": 2, "name": "#2", "note": "æøå"}, ensure_ascii=False).encode()
    answer = post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body, base64_body=True)
    assert answer.status == 200
    stack.settle()


def test_bad_or_missing_signature_is_401_and_nothing_is_queued(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = b'{"id": 3}'
    before = queued(stack)
    forged = shopify_headers(merchant.domain, body, "not-the-secret")
    assert post(stack, forged, body).status == 401
    unsigned = {k: v for k, v in forged.items() if k != "X-Shopify-Hmac-Sha256"}
    assert post(stack, unsigned, body).status == 401
    tampered = shopify_headers(merchant.domain, body, merchant.connection.app_secret)
    assert post(stack, tampered, b'{"id": 4}').status == 401
    assert queued(stack) == before


def test_another_merchants_secret_does_not_open_this_shop(stack: LocalStack, merchant_with: Any) -> None:
    victim, intruder = merchant_with(), merchant_with()
    body = b'{"id": 5, "name": "#5"}'
    headers = shopify_headers(victim.domain, body, intruder.connection.app_secret)
    assert post(stack, headers, body).status == 401


def test_malformed_json_is_400_with_a_reason(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    for body in (b'{"id": 6,', b"[1, 2]"):
        answer = post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body)
        assert answer.status == 400
        assert "JSON" in answer.json()["message"]


def test_missing_shop_is_400_and_unknown_shop_is_404(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = b'{"id": 7}'
    headers = shopify_headers(merchant.domain, body, merchant.connection.app_secret)
    without_shop = {k: v for k, v in headers.items() if k != "X-Shopify-Shop-Domain"}
    answer = post(stack, without_shop, body)
    assert answer.status == 400 and "X-Shopify-Shop-Domain" in answer.json()["message"]
    unknown = {**headers, "X-Shopify-Shop-Domain": "nobody.myshopify.com"}
    assert post(stack, unknown, body).status == 404


def test_repeated_delivery_is_acknowledged_but_queued_once(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = b'{"id": 8, "name": "#8"}'
    headers = shopify_headers(merchant.domain, body, merchant.connection.app_secret)
    before = queued(stack)
    assert post(stack, headers, body).json() == {"status": "queued"}
    assert post(stack, headers, body).json() == {"status": "duplicate"}
    assert queued(stack) == before + 1
    stack.settle()


def test_invalid_order_payload_ends_needs_attention(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = b'{"id": 9, "name": "#9", "currency": "DKK"}'  # valid JSON, but no line_items / total_price
    assert post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body).status == 200
    stack.settle()
    (event,) = merchant.events()
    assert event["status"] == "needs_attention"
    assert "line_items" in event["reason"]


def test_rackbeat_webhook_needs_the_connections_token(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    stack.secrets.put(connection_id, RACKBEAT_WEBHOOK_TOKENS, json.dumps(["a" * 32]))
    body = b'{"key_name": "number", "key": "1021"}'
    path = f"/webhooks/rackbeat/{connection_id}"
    headers = {
        "Rackbeat-Webhook-Event": "product.updated",
        "Rackbeat-Account-Id": "1",
        "User-Agent": "Rackbeat Webhook",
    }
    assert stack.aws.api_request("POST", path, {**headers, "Rackbeat-Webhook-Token": "b" * 32}, body).status == 401
    assert stack.aws.api_request("POST", path, headers, body).status == 401
    other = f"/webhooks/rackbeat/{uuid.uuid4()}"
    assert stack.aws.api_request("POST", other, {**headers, "Rackbeat-Webhook-Token": "a" * 32}, body).status == 404
    answer = stack.aws.api_request("POST", path, {**headers, "Rackbeat-Webhook-Token": "a" * 32}, body)
    assert (answer.status, answer.json()) == (200, {"status": "queued"})
    stack.settle()
    (event,) = merchant.events()
    # authenticated and logged; this connection does not sync products from Rackbeat
    assert (event["status"], event["reason"]) == ("skipped", "product_sync.master is none")


def test_a_kinds_own_address_reaches_the_connection_of_that_kind(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a shop in a rackbeat_shopify connection
    merchant = merchant_with()
    body = json.dumps(merchant.order(0) | {"id": 2, "name": "#2"}).encode()
    headers = shopify_headers(merchant.domain, body, merchant.connection.app_secret)
    before = queued(stack)
    # WHEN its app's webhook arrives at the kind's own address (as a second kind's app would use its own)
    answer = stack.aws.api_request("POST", "/webhooks/rackbeat_shopify/shopify", headers, body)
    # THEN it is verified and queued for that connection, as at the app's first address
    assert (answer.status, answer.json()) == (200, {"status": "queued"})
    assert queued(stack) == before + 1
    # AND a kind or a system nobody registered is a 404 that names it; nothing is queued
    unknown_kind = stack.aws.api_request("POST", "/webhooks/peakwms_nowhere/shopify", headers, body)
    assert (unknown_kind.status, unknown_kind.json()) == (404, {"message": "no connection kind peakwms_nowhere"})
    unknown_system = stack.aws.api_request("POST", "/webhooks/rackbeat_shopify/nowhere", headers, body)
    assert (unknown_system.status, unknown_system.json()) == (404, {"message": "no webhook source nowhere"})
    assert queued(stack) == before + 1
    stack.settle()
    # AND the connection-named address of Rackbeat still wins over the kind's address (the most specific path)
    rackbeat = stack.aws.api_request("POST", f"/webhooks/rackbeat/{merchant.connection.connection_id}", {}, b"{}")
    assert rackbeat.status == 401


def _crash(when: str) -> Any:
    """Ingest's process dies just before or just after the event reaches the queue (its answer is then lost)."""
    real = services.send_to_queue

    def send(queue_url: str, message: dict[str, Any]) -> None:
        if when == "after":
            real(queue_url, message)
        raise ProcessCrash(f"{when} queueing")

    return mock.patch.object(services, "send_to_queue", send)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_around_queueing_loses_nothing_and_duplicates_nothing(
    stack: LocalStack, merchant_with: Any, when: str
) -> None:
    # GIVEN a paid order whose two webhooks reach an ingest that dies around the moment it queues them
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    with _crash(when):
        report = stack.shopify.deliver(domain=merchant.domain)
    assert report.delivered == 0 and report.pending == 2
    # WHEN Shopify retries them (same webhook ids), as it does after a 5xx, and the stack settles
    stack.settle()
    # THEN the retries were queued (the crashed attempts claimed nothing), and Rackbeat has the order exactly once
    assert len(merchant.rackbeat_orders(placed)) == 1
    handled = [(e["topic"], e["status"]) for e in merchant.events()]
    assert ("orders/create", "done") in handled or ("orders/paid", "done") in handled
    assert all(status in ("done", "skipped") for _, status in handled), handled
    assert len(handled) == (2 if when == "before" else 4)
    assert [a.status for a in stack.shopify.delivery_log[-4:]] == [502, 502, 200, 200]


# ---- signed bodies that are still bad input, and bodies too large for a queued message (issue 13, item 5) -------


def _payload_keys(stack: LocalStack) -> list[str]:
    s3 = boto3.client("s3", region_name=stack.aws.region)
    listed = s3.list_objects_v2(Bucket=stack.aws.resources["PayloadBucket"].ref, Prefix="inbound/")
    return [str(item["Key"]) for item in listed.get("Contents", [])]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": 10, "note": "K\xf8benhavn"}', "body is not UTF-8: byte 0xf8 at position 21 (invalid start byte)"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "body is not valid JSON: it is nested too deeply"),
        (b'{"id": 11, "total_price": NaN}', "body is not valid JSON: NaN is not a JSON value"),
    ],
    ids=["latin-1", "nested-10000", "nan"],
)
def test_a_signed_body_that_cannot_be_read_is_400_naming_why_and_nothing_is_queued(
    stack: LocalStack, merchant_with: Any, body: bytes, reason: str
) -> None:
    # GIVEN a correctly signed body that is not a readable JSON object
    merchant = merchant_with()
    before = queued(stack)
    # WHEN Shopify delivers it through API Gateway (every body reaches ingest base64-encoded: BinaryMediaTypes)
    answer = post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body)
    # THEN ingest answers 400 with the reason, never a 5xx, and nothing is queued
    assert (answer.status, answer.json()) == (400, {"message": reason})
    assert queued(stack) == before


def test_a_body_larger_than_ingest_takes_is_413(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    body = json.dumps({"id": 12, "note": "x" * (4 * 1024 * 1024)}).encode()
    answer = post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body)
    assert answer.status == 413 and "at most 4194304" in answer.json()["message"]


def test_a_610_kb_danish_order_is_checked_in_to_s3_and_booked_once(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a shop whose paid order is 610 KB with Danish text: JSON-escaped inside a queue message it is ~1 MB
    merchant = merchant_with()
    note = "Kunden ønsker levering på bagtrappen; hæng pakken på krogen ved døren, så går ræven ikke i den. "
    order = merchant.order(0, note=note * (610_000 // len(note.encode())))
    before = _payload_keys(stack)
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    # WHEN Shopify delivers its webhooks (orders/create, orders/paid) and the stack settles
    stack.settle()
    # THEN every delivery was taken (no 5xx, no retry): each body waited in the payload bucket under the connection
    sent = stack.shopify.delivery_log[-2:]
    assert [attempt.status for attempt in sent] == [200, 200]
    keys = set(_payload_keys(stack)) - set(before)
    assert len(keys) == 2 and all(k.startswith(f"inbound/{merchant.connection.connection_id}/") for k in keys)
    # AND the order reached Rackbeat exactly once, read back whole (the note included)
    handled = merchant.events()
    assert sorted(e["status"] for e in handled) == ["done", "skipped"], [e["reason"] for e in handled]
    assert all(600_000 < len(e["payload"].encode()) < 700_000 for e in handled)
    assert all(json.loads(e["payload"])["note"] == order["note"] for e in handled)
    merchant.only_rackbeat_order(placed)


def test_a_normal_webhook_makes_no_s3_request(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN the stack's calls so far
    merchant = merchant_with()
    before = stack.aws.usage()["api_calls"].get("s3", {})
    # WHEN an ordinary order webhook arrives and is handled
    body = json.dumps(merchant.order(0) | {"id": 13, "name": "#13"}).encode()
    assert post(stack, shopify_headers(merchant.domain, body, merchant.connection.app_secret), body).status == 200
    stack.settle()
    # THEN nothing asked S3 for anything (the claim check is only for bodies too large for a message)
    assert stack.aws.usage()["api_calls"].get("s3", {}) == before


def test_implausible_orders_end_needs_attention_naming_the_field_and_nothing_is_booked(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop, and correctly signed paid orders each with one implausible value
    merchant = merchant_with()
    plain = merchant.order(0, financial_status="paid")
    plain["line_items"] = [{**line, "id": 900 + n} for n, line in enumerate(plain["line_items"])]
    first = plain["line_items"][0]
    cases: dict[str, dict[str, Any]] = {
        "line_items.0.quantity": {"line_items": [{**first, "quantity": 1e30}]},
        "line_items.0.price": {"line_items": [{**first, "price": "1e400"}]},
        "id": {"id": True},
        "currency": {"currency": "XXX"},
        "line_items.0.title": {"line_items": [{**first, "title": "Krus\x00"}]},
        "line_items": {"line_items": []},
    }
    for number, changes in enumerate(cases.values()):
        order = {**plain, "id": 7_000 + number, "name": f"#70{number}", **changes}
        body = json.dumps(order).encode()
        headers = shopify_headers(merchant.domain, body, merchant.connection.app_secret, topic="orders/paid")
        # WHEN Shopify delivers it THEN it is taken (200: the body is readable JSON) ...
        assert post(stack, headers, body).status == 200
    stack.settle()
    # ... AND each ends needs_attention for bad data (not a bug), its reason naming the field; Rackbeat has no order
    handled = merchant.events()
    assert len(handled) == len(cases)
    assert all((e["status"], e["failure_class"]) == ("needs_attention", "validation") for e in handled), handled
    reasons = sorted(str(e["reason"]) for e in handled)
    for field in cases:
        assert any(reason.startswith(f"order payload is invalid: {field}: ") for reason in reasons), (field, reasons)
    assert stack.rackbeat.state(merchant.connection.rackbeat_account_id).orders == {}
