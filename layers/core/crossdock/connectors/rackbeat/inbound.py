"""Rackbeat as a webhook source for ingest (`ports.WebhookSource`). Rackbeat sends a static per-webhook token
instead of a signature, and no delivery id: its bodies only name a key to re-fetch, so a repeat is harmless and is
not deduplicated. Its webhook address names the connection (`/webhooks/rackbeat/{connection_id}`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.rackbeat.webhooks import token_is_valid
from crossdock.ports import Delivery, Refused


@lru_cache(maxsize=256)
def _tokens(stored: str) -> tuple[str, ...]:
    """The tokens of one stored secret, parsed once per container and secret (not on every webhook)."""
    return tuple(json.loads(stored))


class RackbeatWebhooks:
    secret_names = (RACKBEAT_WEBHOOK_TOKENS,)
    account_name = "account"
    refusal = "invalid webhook token"

    def read(self, headers: Mapping[str, str]) -> Delivery:
        lower = {k.lower(): v for k, v in headers.items()}
        return Delivery(
            topic=lower.get("rackbeat-webhook-event", "").strip(),
            delivery_id=None,
            account=None,
            credential=lower.get("rackbeat-webhook-token"),
        )

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool:
        # The secret is a JSON list: Rackbeat issues one token per webhook.
        tokens = [token for stored in secrets for token in _tokens(stored)]
        return token_is_valid(delivery.credential, tokens)

    def check(self, delivery: Delivery) -> None:
        if not delivery.topic:
            raise Refused("missing header Rackbeat-Webhook-Event")


SOURCE = RackbeatWebhooks()
