"""Webhook registrations in PeakWMS (reference/peakwms.md "Webhooks"): one address per event, each carrying the
connection's webhook key (`inbound`). [seen P1] `POST /webhook {"name": <event int>, "url"}` → `{id, name, url}`,
`DELETE /webhook/{id}`; [guess] `GET /webhook` lists them (P1 uses no list; the simulator offers it).
Sending must also be switched on per message in PeakWMS's UI [seen P2]: nothing here can do that.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsNotFound, PeakwmsRejected
from crossdock.connectors.peakwms.webhook_events import event_number
from crossdock.connectors.peakwms.wire import rows, text, text_id


def _registration(record: Any) -> dict[str, Any]:
    """`{id, name, url}` with `id` as text and `name` as the event's int ([guess] a vendor name is read too)."""
    found = record if isinstance(record, dict) else {}
    return {"id": text_id(found.get("id")), "name": event_number(found.get("name")), "url": text(found.get("url"))}


def register_webhook(client: PeakwmsClient, event: int, url: str) -> dict[str, Any]:
    return _registration(client.post("webhook", {"name": event, "url": url}))


def list_webhooks(client: PeakwmsClient) -> list[dict[str, Any]] | None:
    """The registrations, or None when PeakWMS offers no list ([guess]: 404 or 405): the caller then goes by the
    registrations it stored itself."""
    try:
        answer = client.get("webhook")
    except PeakwmsRejected as refused:
        if refused.status in (404, 405):
            return None
        raise
    return [hook for hook in (_registration(record) for record in rows(answer)) if hook["id"]]


def delete_webhook(client: PeakwmsClient, webhook_id: str) -> bool:
    """Removes the registration; False when it was gone already (a repeat of the same clean-up)."""
    try:
        client.delete(f"webhook/{webhook_id}")
    except PeakwmsNotFound:
        return False
    return True
