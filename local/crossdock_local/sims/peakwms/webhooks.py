"""Webhooks: registration (`POST /webhook {"name": <event int>, "url"}` → `{id, name, url}`, `DELETE /webhook/{id}`,
seen P1; guess, rules.webhook_list: `GET /webhook`) and delivery.

Delivery (seen P1, P2): a POST of the bare data object as JSON — no event name, no signature header, no delivery
id — to every URL registered for the event, and only while the customer's sending of that message is switched on
(seen P2: switched on per message in PeakWMS's UI; `set_sending`). The receiver tells events apart by its URL.
Guess (rules.webhook_attempts): 3 retries after the first attempt (one a `deliver()` call), then given up; the
shared outbox adds the duplicates, reordering, delays and losses of the `webhook_*` fault switches, and
rules.stale_stock_replay_rate re-sends an older 100 of the same stock item after the newest one.
"""

from __future__ import annotations

import json
import random
from urllib.parse import urlsplit

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import Record
from crossdock_local.sims.peakwms.wire import invalid, not_found, object_body, render, text

# Doc P1: the twelve events.
EVENTS = {
    100: "StockAdjust",
    101: "EanUpdates",
    102: "PickOrderPacked",
    103: "InboundOrderClosed",
    104: "OrderRefunded",
    105: "ProductCreateUpdate",
    106: "FulfillmentNotPossible",
    107: "InboundDeliveryClosed",
    108: "OrderSendAgain",
    109: "OrderStateChanged",
    110: "PickOrderPicked",
    111: "ExpectedDeliveryChanged",
}
STOCK_ADJUST = 100


def register(session: Session, request: SimRequest) -> SimResponse:
    body = object_body(request)
    event = body.get("name")
    if isinstance(event, str) and event.isdigit():
        event = int(event)  # guess: a lenient binder reads "100" as 100
    if isinstance(event, bool) or event not in EVENTS:
        raise invalid("name", f"must be one of the event numbers {min(EVENTS)}–{max(EVENTS)}")
    url = text(body.get("url"), "url", required=True, max_length=2000) or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("url", "must be an http(s) URL")
    record: Record = {"id": session.customer.next_id("webhooks"), "name": event, "url": url}
    session.customer.of("webhooks")[record["id"]] = record
    return json_response(200, render(record))


def list_webhooks(session: Session, request: SimRequest) -> SimResponse:
    if not session.rules.webhook_list:
        return json_response(405, {"message": "Method not allowed"})
    rows = sorted(session.customer.of("webhooks").values(), key=lambda r: int(r["id"]))
    return json_response(200, [render(r) for r in rows])


def delete_webhook(session: Session, request: SimRequest, id: str) -> SimResponse:
    hooks = session.customer.of("webhooks")
    if not id.isdigit() or int(id) not in hooks:
        raise not_found("webhook", id)
    del hooks[int(id)]
    return SimResponse(204)


def sending(session: Session, event: int) -> bool:
    return session.customer.sending.get(event, session.rules.sending_default)


def queue(outbox: WebhookOutbox[Delivery], session: Session, event: int, body: Record, subject: str) -> int:
    """One delivery per URL registered for `event` while its sending is on; returns how many were queued."""
    customer = session.customer
    hooks = sorted((h for h in customer.of("webhooks").values() if h["name"] == event), key=lambda h: int(h["id"]))
    if not hooks or not sending(session, event):
        return 0
    raw = json.dumps(body, separators=(",", ":")).encode()
    serial = customer.next_id("deliveries")
    stale = _stale(session, outbox.rng, event, subject, raw)
    for hook in hooks:
        for number, payload in enumerate((raw, *stale)):
            event_id = f"{customer.name}:{event}:{subject}:{serial}" + (f":stale{number}" if number else "")
            outbox.queue(
                Delivery(
                    delivery_id=f"{event_id}@{hook['id']}",
                    event_id=event_id,
                    tenant=customer.name,
                    subscription=str(hook["id"]),
                    topic=str(event),
                    url=hook["url"],
                    body=payload,
                    facts={"subject": subject},
                )
            )
    return len(hooks)


def _stale(session: Session, rng: random.Random, event: int, subject: str, raw: bytes) -> tuple[bytes, ...]:
    """The older 100 of the same stock item to re-send after this one, when the stale-replay rule rolls."""
    if event != STOCK_ADJUST or not subject.isdigit():
        return ()
    history = session.customer.stock_webhooks.setdefault(int(subject), [])
    older = history[-1] if history else None
    history.append(raw)
    del history[:-2]
    rate = session.rules.stale_stock_replay_rate
    if older is None or rate <= 0 or rng.random() >= rate:
        return ()
    return (older,)


def headers(delivery: Delivery) -> dict[str, str]:
    # Seen P1/P2: no signature and no event header; only what any JSON POST carries.
    return {"Content-Type": "application/json", "User-Agent": "PeakWMS-Webhook"}


ROUTES: tuple[Route, ...] = (
    ("POST", "/webhook", register),
    ("GET", "/webhook", list_webhooks),
    ("DELETE", "/webhook/{id}", delete_webhook),
)
