"""Ingest: what must happen before a webhook is answered, and nothing more (DESIGN §1, SPEC §5 "Ingress").

Authenticate the sender, reject malformed input with a 4xx naming what is wrong, drop repeats, queue, answer.
No external system is called. A Shopify delivery is queued first and claimed for dedupe after: a process that dies
in between leaves the delivery unclaimed, so the sender's retry is queued again. Claiming first would answer that
retry "duplicate" for an event that never reached the queue — lost. The price is a rare second message for one
delivery (also when two copies arrive at once), which dispatch already absorbs: an order's workflow is named from
the order, so a second copy is `skipped`, never a second Rackbeat order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossdock.connections.secret_names import (
    RACKBEAT_WEBHOOK_TOKENS,
    SHOPIFY_APP_SECRET,
    SHOPIFY_PREVIOUS_APP_SECRET,
)
from crossdock.connectors.rackbeat.webhooks import token_is_valid
from crossdock.connectors.shopify.webhooks import MissingHeader, read_delivery, signature_is_valid
from crossdock.store import connection_lookup, deliveries, events
from crossdock.store.secrets import SecretStore

EnqueueEvent = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class IngestAnswer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class IngestDeps:
    table: Any
    secrets: SecretStore
    enqueue: EnqueueEvent


def _refuse(status: int, message: str) -> IngestAnswer:
    return IngestAnswer(status, {"message": message})


def _parse_object(raw_body: bytes) -> dict[str, Any] | IngestAnswer:
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as garbled:
        return _refuse(400, f"body is not valid JSON: {garbled}")
    if not isinstance(payload, dict):
        return _refuse(400, "body must be a JSON object")
    return payload


def receive_shopify_webhook(headers: Mapping[str, str], raw_body: bytes, deps: IngestDeps) -> IngestAnswer:
    try:
        delivery = read_delivery(headers)
    except MissingHeader as missing:
        return _refuse(400, str(missing))
    connection_id = connection_lookup.connection_id_for_shop(deps.table, delivery.shop_domain)
    if connection_id is None:
        return _refuse(404, f"no connection for shop {delivery.shop_domain}")
    names = (SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET)
    secrets = [s for s in (deps.secrets.get(connection_id, name) for name in names) if s]
    if not signature_is_valid(raw_body, delivery.hmac_header, secrets):
        return _refuse(401, "invalid webhook signature")
    parsed = _parse_object(raw_body)
    if isinstance(parsed, IngestAnswer):
        return parsed
    if deliveries.already_queued(deps.table, "shopify", delivery.dedupe_key):
        return IngestAnswer(200, {"status": "duplicate"})
    message = {
        "source": "shopify",
        "connection_id": connection_id,
        "event_id": delivery.webhook_id,
        "topic": delivery.topic,
        "received_at": events.received_stamp(),
        "payload": raw_body.decode(),
    }
    deps.enqueue(message)  # raises on failure: the sender gets a 5xx and retries; nothing was claimed
    deliveries.claim_delivery(deps.table, "shopify", delivery.dedupe_key, connection_id)
    return IngestAnswer(200, {"status": "queued"})


def receive_rackbeat_webhook(
    connection_id: str, headers: Mapping[str, str], raw_body: bytes, deps: IngestDeps
) -> IngestAnswer:
    """Rackbeat sends a static per-webhook token instead of a signature, and no delivery id: its bodies only name
    a key to re-fetch, so a repeat is harmless and is not deduplicated here."""
    lower = {k.lower(): v for k, v in headers.items()}
    if not connection_lookup.connection_exists(deps.table, connection_id):
        return _refuse(404, f"no connection {connection_id}")
    stored = deps.secrets.get(connection_id, RACKBEAT_WEBHOOK_TOKENS)
    if not token_is_valid(lower.get("rackbeat-webhook-token"), json.loads(stored) if stored else []):
        return _refuse(401, "invalid webhook token")
    topic = lower.get("rackbeat-webhook-event", "").strip()
    if not topic:
        return _refuse(400, "missing header Rackbeat-Webhook-Event")
    parsed = _parse_object(raw_body)
    if isinstance(parsed, IngestAnswer):
        return parsed
    deps.enqueue(
        {
            "source": "rackbeat",
            "connection_id": connection_id,
            "event_id": str(uuid.uuid4()),
            "topic": topic,
            "received_at": events.received_stamp(),
            "payload": raw_body.decode(),
        }
    )
    return IngestAnswer(200, {"status": "queued"})
