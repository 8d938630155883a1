from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from crossdock.connectors.shopify.webhooks import MissingHeader, read_delivery, signature_is_valid

BODY = b'{"id": 450789469, "name": "#1001"}'


def shopify_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_signature_over_raw_bytes_is_accepted() -> None:
    assert signature_is_valid(BODY, shopify_signature(BODY, "s3cret"), ["s3cret"])


def test_reserialised_body_does_not_verify() -> None:
    # GIVEN a signature over the exact bytes WHEN the JSON is re-serialised (spaces dropped) THEN it no longer matches
    assert not signature_is_valid(b'{"id":450789469,"name":"#1001"}', shopify_signature(BODY, "s3cret"), ["s3cret"])


def test_wrong_secret_and_missing_signature_are_refused() -> None:
    assert not signature_is_valid(BODY, shopify_signature(BODY, "other"), ["s3cret"])
    assert not signature_is_valid(BODY, None, ["s3cret"])
    assert not signature_is_valid(BODY, shopify_signature(BODY, "s3cret"), [])


def test_old_and_new_secret_both_verify_during_rotation() -> None:
    assert signature_is_valid(BODY, shopify_signature(BODY, "old"), ["new", "old"])


def test_headers_are_case_insensitive_and_dedupe_prefers_event_id() -> None:
    delivery = read_delivery(
        {
            "x-shopify-topic": "orders/create",
            "X-SHOPIFY-SHOP-DOMAIN": "Acme.myshopify.com",
            "X-Shopify-Webhook-Id": "w-1",
            "X-Shopify-Event-Id": "e-1",
        }
    )
    assert (delivery.topic, delivery.shop_domain, delivery.dedupe_key) == ("orders/create", "acme.myshopify.com", "e-1")


def test_missing_header_is_named() -> None:
    with pytest.raises(MissingHeader, match="X-Shopify-Shop-Domain"):
        read_delivery({"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"})
