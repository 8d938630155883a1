"""Webshipper as a webhook source for ingest (`ports.WebhookSource`, reference/webshipper.md "Webhooks").

A delivery [seen W3] is a `POST` of the resource's JSON:API document with `X-Webshipper-Topic` and
`X-Webshipper-Hmac-Sha256` = base64(HMAC-SHA256(webhook secret, raw body)) [seen W7, W8]; it names no account, so
its address names the connection (`/webhooks/webshipper/{connection_id}`). A bad signature is 401 (the sheet's
clients answer 403; ingest answers every unauthenticated delivery 401, and Webshipper retries either way [guess]).

Webshipper sends no delivery id, so the id is made from the signed body (`ports.IdentifiedByBody`): the topic, the
resource's `data.id` and its `attributes.updated_at`. A retry of one change carries the same three and is queued
once; a new change of the same order has a new `updated_at` and is queued. A body without `updated_at` is queued
every time it comes (nothing tells its repeats apart) — its handler re-reads the resource anyway.
Kept free of pydantic and httpx: ingest imports it on its cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET
from crossdock.ports import Delivery, Refused

TOPIC_HEADER = "x-webshipper-topic"
SIGNATURE_HEADER = "x-webshipper-hmac-sha256"


def signature(secret: str, raw_body: bytes) -> str:
    """What Webshipper puts in `X-Webshipper-Hmac-Sha256` for `raw_body`."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


class WebshipperWebhooks:
    secret_names: tuple[str, ...] = (WEBHOOK_SECRET,)
    account_name: str = "account"
    refusal: str = "invalid webhook signature"

    def read(self, headers: Mapping[str, str]) -> Delivery:
        lower = {k.lower(): v for k, v in headers.items()}
        return Delivery(
            topic=lower.get(TOPIC_HEADER, "").strip(),
            delivery_id=None,  # made from the body by `identify`
            account=None,
            credential=lower.get(SIGNATURE_HEADER, "").strip() or None,
        )

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool:
        if not delivery.credential:
            return False
        offered = delivery.credential.encode()
        # Constant time, against every secret the connection holds (compare_digest on equal-type bytes).
        return any(hmac.compare_digest(signature(secret, raw_body).encode(), offered) for secret in secrets)

    def check(self, delivery: Delivery) -> None:
        if not delivery.topic:
            raise Refused("missing header X-Webshipper-Topic")

    def identify(self, body: Mapping[str, Any], delivery: Delivery, connection_id: str) -> Delivery:
        """The delivery with an id from the signed body: (topic, data.id, attributes.updated_at), scoped to the
        connection (Webshipper's ids are per account)."""
        data = body.get("data")
        if not isinstance(data, dict):
            raise Refused("body has no data: a Webshipper webhook carries the resource's JSON:API document")
        raw_id = data.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
            raise Refused("body has no data.id")
        attributes = data.get("attributes")
        updated_at = attributes.get("updated_at") if isinstance(attributes, dict) else None
        if not isinstance(updated_at, str) or not updated_at.strip():
            return delivery  # nothing to tell a repeat by: queued each time (see the module's docstring)
        event = f"{delivery.topic}:{str(raw_id).strip()}:{updated_at.strip()}"
        return Delivery(
            topic=delivery.topic,
            delivery_id=f"{connection_id}:{event}",
            account=delivery.account,
            credential=delivery.credential,
            event_id=event,
        )


SOURCE = WebshipperWebhooks()
