"""Webhook delivery ("Webhooks (HTTPS delivery)" of the fact sheet): Shopify's headers and rules on the base outbox.

The shared `sims.base.webhooks.WebhookOutbox` queues, sends, retries and injects the faults (at-least-once and
unordered delivery, which the `DeliveryFaults` switches make visible on purpose). What is Shopify's is here: the
listed headers, base64 HMAC-SHA256 over the raw body with the app secret (the shop's current one, made at send
time, so a rotation shows on retries), 8 retries with the original payload and then removal of the subscription.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base.webhooks import Dropped, sign_base64
from crossdock_local.sims.shopify.core import MAX_DELIVERY_RETRIES as MAX_DELIVERY_RETRIES  # its old home
from crossdock_local.sims.shopify.core import ShopCore
from crossdock_local.sims.shopify.order_views import gql_order
from crossdock_local.sims.shopify.state import DeliveryReport, PendingDelivery, Shop, Subscription

# Webhook topics of the fact sheet, GraphQL enum → REST topic. An explicit table because the split between
# resource and action is ambiguous (INVENTORY_LEVELS_UPDATE → inventory_levels/update).
TOPICS: dict[str, str] = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_DELETE": "orders/delete",
    "FULFILLMENTS_UPDATE": "fulfillments/update",
    "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE": "fulfillment_orders/order_routing_complete",
    "FULFILLMENT_HOLDS_ADDED": "fulfillment_holds/added",
    "FULFILLMENT_HOLDS_RELEASED": "fulfillment_holds/released",
    "REFUNDS_CREATE": "refunds/create",
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "APP_UNINSTALLED": "app/uninstalled",
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "CUSTOMERS_DATA_REQUEST": "customers/data_request",
    "CUSTOMERS_REDACT": "customers/redact",
    "SHOP_REDACT": "shop/redact",
}


TOPIC_ENUMS: dict[str, str] = {rest: enum for enum, rest in TOPICS.items()}


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def compact_json(payload: Any) -> bytes:
    # Shopify sends compact UTF-8 JSON (no ASCII escaping), so "ø" is two raw bytes the HMAC must cover.
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=default).encode()


def sign(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the raw body bytes with the app's client secret."""
    return sign_base64(secret, body)


def normalise_topic(topic: str) -> str:
    if topic in TOPICS:
        return TOPICS[topic]
    if topic in TOPIC_ENUMS:
        return topic
    raise ValueError(f"unknown webhook topic {topic!r}")


def valid_callback(uri: str) -> bool:
    # Shopify wants https; plain http is let through for loopback so `crossdock serve` can receive deliveries.
    return bool(re.match(r"^https://[^/\s]+", uri) or re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", uri))


class WebhookDelivery(ShopCore):
    """Subscriptions, events and their delivery: the base outbox (`self.outbox`) with Shopify's headers and rules."""

    def order_view(self, shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
        """The GraphQL `Order` of a stored order, wherever one is answered (`order`, `orders`); the simulator adds
        what its other parts keep about the order (its fulfillment orders)."""
        return gql_order(order)

    def subscribe(self, domain: str, topic: str, uri: str, *, app: str | None = None) -> Subscription:
        """Subscribe `uri` to `topic` ("orders/create" or "ORDERS_CREATE") for `app` (a custom app's API key, None:
        the installed app); an existing identical one of that app is returned."""
        with self._lock:
            shop = self.shop(domain)
            rest_topic = normalise_topic(topic)
            for existing in shop.subscriptions:
                if existing.topic == rest_topic and existing.uri == uri and existing.app == app:
                    return existing
            subscription = Subscription(self.new_id(), rest_topic, uri, self.shop_time(shop), app)
            shop.subscriptions.append(subscription)
            return subscription

    def emit(self, shop: Shop, topic: str, payload: dict[str, Any], *, duplicate: bool = False) -> None:
        """Queue one event for every subscription to `topic`, with the resource as it is now (payload frozen)."""
        event_id = new_uuid(self.id_rng)
        body = compact_json(payload)
        facts = {"api_version": self.api_version, "triggered_at": triggered_at(self.now())}
        for subscription in [s for s in shop.subscriptions if s.topic == topic]:
            # The first copy's webhook id is drawn before the outbox rolls its faults and a duplicate's after: each
            # stream keeps the order it had when this module held its own outbox, so seeded runs stay the same.
            self.outbox.queue(
                PendingDelivery(
                    delivery_id=new_uuid(self.webhook_rng),
                    event_id=event_id,
                    tenant=shop.domain,
                    subscription=str(subscription.id),
                    topic=topic,
                    url=subscription.uri,
                    body=body,
                    facts={**facts, "app": subscription.app or ""},
                ),
                duplicate=duplicate,
                new_id=lambda: new_uuid(self.webhook_rng),
            )

    def webhook_headers(self, delivery: PendingDelivery) -> dict[str, str]:
        """The headers of the fact sheet; the HMAC uses the subscribing app's current secret (a custom app's API
        secret, else the shop's installed app's: rotation shows up on retries)."""
        custom = self.custom_apps.get(delivery.facts.get("app") or "")
        secret = custom.api_secret if custom is not None else self.shop(delivery.domain).app_secret
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(secret, delivery.body),
            "X-Shopify-Shop-Domain": delivery.domain,
            "X-Shopify-API-Version": delivery.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    def signed_headers(self, delivery: PendingDelivery) -> dict[str, str]:
        # The outbox sends without any lock held; reading the shop's secret needs ours.
        with self._lock:
            return self.webhook_headers(delivery)

    def give_up(self, delivery: PendingDelivery) -> Dropped:
        """The first attempt and 8 retries all failed: Shopify removes the subscription, and what was still queued
        for it is not delivered either (counted even when the subscription had gone already)."""
        with self._lock:
            dropped = Dropped()
            shop = self.shops.get(delivery.domain)
            if shop is not None:
                gone = [s for s in shop.subscriptions if s.id == delivery.subscription_id]
                shop.subscriptions = [s for s in shop.subscriptions if s.id != delivery.subscription_id]
                self.removed_subscriptions.extend(gone)
                dropped.subscriptions = len(gone)
            dropped.deliveries = self.outbox.forget_subscription(delivery.subscription)
            return dropped

    def pending(self, domain: str | None = None) -> list[PendingDelivery]:
        with self._lock:
            self.before_delivery()  # a bulk operation that finished meanwhile queues its webhook first
            return self.outbox.pending(domain)

    def lose_pending(self, domain: str, topics: set[str] | None = None) -> int:
        """Webhooks lost in flight: the shop's pending deliveries (of `topics`, else all) are discarded unsent, as
        when Shopify gave up on an endpoint that stayed down or a delivery vanished on the way; returns how many."""
        with self._lock:
            return self.outbox.lose(domain, topics)

    def deliver(self, limit: int | None = None, *, domain: str | None = None) -> DeliveryReport:
        """Send pending deliveries (of `domain`, or all shops) through the sink, in outbox order unless reordered.

        The sink is called without holding the simulator's lock: under `crossdock serve` the receiver may call the
        Admin API back from another thread while the delivery is still waiting for its answer.
        """
        if self.webhook_sink is None:
            raise RuntimeError("ShopifySimulator has no webhook_sink to deliver to")
        with self._lock:
            self.before_delivery()
        sent = self.outbox.deliver(limit, tenant=domain)
        # Shopify's report names no give-ups: each one is a dropped subscription (or a privacy webhook dropped).
        return DeliveryReport(
            delivered=sent.delivered,
            duplicates_sent=sent.duplicates_sent,
            failed=sent.failed,
            retried=sent.retried,
            dropped_subscriptions=sent.dropped_subscriptions,
            dropped_deliveries=sent.dropped_deliveries,
            delayed=sent.delayed,
            pending=sent.pending,
        )


def triggered_at(now: datetime) -> str:
    """`X-Shopify-Triggered-At`: UTC with microseconds and a Z."""
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
