"""Shopify webhook deliveries: headers and signature (reference/shopify.md, "Webhooks").

The signature is base64(HMAC-SHA256(raw body, app secret)). It is checked over the exact bytes received — never over
re-serialised JSON — in constant time, against every secret currently valid (old and new during a rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

API_VERSION = "2026-04"

# Order topics are subscribed whatever the settings (a skipped event still tells the merchant why); refunds count
# as order events so that turning on `orders.refunds_as_credit_notes` needs no new subscription.
ORDER_TOPICS = frozenset(
    {"orders/create", "orders/paid", "orders/fulfilled", "orders/updated", "orders/cancelled", "refunds/create"}
)
REFUND_TOPIC = "refunds/create"
CANCEL_TOPIC = "orders/cancelled"
PRODUCT_TOPICS = frozenset({"products/create", "products/update", "products/delete"})


@dataclass(frozen=True)
class ShopifyDelivery:
    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str | None
    api_version: str | None
    triggered_at: str | None
    hmac_header: str | None

    @property
    def dedupe_key(self) -> str:
        # A retry of one delivery keeps its webhook id, but Shopify may also deliver one event twice as separate
        # deliveries (new webhook id, same event id); keying on the event id catches both.
        return self.event_id or self.webhook_id


class MissingHeader(ValueError):
    def __init__(self, header: str) -> None:
        super().__init__(f"missing header {header}")
        self.header = header


def read_delivery(headers: Mapping[str, str]) -> ShopifyDelivery:
    """Reads the delivery headers (case-insensitively); raises MissingHeader naming the first one missing."""
    lower = {k.lower(): v for k, v in headers.items()}

    def required(name: str) -> str:
        value = lower.get(name.lower(), "").strip()
        if not value:
            raise MissingHeader(name)
        return value

    return ShopifyDelivery(
        shop_domain=required("X-Shopify-Shop-Domain").lower(),
        topic=required("X-Shopify-Topic"),
        webhook_id=required("X-Shopify-Webhook-Id"),
        event_id=lower.get("x-shopify-event-id") or None,
        api_version=lower.get("x-shopify-api-version") or None,
        triggered_at=lower.get("x-shopify-triggered-at") or None,
        hmac_header=lower.get("x-shopify-hmac-sha256") or None,
    )


def sign(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def signature_is_valid(raw_body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    if not signature:
        return False
    valid = False
    for secret in secrets:
        # No early exit: the time taken must not reveal which secret matched. Compared as bytes: compare_digest
        # refuses a str with non-ASCII characters (TypeError), and the header is whatever the sender wrote.
        valid |= hmac.compare_digest(sign(raw_body, secret).encode(), signature.encode("utf-8", "surrogatepass"))
    return valid
