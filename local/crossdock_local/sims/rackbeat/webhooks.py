"""Rackbeat's webhooks: the subscriptions (`/webhooks`: event + URL, upserted, each with its own static token)
and their delivery.

A delivery is the minimal body `{"key_name": ..., "key": ...}` with the subscription's token in
`Rackbeat-Webhook-Token` (fact sheet). `Deliveries` puts them on the shared base's `WebhookOutbox`: queued while a
request is handled under the simulator's lock, sent only when the outbox is asked to deliver — after the call that
caused them has answered, and without the lock, so a receiver may call back and re-fetch the resource (a Lambda
calling Rackbeat must not wait on its own webhook) — and retried when refused (Rackbeat retries for about a day).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, WebhookSink, json_response
from crossdock_local.sims.base.webhooks import WebhookOutbox
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, RackbeatDelivery
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


# guess: the fact sheet says Rackbeat retries "with backoff for about 24 h" but not how often; ten attempts stand for
# that day (a run of the stack is far shorter than it), after which the delivery is dropped.
MAX_DELIVERY_ATTEMPTS = 10


@dataclass
class DeliveryRules:
    """What the fact sheet leaves open about Rackbeat's delivery, settable because each is a guess.

    `max_attempts`: the first attempt and the retries of a refused delivery (None: retried for ever).
    `content_type`: the `Content-Type` sent with the JSON body (the fact sheet lists no such header; None sends none).
    """

    max_attempts: int | None = MAX_DELIVERY_ATTEMPTS
    content_type: str | None = "application/json"  # guess: a JSON body, labelled as one


class Deliveries:
    """Rackbeat's webhook calls on the shared base's outbox (`outbox`): `announce` queues one delivery per active
    subscription to the event while a request is handled (under the simulator's lock, which `lock` is); the outbox
    sends them when asked, after the call that caused them has answered, and retries a refused one (non-2xx or
    raised) on each later `deliver()` until `rules.max_attempts`. Guess: then the delivery is dropped (kept in
    `given_up`) and the subscription stays, as nothing says Rackbeat switches it off.

    Rackbeat sends no delivery or event id (the fact sheet lists none). The ids here are the simulator's own, so its
    log and a duplicate's identity can be told apart: the event `<account>-<n>` (one series for the simulator), the
    delivery `<event>/<webhook id>`, a duplicate's `…#2`."""

    def __init__(
        self,
        lock: threading.RLock,
        sink: WebhookSink | None,
        rules: DeliveryRules,
        seed: int | str | None = None,
    ) -> None:
        self.rules = rules
        self.outbox: WebhookOutbox[RackbeatDelivery] = WebhookOutbox(
            sink, self.headers, max_attempts=rules.max_attempts, on_give_up=self._give_up, seed=seed
        )
        self.given_up: list[RackbeatDelivery] = []
        self._lock = lock
        self._events = 0

    def announce(self, account: AccountState, event: str, key: Any, key_name: str) -> None:
        """Queue a delivery to every active webhook of `account` subscribed to `event` (the caller holds the lock)."""
        self._events += 1
        event_id = f"{account.id}-{self._events}"
        body = json.dumps({"key_name": key_name, "key": str(key)}).encode()
        for hook in account.webhooks.values():
            if hook["event"] != event or not hook["is_active"]:
                continue
            self.outbox.queue(
                RackbeatDelivery(
                    delivery_id=f"{event_id}/{hook['id']}",
                    event_id=event_id,
                    tenant=str(account.id),
                    subscription=str(hook["id"]),
                    topic=event,
                    url=hook["url"],
                    body=body,
                    token=hook["_token"],
                )
            )

    def headers(self, delivery: RackbeatDelivery) -> dict[str, str]:
        """The fact sheet's delivery headers: the static token (there is no HMAC), the event, the account."""
        headers = {
            "Rackbeat-Webhook-Token": delivery.token,
            "Rackbeat-Webhook-Event": delivery.event,
            "Rackbeat-Account-Id": delivery.tenant,
            "User-Agent": "Rackbeat Webhook",
        }
        if self.rules.content_type is not None:
            headers["Content-Type"] = self.rules.content_type
        return headers

    def _give_up(self, delivery: RackbeatDelivery) -> None:
        # Called by the outbox without its lock; `given_up` is read under the simulator's.
        with self._lock:
            self.given_up.append(delivery)
