"""Ingest: what must happen before a webhook is answered, and nothing more (DESIGN §1, SPEC §5 "Ingress").

Authenticate the sender, reject malformed input with a 4xx naming what is wrong, drop repeats, queue, answer.
No external system is called. How a system's deliveries are read and authenticated is its connector's
(`ports.WebhookSource`, found in `crossdock.registry`); this flow is the same for every system.

A delivery with an id is queued first and claimed for dedupe after: a process that dies in between leaves the
delivery unclaimed, so the sender's retry is queued again. Claiming first would answer that retry "duplicate" for
an event that never reached the queue — lost. The price is a rare second message for one delivery (also when two
copies arrive at once), which dispatch already absorbs: an order's workflow is named from the order, so a second
copy is `skipped`, never a second order in the target.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossdock import registry
from crossdock.ports import AccountClaims, DeliveryLog, Refused, Secrets
from crossdock.store import events
from crossdock.store.connection_lookup import TableAccountClaims
from crossdock.store.deliveries import TableDeliveryLog

EnqueueEvent = Callable[[dict[str, Any]], None]


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

    @property
    def claims(self) -> AccountClaims:
        return self.account_claims if self.account_claims is not None else TableAccountClaims(self.table)

    @property
    def deliveries(self) -> DeliveryLog:
        return self.delivery_log if self.delivery_log is not None else TableDeliveryLog(self.table)


def _refuse(status: int, message: str) -> IngestAnswer:
    return IngestAnswer(status, {"message": message})


def _parse_object(raw_body: bytes) -> dict[str, Any] | IngestAnswer:
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as garbled:
        return _refuse(400, f"body is not valid JSON: {garbled}")
    if not isinstance(payload, dict):
        return _refuse(400, "body must be a JSON object")
    return payload


def receive_webhook(
    source_name: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    deps: IngestDeps,
    *,
    kind: str | None = None,
    connection_id: str | None = None,
) -> IngestAnswer:
    """A delivery from `source_name` for the connection the address names (`connection_id`), or for the connection
    of `kind` that claims the account the delivery names."""
    source = registry.webhook_source(source_name)
    if source is None:
        return _refuse(404, f"no webhook source {source_name}")
    if kind is not None and kind not in registry.INTEGRATIONS:
        return _refuse(404, f"no connection kind {kind}")
    if connection_id is not None and not deps.claims.connection_exists(connection_id):
        return _refuse(404, f"no connection {connection_id}")
    try:
        delivery = source.read(headers)
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
    try:
        source.check(delivery)
    except Refused as incomplete:
        return _refuse(400, str(incomplete))
    parsed = _parse_object(raw_body)
    if isinstance(parsed, IngestAnswer):
        return parsed
    if delivery.delivery_id and deps.deliveries.already_queued(source_name, delivery.delivery_id):
        return IngestAnswer(200, {"status": "duplicate"})
    message = {
        "source": source_name,
        "connection_id": connection_id,
        "event_id": delivery.event_id or str(uuid.uuid4()),
        "topic": delivery.topic,
        "received_at": events.received_stamp(),
        "payload": raw_body.decode(),
    }
    deps.enqueue(message)  # raises on failure: the sender gets a 5xx and retries; nothing was claimed
    if delivery.delivery_id:
        deps.deliveries.claim(source_name, delivery.delivery_id, connection_id)
    return IngestAnswer(200, {"status": "queued"})
