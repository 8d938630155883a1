"""Webhooks: registration (`/webhooks`, `/webhook_failures`, doc W1) and delivery as seen live (W3).

One topic a webhook; `enabled=false` stops delivery. Delivery: `POST` of the resource's full JSON:API document,
`X-Webshipper-Topic`, `X-Webshipper-Hmac-Sha256` = base64(HMAC-SHA256(webhook secret, raw body)) (seen W7, W8),
`User-Agent: Webshipper`, `Content-Type: application/vnd.api+json;charset=utf-8`; no delivery id (receivers dedupe
on topic, `data.id` and `attributes.updated_at`). The signature is made at send time, so a changed secret shows on
retries. Guess: a refused delivery is retried up to `MAX_ATTEMPTS` attempts in all (one a `deliver()` call), then a
`webhook_failures` row (`record_id`, `message`) is written and the webhook's `health` turns `failing`. The shared
outbox adds the duplicates, reordering, delays and losses of the `webhook_*` fault switches. Guess: `condition`
(narrowing to channels or carriers) is stored and shown but not applied. The secret is never shown.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox, sign_base64
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record, WebshipperState
from crossdock_local.sims.webshipper.views import document
from crossdock_local.sims.webshipper.wire import (
    choice,
    flag,
    id_param,
    invalid,
    jsonapi,
    not_found,
    resource_of,
    text,
)

TOPICS = tuple(
    f"{resource}/{change}"
    for resource in ("order", "shipment", "return", "report", "trackingevent")
    for change in ("created", "updated", "deleted")
)
FILTERS: Filterable = {"id": by_id("_id"), "topic": by_text("topic")}
CONTENT_TYPE = "application/vnd.api+json;charset=utf-8"
MAX_ATTEMPTS = 6
SECRET = "secret"  # taken out of the attributes into `AccountState.webhook_secrets`


def _attributes(attributes: Record, current: Record | None) -> Record:
    creating = current is None
    chosen: Record = {}
    if creating or "url" in attributes:
        url = text(attributes.get("url"), "/data/attributes/url", required=True, max_length=2000) or ""
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise invalid("/data/attributes/url", "must be an http(s) URL")
        chosen["url"] = url
    if creating or "topic" in attributes:
        topic = choice(attributes.get("topic"), "/data/attributes/topic", TOPICS)
        if topic is None:
            raise invalid("/data/attributes/topic", "is required")
        chosen["topic"] = topic
    if "enabled" in attributes:
        chosen["enabled"] = bool(flag(attributes["enabled"], "/data/attributes/enabled"))
    if creating or "secret" in attributes:
        chosen[SECRET] = text(attributes.get("secret"), "/data/attributes/secret", max_length=500) or ""
    if "condition" in attributes:
        if attributes["condition"] is not None and not isinstance(attributes["condition"], dict):
            raise invalid("/data/attributes/condition", "must be an object")
        chosen["condition"] = attributes["condition"]
    return chosen


def register(session: Session, request: SimRequest) -> SimResponse:
    attributes, _ = resource_of(request, "webhooks")
    chosen = _attributes(attributes, None)
    secret = chosen.pop(SECRET)
    record: Record = {
        "_id": session.account.next_id("webhooks"),
        "enabled": True,
        "condition": None,
        "health": "healthy",
        "latest_error": None,
        **chosen,
    }
    session.account.of("webhooks")[record["_id"]] = record
    session.account.webhook_secrets[record["_id"]] = secret
    return jsonapi(201, document(session, "webhooks", record))


def webhook(session: Session, raw: str) -> Record:
    found = session.account.of("webhooks").get(id_param(raw, "webhooks"))
    if found is None:
        raise not_found("webhooks", raw)
    return found


def list_webhooks(session: Session, request: SimRequest) -> SimResponse:
    return listing(session, request, "webhooks", list(session.account.of("webhooks").values()), FILTERS)


def show_webhook(session: Session, request: SimRequest, id: str) -> SimResponse:
    return jsonapi(200, document(session, "webhooks", webhook(session, id)))


def patch_webhook(session: Session, request: SimRequest, id: str) -> SimResponse:
    record = webhook(session, id)
    attributes, _ = resource_of(request, "webhooks")
    chosen = _attributes(attributes, record)
    if SECRET in chosen:
        session.account.webhook_secrets[record["_id"]] = chosen.pop(SECRET)
    record.update(chosen)
    return jsonapi(200, document(session, "webhooks", record))


def delete_webhook(session: Session, request: SimRequest, id: str) -> SimResponse:
    gone = webhook(session, id)["_id"]
    del session.account.of("webhooks")[gone]
    session.account.webhook_secrets.pop(gone, None)
    return jsonapi(204, None)


def list_failures(session: Session, request: SimRequest) -> SimResponse:
    rows = session.account.webhook_failures
    return listing(session, request, "webhook_failures", rows, {"id": by_id("_id"), "webhook_id": by_id("_webhook")})


def queue(outbox: WebhookOutbox[Delivery], session: Session, topic: str, kind: str, record: Record) -> int:
    """One delivery per enabled webhook of `topic`, its body the resource as it is now; returns how many."""
    hooks = [h for h in session.account.of("webhooks").values() if h["topic"] == topic and h["enabled"]]
    if not hooks:
        return 0
    # Seen W3: the body is the resource's document; Guess: its `meta` is empty (the capture's meta is not kept).
    body = json.dumps({**document(session, kind, record), "meta": {}}).encode()
    event = f"{session.account_name}:{topic}:{record['_id']}:{record.get('updated_at')}"
    for hook in hooks:
        outbox.queue(
            Delivery(
                delivery_id=f"{event}@{hook['_id']}",
                event_id=event,
                tenant=session.account.name,
                subscription=str(hook["_id"]),
                topic=topic,
                url=hook["url"],
                body=body,
                facts={"record_id": str(record["_id"])},
            )
        )
    return len(hooks)


def headers(state: WebshipperState, delivery: Delivery) -> dict[str, str]:
    account = state.accounts.get(delivery.tenant)
    # Signed at send time with the webhook's secret as it is now; a webhook deleted meanwhile signs with nothing.
    secret = account.webhook_secrets.get(int(delivery.subscription), "") if account else ""
    return {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": "Webshipper",
        "X-Webshipper-Topic": delivery.topic,
        "X-Webshipper-Hmac-Sha256": sign_base64(secret, delivery.body),
    }


def give_up(state: WebshipperState, delivery: Delivery, message: str) -> None:
    """The last attempt failed: a `webhook_failures` row, and the webhook reports itself failing."""
    account = state.accounts.get(delivery.tenant)
    if account is None:
        return
    hook = account.of("webhooks").get(int(delivery.subscription))
    if hook is not None:
        hook["health"] = "failing"
        hook["latest_error"] = message
    account.webhook_failures.append(
        {
            "_id": account.next_id("webhook_failures"),
            "_webhook": int(delivery.subscription),
            "record_id": delivery.facts.get("record_id"),
            "topic": delivery.topic,
            "message": message,
        }
    )


ROUTES: tuple[Route, ...] = (
    ("POST", "/webhooks", register, "token"),
    ("GET", "/webhooks", list_webhooks, "token"),
    ("GET", "/webhooks/{id}", show_webhook, "token"),
    ("PATCH", "/webhooks/{id}", patch_webhook, "token"),
    ("DELETE", "/webhooks/{id}", delete_webhook, "token"),
    ("GET", "/webhook_failures", list_failures, "token"),
)
