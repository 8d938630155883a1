"""The redaction net: every secret Crossdock handles is masked in every shape a log line can carry it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from crossdock.aws.redaction import MASK, is_sensitive_name, redact, redact_text

# Shaped like the real ones (reference/shopify.md, reference/rackbeat.md), values of our own making.
ACCESS_TOKEN = "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"
REFRESH_TOKEN = "shprt_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ONLINE_TOKEN = "shpua_77aa88bb99cc00dd11ee22ff33aa44bb"
APP_SECRET = "9f70b11c74b7e42514ef82f5c008fb8e"
RACKBEAT_KEY = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIxIiwianRpIjoiYWJjIn0.c2lnbmF0dXJlLXBhcnQ"
WEBHOOK_TOKEN = "Zq8Kd0aP3xWm9Lr2Tn6Vb1Yc5Hs7Jf4G"
HMAC_HEADER = "Uo1PBEIU4D3JdRLCmAHHRsUFe0NZHEWT6xCmyDZsyNs="
OAUTH_CODE = "0907a61c0c8d55e99db179b68161bc00"


def _secretless(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
    assert MASK in text


# -- by name ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {RACKBEAT_KEY}"},
        {"X-Shopify-Hmac-Sha256": HMAC_HEADER},
        {"x-shopify-access-token": ACCESS_TOKEN},
        {"Rackbeat-Webhook-Token": WEBHOOK_TOKEN},
    ],
    ids=["bearer", "webhook-hmac", "admin-token", "rackbeat-webhook-token"],
)
def test_secret_headers_are_masked_as_a_mapping_and_as_text(headers: dict[str, str]) -> None:
    secret = next(iter(headers.values())).removeprefix("Bearer ")
    both = {**headers, "X-Shopify-Topic": "orders/paid"}

    masked = redact({"headers": both})
    as_text = redact_text(repr(both))
    as_lines = redact_text("\n".join(f"{name}: {value}" for name, value in both.items()))

    assert masked["headers"]["X-Shopify-Topic"] == "orders/paid"
    assert secret not in json.dumps(masked)
    _secretless(as_text, secret)
    _secretless(as_lines, secret)
    assert "orders/paid" in as_text and "orders/paid" in as_lines


def test_oauth_callback_query_keeps_the_shop_and_masks_code_and_hmac() -> None:
    query = urlencode({"code": OAUTH_CODE, "hmac": HMAC_HEADER, "shop": "acme.myshopify.com", "timestamp": "1"})

    masked = redact_text(f"GET /shopify/callback?{query}")

    _secretless(masked, OAUTH_CODE, HMAC_HEADER.rstrip("="))
    assert "shop=acme.myshopify.com" in masked and "timestamp=1" in masked


def test_a_shopbox_url_keeps_its_client_and_masks_its_query_string_credentials() -> None:
    # GIVEN a Shopbox call's URL as httpx logs it, with a login token and an API token in the query string
    line = (
        'HTTP Request: GET https://api.shopbox.com/api/v3/tags?accessToken=eyQ7tok3n&client=4711&api-token=9f8e7d "200"'
    )
    # WHEN it is redacted THEN neither credential is left and the client (not a secret) is
    masked = redact_text(line)
    _secretless(masked, "eyQ7tok3n", "9f8e7d")
    assert "client=4711" in masked


def test_token_exchange_form_and_answer_are_masked() -> None:
    form = urlencode({"client_id": "crossdock-1", "client_secret": APP_SECRET, "code": OAUTH_CODE})
    answer = json.dumps({"access_token": ACCESS_TOKEN, "scope": "read_orders", "refresh_token": REFRESH_TOKEN})

    _secretless(redact_text(form), APP_SECRET, OAUTH_CODE)
    masked_answer = redact_text(answer)
    _secretless(masked_answer, ACCESS_TOKEN, REFRESH_TOKEN)
    assert json.loads(masked_answer)["scope"] == "read_orders"


def test_json_escaped_inside_a_string_is_masked() -> None:
    inner = json.dumps({"shopify_app_secret": APP_SECRET})
    _secretless(redact_text(json.dumps({"body": inner})), APP_SECRET)


def test_kms_plaintext_in_a_botocore_debug_line_is_masked() -> None:
    line = 'Making request with params: {\'body\': b\'{"KeyId": "k", "Plaintext": "c2hwYXRfNWQ1Yjg2ZWE="}\'}'
    _secretless(redact_text(line), "c2hwYXRfNWQ1Yjg2ZWE=")


def test_a_list_under_a_secret_name_keeps_its_length() -> None:
    masked = redact({"rackbeat_webhook_tokens": [WEBHOOK_TOKEN, WEBHOOK_TOKEN[::-1]], "count": 2})
    assert masked == {"rackbeat_webhook_tokens": [MASK, MASK], "count": 2}


# -- by shape --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [ACCESS_TOKEN, REFRESH_TOKEN, ONLINE_TOKEN, RACKBEAT_KEY])
def test_recognisable_secrets_are_masked_without_a_name(secret: str) -> None:
    message = f"Traceback (most recent call last):\n  ...\nValueError: refused {secret} for acme.myshopify.com"
    masked = redact_text(message)
    _secretless(masked, secret)
    assert "acme.myshopify.com" in masked and "ValueError: refused" in masked


def test_a_bearer_credential_keeps_its_scheme() -> None:
    assert redact_text(f"sent Bearer {WEBHOOK_TOKEN} to Rackbeat") == f"sent Bearer {MASK} to Rackbeat"


# -- what stays ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Shopify order #1001 is Rackbeat order 17 (invoiced_and_shipped)",
        "status code=401 refused; tokens=3",
        "the refresh token was rotated for acme.myshopify.com",
        '{"topic": "orders/paid", "status": "skipped", "reason": "order #1001 is cancelled"}',
        "connection 5d1c9a58-6a0e-4c38-9b7e-2f4a3c1d9e10 is installing (state=installing)",
    ],
)
def test_ordinary_log_lines_are_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_numbers_booleans_and_none_keep_their_type() -> None:
    record: dict[str, Any] = {"status": 401, "code": 200, "retried": True, "next": None, "ratio": 0.5}
    assert redact(record) == record


def test_other_objects_become_their_redacted_text() -> None:
    error = RuntimeError(f"Shopify refused {ACCESS_TOKEN}")
    assert redact({"error": error}) == {"error": f"Shopify refused {MASK}"}


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("Authorization", True),
        ("X-Shopify-Hmac-Sha256", True),
        ("rackbeat_api_key", True),
        ("shopify_app_secret_previous", True),
        ("shopify_refresh_token", True),
        ("client_secret", True),
        ("code", True),
        ("accessToken", True),
        ("api-token", True),
        ("shopify_access_token_expires_at", False),
        ("client", False),
        ("X-Shopify-Topic", False),
        ("shop", False),
        ("state", False),
        ("failure_class", False),
    ],
)
def test_sensitive_names(name: str, sensitive: bool) -> None:
    assert is_sensitive_name(name) is sensitive
