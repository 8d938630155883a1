"""Shopify as a webhook source for ingest (`ports.WebhookSource`): headers name the shop and the delivery, and the
body is signed with the app's secret (old and new during a rotation). Kept free of pydantic and httpx: ingest
imports it on its cold start."""

from __future__ import annotations

from collections.abc import Mapping

from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET
from crossdock.connectors.shopify.webhooks import MissingHeader, read_delivery, signature_is_valid
from crossdock.ports import Delivery, Refused


class ShopifyWebhooks:
    secret_names = (SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET)
    account_name = "shop"
    refusal = "invalid webhook signature"

    def read(self, headers: Mapping[str, str]) -> Delivery:
        try:
            delivery = read_delivery(headers)
        except MissingHeader as missing:
            raise Refused(str(missing)) from None
        return Delivery(
            topic=delivery.topic,
            delivery_id=delivery.dedupe_key,
            account=delivery.shop_domain,
            credential=delivery.hmac_header,
            event_id=delivery.webhook_id,
        )

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool:
        return signature_is_valid(raw_body, delivery.credential, secrets)

    def check(self, delivery: Delivery) -> None:
        return None  # every header it needs was required by `read`


SOURCE = ShopifyWebhooks()
