"""Rackbeat's webhooks: the subscriptions (`/webhooks`: event + URL, upserted, each with its own static token)
and their delivery.

A delivery is the minimal body `{"key_name": ..., "key": ...}` with the subscription's token in
`Rackbeat-Webhook-Token` (fact sheet). Changes are queued while a request is handled under the simulator's lock and
sent after it is released (`Outbox.flush`), so a sink that calls back into the simulator can re-fetch the resource
without deadlocking. A refused delivery is kept for `redeliver` (Rackbeat retries for about a day).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, WebhookSink, json_response
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, WebhookDelivery
from crossdock_local.sims.rackbeat.wire import (
    TOKEN_ALPHABET,
    body_of,
    integer,
    not_found,
    now,
    raise_if,
    render,
    truthy,
)

WEBHOOK_FILTERS = frozenset({"event", "url", "is_active"})


def _list_webhooks(session: Session, request: SimRequest) -> SimResponse:
    rows = [session.account.webhooks[i] for i in sorted(session.account.webhooks)]
    event = request.arg("event")
    if event:
        rows = [row for row in rows if row["event"] == event]
    return page_response(request, "webhooks", rows, render, WEBHOOK_FILTERS, ("event", "url"))


def _create_webhook(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    errors: Errors = {}
    event, url = body.get("event"), body.get("url")
    if not isinstance(event, str) or not re.fullmatch(r"[a-z_]+\.[a-z_]+", event):
        errors["event"] = ["The event field is required and must be a dotted event name."]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        errors["url"] = ["The url must be a valid URL."]
    raise_if(errors)
    active = truthy(body.get("is_active", True))
    for hook in session.account.webhooks.values():
        if hook["event"] == event and hook["url"] == url:
            hook["is_active"] = active
            return json_response(200, {"webhook": render(hook)})  # upsert: no token (guess: 200 not 201)
    token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(32))
    hook = {
        "id": session.next_id("webhook"),
        "event": event,
        "url": url,
        "is_active": active,
        "created_at": now(),
        "_token": token,
    }
    session.account.webhooks[hook["id"]] = hook
    return json_response(201, {"webhook": {**render(hook), "token": token}})


def _delete_webhook(session: Session, request: SimRequest, webhook_id: str) -> SimResponse:
    if session.account.webhooks.pop(integer(webhook_id) or 0, None) is None:
        raise not_found()
    return SimResponse(204)  # guess: empty 204


ROUTES: list[Route] = [
    ("GET", "/webhooks", _list_webhooks),
    ("POST", "/webhooks", _create_webhook),
    ("DELETE", "/webhooks/{webhook_id}", _delete_webhook),
]


class Outbox:
    """The simulator's webhook calls: queued by `announce`, sent by `flush` to the sink (or kept in `sent` when
    there is none); `failed` holds what the sink refused (non-2xx or raised)."""

    def __init__(self, lock: threading.RLock, sink: WebhookSink | None) -> None:
        self.sink = sink
        self.sent: list[WebhookDelivery] = []  # deliveries when no sink is set
        self.failed: list[WebhookDelivery] = []
        self._lock = lock
        self._pending: list[WebhookDelivery] = []

    def announce(self, account: AccountState, event: str, key: Any, key_name: str) -> None:
        """Queue a delivery to every active webhook of `account` subscribed to `event` (the caller holds the lock)."""
        body = json.dumps({"key_name": key_name, "key": str(key)}).encode()
        for hook in account.webhooks.values():
            if hook["event"] != event or not hook["is_active"]:
                continue
            headers = {
                "Rackbeat-Webhook-Token": hook["_token"],
                "Rackbeat-Webhook-Event": event,
                "Rackbeat-Account-Id": str(account.id),
                "User-Agent": "Rackbeat Webhook",
                "Content-Type": "application/json",
            }
            self._pending.append(WebhookDelivery(hook["url"], headers, body))

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for delivery in pending:
            self._deliver(delivery)

    def redeliver(self) -> int:
        """Retry the refused deliveries; returns how many now failed."""
        with self._lock:
            retry, self.failed = self.failed, []
        for delivery in retry:
            self._deliver(delivery)
        return len(self.failed)

    def _deliver(self, delivery: WebhookDelivery) -> None:
        if self.sink is None:
            with self._lock:
                self.sent.append(delivery)
            return
        try:
            delivery.status = self.sink(delivery.url, dict(delivery.headers), delivery.body)
        except Exception:  # noqa: BLE001 - a failing receiver must not break the API call that triggered it
            delivery.status = 0
        if not 200 <= delivery.status < 300:
            with self._lock:
                self.failed.append(delivery)
