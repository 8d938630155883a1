"""Webhook registrations in Webshipper (reference/webshipper.md "Webhooks"): one topic each, signed with the
connection's secret [doc W1]. The install registers `TOPICS`; the self-check lists and re-creates them."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.webshipper.client import WebshipperClient, WebshipperNotFound
from crossdock.connectors.webshipper.wire import text_id

ORDER_CREATED = "order/created"
ORDER_UPDATED = "order/updated"
SHIPMENT_CREATED = "shipment/created"
TOPICS = (ORDER_CREATED, ORDER_UPDATED, SHIPMENT_CREATED)


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str | None
    topic: str | None
    enabled: bool
    health: str | None  # doc W1 names it; [guess] values `healthy`/`failing`
    latest_error: str | None


def _webhook(resource: dict[str, object]) -> Webhook:
    attributes = resource.get("attributes")
    shown = attributes if isinstance(attributes, dict) else {}

    def text(name: str) -> str | None:
        value = shown.get(name)
        return value if isinstance(value, str) and value else None

    return Webhook(
        id=text_id(resource.get("id")) or "",
        url=text("url"),
        topic=text("topic"),
        enabled=shown.get("enabled") is not False,  # [guess] missing means on, as a new webhook is
        health=text("health"),
        latest_error=text("latest_error"),
    )


def list_webhooks(client: WebshipperClient) -> list[Webhook]:
    return [hook for hook in (_webhook(r) for r in client.pages("webhooks")) if hook.id]


def register_webhook(client: WebshipperClient, url: str, topic: str, secret: str) -> Webhook:
    """A new webhook for `topic` to `url`, signed with `secret` (never shown back [doc W1])."""
    document = {
        "data": {"type": "webhooks", "attributes": {"url": url, "topic": topic, "enabled": True, "secret": secret}}
    }
    return _webhook(client.post("webhooks", document).get("data") or {})


def delete_webhook(client: WebshipperClient, webhook_id: str) -> bool:
    """Removes the webhook; False when it was gone already (a repeat of the same clean-up)."""
    try:
        client.delete(f"webhooks/{webhook_id}")
    except WebshipperNotFound:
        return False
    return True
