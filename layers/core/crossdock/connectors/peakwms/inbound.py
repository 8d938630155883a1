"""PeakWMS as a webhook source for ingest (`ports.WebhookSource`, reference/peakwms.md "Webhooks").

A delivery is a `POST` of the bare data object: no event name, no signature, no delivery id [seen P1, P2]. So each
event is registered on an address of its own that also names the connection and carries the connection's webhook
key: `/webhooks/peakwms/{connection_id}/{event}?key=<key>` (`ports.ReadFromAddress`). The event is a name from
`EVENTS` (an unknown one is 404: no such address); the key is compared in constant time with the connection's
`WEBHOOK_KEY` secret (wrong or missing: 401, nothing queued). The queued event's topic is `peakwms/<name>`.

Repeats (PeakWMS retries [guess: at least once]) are queued once: the delivery id is sha256 of the event, the
subject (`orderId`, `productId:variantId` or `stockItemId`) and the body as canonical JSON (keys sorted, no
whitespace), so a repeat that PeakWMS serialises differently is still the same delivery. Two identical bodies of
one event within ingest's dedupe window are one delivery: a second identical event (a second refund of the same
amount and lines) is not told apart (docs/known-limits.md).
Kept free of pydantic and httpx: ingest imports it on its cold start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY
from crossdock.connectors.peakwms.webhook_events import EVENTS, TOPIC_PREFIX, topic
from crossdock.ports import Delivery, UnknownAddress

EVENT = "event"  # the path parameter naming the event
KEY = "key"  # the query parameter carrying the connection's webhook key
SUBJECT_LIMIT = 100  # of the subject in the event's id (the body's hash is the part that tells deliveries apart)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _id_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    shown = str(value).strip()
    if not shown.isascii() and _has_lone_surrogate(shown):
        return None  # a JSON `\ud800` escape is no id: it would not even encode as the event's id
    return shown or None


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def subject(body: Mapping[str, Any]) -> str:
    """What the delivery is about: the order, else the product variant, else the stock item, else the purchase
    order [guess: 103's id field]; "" when the body names none (the body's hash still tells deliveries apart)."""
    order = _id_text(body.get("orderId"))
    if order:
        return order
    product = _id_text(body.get("productId"))
    if product:
        variant = _id_text(body.get("variantId"))
        return f"{product}:{variant}" if variant else product
    for name in ("stockItemId", "purchaseOrderId", "id"):
        found = _id_text(body.get(name))
        if found:
            return found
    return ""


class PeakwmsWebhooks:
    secret_names: tuple[str, ...] = (WEBHOOK_KEY,)
    account_name: str = "PeakWMS customer"
    refusal: str = "invalid or missing webhook key"

    def read(self, headers: Mapping[str, str]) -> Delivery:
        # Reached only through an address without the event: PeakWMS's headers name nothing.
        raise UnknownAddress("a PeakWMS webhook address names its event: /webhooks/peakwms/<connection>/<event>")

    def read_address(self, headers: Mapping[str, str], address: Mapping[str, str]) -> Delivery:
        name = (address.get(EVENT) or "").strip()
        if name not in EVENTS:
            raise UnknownAddress(f"no PeakWMS event {name[:40]!r}: one of {', '.join(EVENTS)}")
        return Delivery(topic=topic(name), delivery_id=None, account=None, credential=address.get(KEY) or None)

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool:
        if not delivery.credential:
            return False
        offered = _digest(delivery.credential)
        # Constant time whatever the lengths (digests of equal size), against every key the connection holds.
        return any(hmac.compare_digest(_digest(secret), offered) for secret in secrets)

    def check(self, delivery: Delivery) -> None:
        return None  # the address said everything there is (`read_address`)

    def identify(self, body: Mapping[str, Any], delivery: Delivery, connection_id: str) -> Delivery:
        name = delivery.topic.removeprefix(TOPIC_PREFIX)
        about = subject(body)[:SUBJECT_LIMIT]
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        # surrogatepass: a body may carry a lone surrogate as a JSON escape (`"\ud800"`), valid JSON that plain UTF-8
        # cannot encode; the hash must still tell deliveries apart, never fail (the ingress fuzz found a 502 here).
        digest = hashlib.sha256(f"{name}\n{about}\n{canonical}".encode("utf-8", "surrogatepass")).hexdigest()
        event = f"{name}:{about}:{digest[:32]}" if about else f"{name}:{digest[:32]}"
        return Delivery(
            topic=delivery.topic,
            delivery_id=f"{connection_id}:{name}:{digest}",
            account=None,
            credential=delivery.credential,
            event_id=event,
        )


SOURCE = PeakwmsWebhooks()
