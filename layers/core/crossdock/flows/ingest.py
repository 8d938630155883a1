"""Ingest: what must happen before a webhook is answered, and nothing more (DESIGN §1, SPEC §5 "Ingress").

Authenticate the sender, reject malformed input with a 4xx naming what is wrong, drop repeats, queue, answer.
No external system is called. How a system's deliveries are read and authenticated is its connector's
(`ports.WebhookSource`, found in `crossdock.registry`); this flow is the same for every system.

A delivery with an id is queued first and claimed for dedupe after: a process that dies in between leaves the
delivery unclaimed, so the sender's retry is queued again. Claiming first would answer that retry "duplicate" for
an event that never reached the queue — lost. The price is a rare second message for one delivery (also when two
copies arrive at once), which dispatch already absorbs: an order's workflow is named from the order, so a second
copy is `skipped`, never a second order in the target.

A signed body is still refused with a 4xx naming the problem when it cannot be read (not UTF-8, not JSON, nested too
deeply, not an object: `crossdock.bodies`) or is larger than ingest takes (`MAX_BODY_BYTES`). A body too large
for an SQS message is put in the payload bucket and the message carries its key (`store.claim_checks`); the
size is measured only for bodies that could be too large, so a normal webhook costs nothing more.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from crossdock import registry
from crossdock.bodies import UnreadableBody, json_object, utf8_text
from crossdock.ports import (
    AccountClaims,
    Delivery,
    DeliveryLog,
    IdentifiedByBody,
    ReadFromAddress,
    Refused,
    Secrets,
    UnknownAddress,
    WebhookSource,
)
from crossdock.store import events, keys
from crossdock.store.claim_checks import SQS_MESSAGE_LIMIT
from crossdock.store.connection_lookup import TableAccountClaims
from crossdock.store.deliveries import TableDeliveryLog

EnqueueEvent = Callable[[dict[str, Any]], None]
# Queues several messages at once (ten to a SendMessageBatch), all or an exception.
EnqueueEvents = Callable[[list[dict[str, Any]]], None]
# Stores a body too large for the queue (connection id, body) and returns its key.
CheckInBody = Callable[[str, str], str]

# The largest body ingest takes. A REST API hands Lambda at most 6 MB of event, and the body travels in it base64-
# encoded (template.yaml, BinaryMediaTypes): 4/3 of its size, next to the headers. Shopify's orders stay far below.
MAX_BODY_BYTES = 4 * 1024 * 1024
# JSON escaping grows a body at most sixfold per UTF-8 byte (a control byte becomes `\u00XX`; `ø`, two bytes, and
# an emoji, four, become 6 and 12): below this many bytes a body always fits one SQS message with its envelope, and
# its encoded size is not measured.
_ALWAYS_FITS = SQS_MESSAGE_LIMIT // 6 - 2048


@dataclass(frozen=True)
class IngestAnswer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class IngestDeps:
    table: Any
    secrets: Secrets
    enqueue: EnqueueEvent
    # Where connections and deliveries are looked up: the table's, unless others are handed in (unit tests).
    account_claims: AccountClaims | None = None
    delivery_log: DeliveryLog | None = None
    # Where a body too large for the queue goes (the payload bucket); None: such a body is refused with 413.
    check_in: CheckInBody | None = None
    # The messages of a delivery fanned out to an account's followers; None: one `enqueue` each.
    enqueue_all: EnqueueEvents | None = None
    # The stack's clock (`pacing.clock.time` in the function), which the stock pushes read too: `heard_at`.
    now: Callable[[], float] = time.time

    def enqueue_each(self, messages: list[dict[str, Any]]) -> None:
        if len(messages) > 1 and self.enqueue_all is not None:
            self.enqueue_all(messages)
            return
        for message in messages:
            self.enqueue(message)

    @property
    def claims(self) -> AccountClaims:
        return self.account_claims if self.account_claims is not None else TableAccountClaims(self.table)

    @property
    def deliveries(self) -> DeliveryLog:
        return self.delivery_log if self.delivery_log is not None else TableDeliveryLog(self.table)


# What a source can do, asked once per source: isinstance against a runtime-checkable Protocol walks the Protocol's
# members every time (about 20 µs a call here, two calls a webhook: bench/ingest_work.py).
@cache
def _reads_address(source_type: type) -> bool:
    return issubclass(source_type, ReadFromAddress)


@cache
def _identifies_by_body(source_type: type) -> bool:
    return issubclass(source_type, IdentifiedByBody)


def _refuse(status: int, message: str) -> IngestAnswer:
    return IngestAnswer(status, {"message": message})


def _readable_text(raw_body: bytes) -> tuple[str, dict[str, Any]] | IngestAnswer:
    """The body as text and as the JSON object it is known to be; else the 4xx that says why it is not one."""
    if len(raw_body) > MAX_BODY_BYTES:
        return _refuse(413, f"body is {len(raw_body)} bytes; ingest takes at most {MAX_BODY_BYTES}")
    try:
        text = utf8_text(raw_body)
        parsed = json_object(text)
    except UnreadableBody as unreadable:
        return _refuse(400, str(unreadable))
    return text, parsed


def _checked_body(
    source: WebhookSource, delivery: Delivery, raw_body: bytes
) -> tuple[str, dict[str, Any]] | IngestAnswer:
    """An authentic delivery checked complete (`WebhookSource.check`), then its body read (`_readable_text`);
    else the 400 or 413 that refuses it first — the same order for a connection's webhook and an account's."""
    try:
        source.check(delivery)
    except Refused as incomplete:
        return _refuse(400, str(incomplete))
    return _readable_text(raw_body)


def _fits_queue(message: dict[str, Any], body_bytes: int) -> bool:
    if body_bytes <= _ALWAYS_FITS:
        return True
    return len(json.dumps(message, separators=(",", ":"))) <= SQS_MESSAGE_LIMIT  # ASCII: its length is its size


def receive_webhook(
    source_name: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    deps: IngestDeps,
    *,
    kind: str | None = None,
    connection_id: str | None = None,
    address: Mapping[str, str] | None = None,
    webhook_account: str | None = None,
) -> IngestAnswer:
    """A delivery from `source_name` for the connection the address names (`connection_id`), or for the connection
    of `kind` that claims the account the delivery names, or for every follower of the account the address names
    (`webhook_account`, see `fan_out`). `address`: what else the address says (its other path parameters and its
    query), for a source that reads its deliveries from there (`ports.ReadFromAddress`)."""
    source = registry.webhook_source(source_name)
    if source is None:
        return _refuse(404, f"no webhook source {source_name}")
    if webhook_account is not None:
        return fan_out(source_name, source, headers, raw_body, deps, webhook_account)
    if kind is not None and kind not in registry.INTEGRATIONS:
        return _refuse(404, f"no connection kind {kind}")
    if connection_id is not None and not deps.claims.connection_exists(connection_id):
        return _refuse(404, f"no connection {connection_id}")
    try:
        if _reads_address(type(source)):
            delivery = cast(ReadFromAddress, source).read_address(headers, address or {})
        else:
            delivery = source.read(headers)
    except UnknownAddress as nowhere:
        return _refuse(404, str(nowhere))
    except Refused as unreadable:
        return _refuse(400, str(unreadable))
    if connection_id is None:
        if kind is None or delivery.account is None:
            return _refuse(404, f"{source_name} webhooks need an address that names the connection")
        connection_id = deps.claims.connection_for_account(kind, source_name, delivery.account)
        if connection_id is None:
            return _refuse(404, f"no connection for {source.account_name} {delivery.account}")
    secrets = [s for s in (deps.secrets.get(connection_id, name) for name in source.secret_names) if s]
    if not source.authentic(raw_body, delivery, secrets):
        return _refuse(401, source.refusal)
    readable = _checked_body(source, delivery, raw_body)
    if isinstance(readable, IngestAnswer):
        return readable
    body, parsed = readable
    if _identifies_by_body(type(source)):
        # A system without delivery ids in its headers names the delivery in its signed body (Webshipper's).
        try:
            delivery = cast(IdentifiedByBody, source).identify(parsed, delivery, connection_id)
        except Refused as unnamed:
            return _refuse(400, str(unnamed))
    if delivery.delivery_id and deps.deliveries.already_queued(source_name, delivery.delivery_id):
        return IngestAnswer(200, {"status": "duplicate"})
    message: dict[str, Any] = {
        "source": source_name,
        "connection_id": connection_id,
        "event_id": delivery.event_id or str(uuid.uuid4()),
        "topic": delivery.topic,
        "received_at": events.received_stamp(),
        "payload": body,
    }
    if not _fits_queue(message, len(raw_body)):
        if deps.check_in is None:
            return _refuse(413, f"body of {len(raw_body)} bytes does not fit a queued message")
        # Raises on failure like the queue below: the sender retries, nothing was queued or claimed.
        message["payload_ref"] = deps.check_in(connection_id, body)
        del message["payload"]
    deps.enqueue(message)  # raises on failure: the sender gets a 5xx and retries; nothing was claimed
    if delivery.delivery_id:
        deps.deliveries.claim(source_name, delivery.delivery_id, connection_id)
    return IngestAnswer(200, {"status": "queued"})


# `connections.model.ConnectionState.ACTIVE`, named here: ingest's cold start does without the models (pydantic).
_ACTIVE = "active"


def fan_out(
    source_name: str,
    source: WebhookSource,
    headers: Mapping[str, str],
    raw_body: bytes,
    deps: IngestDeps,
    account_key: str,
) -> IngestAnswer:
    """A delivery to an account's own webhook (one per account and event, issue 18): authenticated with the
    account's tokens (`keys.account_secrets_scope`), then queued once for each follower of the account that is
    active and wants the event — one message per connection, as a webhook of its own would have been, so dispatch,
    the event log and each connection's stock markers work as before. The followers come from one Query of the
    followers index; a delivery never reaches a connection of another account, since only this account's followers
    are in its partition. No follower at all is 404 (an unknown or forgotten address); followers that are paused or
    want other events are a 200 with nothing queued, which Rackbeat need not retry."""
    followers = deps.claims.followers(source_name, account_key)
    if not followers:
        return _refuse(404, f"no connection follows {source_name} account {account_key}")
    try:
        delivery = source.read(headers)
    except Refused as unreadable:
        return _refuse(400, str(unreadable))
    scope = keys.account_secrets_scope(source_name, account_key)
    secrets = [s for s in (deps.secrets.get(scope, name) for name in source.secret_names) if s]
    if not source.authentic(raw_body, delivery, secrets):
        # The account's tokens are shared: another follower may have registered an event (and its token) since
        # this container cached them, so they are read again once before the delivery is refused.
        secrets = [s for s in (deps.secrets.fresh(scope, name) for name in source.secret_names) if s]
        if not source.authentic(raw_body, delivery, secrets):
            return _refuse(401, source.refusal)
    readable = _checked_body(source, delivery, raw_body)
    if isinstance(readable, IngestAnswer):
        return readable
    body, _ = readable
    wanted = sorted(f.connection_id for f in followers if f.state == _ACTIVE and delivery.topic in f.events)
    if not wanted:
        return IngestAnswer(200, {"status": "no follower wants it"})
    shared: dict[str, Any] = {
        "source": source_name,
        "event_id": delivery.event_id or str(uuid.uuid4()),
        "topic": delivery.topic,
        "received_at": events.received_stamp(),
        # What the change the delivery reports came before: the followers' pushes may share a read that started
        # after it (`store.stock`), however late each follower's message is dispatched.
        "heard_at": round(deps.now(), 3),
        "payload": body,
    }
    if not _fits_queue({**shared, "connection_id": wanted[0]}, len(raw_body)):
        if deps.check_in is None:
            return _refuse(413, f"body of {len(raw_body)} bytes does not fit a queued message")
        shared["payload_ref"] = deps.check_in(wanted[0], body)  # one copy: every follower's message names it
        del shared["payload"]
    # Raises on failure: the sender gets a 5xx and retries; followers already queued then get it twice, which
    # dispatch absorbs (Rackbeat's bodies only name an item to read again).
    deps.enqueue_each([{**shared, "connection_id": connection_id} for connection_id in wanted])
    return IngestAnswer(200, {"status": "queued", "followers": len(wanted)})
