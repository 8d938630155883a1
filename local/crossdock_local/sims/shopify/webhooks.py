"""Webhook delivery ("Webhooks (HTTPS delivery)" of the fact sheet): the outbox, signing, retries, faults.

The listed headers, base64 HMAC-SHA256 over the raw body with the app secret (the shop's current one, so a
rotation shows on retries), 8 retries with the original payload and then removal of the subscription;
at-least-once and unordered delivery, which the `DeliveryFaults` switches make visible on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import uuid
from datetime import UTC
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import (
    WebhookSink,
)
from crossdock_local.sims.shopify.core import ShopCore
from crossdock_local.sims.shopify.state import DeliveryAttempt, DeliveryReport, PendingDelivery, Shop, Subscription

MAX_DELIVERY_RETRIES = 8  # fact sheet: "Retries: 8 times over 4 hours ... then the subscription is removed"


# Webhook topics of the fact sheet, GraphQL enum → REST topic. An explicit table because the split between
# resource and action is ambiguous (INVENTORY_LEVELS_UPDATE → inventory_levels/update).
TOPICS: dict[str, str] = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
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
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


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
    """The simulator's outbox: events queued per subscription, delivered through `webhook_sink`."""

    def subscribe(self, domain: str, topic: str, uri: str) -> Subscription:
        """Subscribe `uri` to `topic` ("orders/create" or "ORDERS_CREATE"); an existing identical one is returned."""
        with self._lock:
            shop = self.shop(domain)
            rest_topic = normalise_topic(topic)
            for existing in shop.subscriptions:
                if existing.topic == rest_topic and existing.uri == uri:
                    return existing
            subscription = Subscription(self.new_id(), rest_topic, uri, self.shop_time(shop))
            shop.subscriptions.append(subscription)
            return subscription

    def emit(self, shop: Shop, topic: str, payload: dict[str, Any], *, duplicate: bool = False) -> None:
        """Queue one event for every subscription to `topic`, with the resource as it is now (payload frozen)."""
        event_id = new_uuid(self.id_rng)
        body = compact_json(payload)
        triggered_at = self.now().astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        for subscription in [s for s in shop.subscriptions if s.topic == topic]:
            copies = 2 if duplicate or self._roll_delivery(self.delivery_faults.duplicate_rate) else 1
            for number in range(copies):
                self.outbox.append(
                    PendingDelivery(
                        webhook_id=new_uuid(self.webhook_rng),
                        event_id=event_id,
                        domain=shop.domain,
                        subscription_id=subscription.id,
                        topic=topic,
                        url=subscription.uri,
                        body=body,
                        api_version=self.api_version,
                        triggered_at=triggered_at,
                        duplicate=number > 0,
                        hold=1 if self._roll_delivery(self.delivery_faults.delay_rate) else 0,
                    )
                )

    def _roll_delivery(self, rate: float) -> bool:
        return rate > 0 and self.delivery_rng.random() < rate

    def webhook_headers(self, delivery: PendingDelivery) -> dict[str, str]:
        """The headers of the fact sheet; the HMAC uses the shop's current secret (rotation shows up on retries)."""
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(self.shop(delivery.domain).app_secret, delivery.body),
            "X-Shopify-Shop-Domain": delivery.domain,
            "X-Shopify-API-Version": delivery.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    def pending(self, domain: str | None = None) -> list[PendingDelivery]:
        with self._lock:
            self.before_delivery()  # a bulk operation that finished meanwhile queues its webhook first
            return [d for d in self.outbox if domain is None or d.domain == domain]

    def lose_pending(self, domain: str, topics: set[str] | None = None) -> int:
        """Webhooks lost in flight: the shop's pending deliveries (of `topics`, else all) are discarded unsent, as
        when Shopify gave up on an endpoint that stayed down or a delivery vanished on the way; returns how many."""
        with self._lock:
            lost = [d for d in self.outbox if d.domain == domain and (topics is None or d.topic in topics)]
            self.outbox = [d for d in self.outbox if not any(d is gone for gone in lost)]
            return len(lost)

    def deliver(self, limit: int | None = None, *, domain: str | None = None) -> DeliveryReport:
        """Send pending deliveries (of `domain`, or all shops) through the sink, in outbox order unless reordered.

        The sink is called without holding the simulator's lock: under `crossdock serve` the receiver may call the
        Admin API back from another thread while the delivery is still waiting for its answer.
        """
        sink = self.webhook_sink
        if sink is None:
            raise RuntimeError("ShopifySimulator has no webhook_sink to deliver to")
        report = DeliveryReport()
        with self._lock:
            self.before_delivery()
        batch = self._take_batch(limit, domain, report)
        for delivery in batch:
            status, error = self._send(sink, delivery)
            with self._lock:
                self._settle(delivery, status, error, report)
        with self._lock:
            report.pending = len([d for d in self.outbox if domain is None or d.domain == domain])
        return report

    def _take_batch(self, limit: int | None, domain: str | None, report: DeliveryReport) -> list[PendingDelivery]:
        with self._lock:
            candidates = [d for d in self.outbox if not d.in_flight and (domain is None or d.domain == domain)]
            if self.delivery_faults.reorder:
                self.delivery_rng.shuffle(candidates)
            batch: list[PendingDelivery] = []
            for delivery in candidates:
                if limit is not None and len(batch) >= limit:
                    break
                if delivery.hold > 0:
                    delivery.hold -= 1
                    report.delayed += 1
                    continue
                delivery.in_flight = True
                batch.append(delivery)
            return batch

    def _send(self, sink: WebhookSink, delivery: PendingDelivery) -> tuple[int | None, str | None]:
        with self._lock:
            headers = self.webhook_headers(delivery)
        try:
            return sink(delivery.url, headers, delivery.body), None
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver counts as a failed delivery
            return None, f"{type(exc).__name__}: {exc}"

    def _settle(self, delivery: PendingDelivery, status: int | None, error: str | None, report: DeliveryReport) -> None:
        delivery.in_flight = False
        delivery.attempts += 1
        if delivery.attempts > 1:
            report.retried += 1
        self.delivery_log.append(
            DeliveryAttempt(
                delivery.webhook_id,
                delivery.event_id,
                delivery.domain,
                delivery.topic,
                delivery.url,
                delivery.attempts,
                status,
                error,
            )
        )
        if status is not None and 200 <= status < 300:
            self._remove_delivery(delivery)
            report.delivered += 1
            report.duplicates_sent += int(delivery.duplicate)
            return
        report.failed += 1
        if delivery.attempts > MAX_DELIVERY_RETRIES:  # the first attempt plus 8 retries all failed
            self._drop_subscription(delivery, report)

    def _remove_delivery(self, delivery: PendingDelivery) -> None:
        self.outbox = [d for d in self.outbox if d is not delivery]

    def _drop_subscription(self, delivery: PendingDelivery, report: DeliveryReport) -> None:
        shop = self.shops.get(delivery.domain)
        if shop is not None:
            gone = [s for s in shop.subscriptions if s.id == delivery.subscription_id]
            shop.subscriptions = [s for s in shop.subscriptions if s.id != delivery.subscription_id]
            self.removed_subscriptions.extend(gone)
            report.dropped_subscriptions += len(gone)
        orphans = [d for d in self.outbox if d.subscription_id == delivery.subscription_id]
        report.dropped_deliveries += len([d for d in orphans if d is not delivery])
        self.outbox = [d for d in self.outbox if d.subscription_id != delivery.subscription_id]
