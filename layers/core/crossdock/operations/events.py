"""The event log as an operator sees it: open events across connections (the sparse `OpenEvents` index), one
connection's log, and retrying a failed event by sending its message again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from crossdock.operations import inbound
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import events as event_log
from crossdock.store import keys
from crossdock.store.events import EventStatus
from crossdock.topics import RESYNC_TOPIC, TRACKING_TOPIC

OPEN_STATUSES = (EventStatus.NEEDS_ATTENTION, EventStatus.RECEIVED)
# What a listing reads of an event: everything but the payload (customer data, and most of the item's size).
_LISTED = ("pk", "sk", "event_id", "source", "topic", "status", "reason", "failure_class", "finished_at", "attempts")
# Events that came in as a message of the inbound queue and can be sent again; Crossdock's own records (stock
# push problems, self-check repairs) were never a message. Of Crossdock's own topics, those a route handles again:
# a resync, and tracking to the shop (its route queues the Shopify fulfilment again).
_RESENDABLE_SOURCES = frozenset({"shopify", "rackbeat"})
_RESENDABLE_OWN_TOPICS = frozenset({RESYNC_TOPIC, TRACKING_TOPIC})


@dataclass(frozen=True)
class EventRow:
    connection_id: str
    event_id: str
    received_at: str
    source: str
    topic: str
    status: str
    failure_class: str | None
    reason: str | None
    finished_at: str | None
    attempts: int
    retried_as: str | None = None


@dataclass(frozen=True)
class RetryResult:
    event: EventRow  # as it was before the retry
    new_event_id: str
    message_id: str
    # False when the event changed between reading and marking it (another operator, or its flow finishing): the
    # message was sent all the same, and dispatch never starts work twice.
    marked: bool


def stamp_since(text: str) -> str:
    """An ISO 8601 moment (`2026-05-01`, `2026-05-01T12:00`, `…+02:00`, `…Z`; no zone = UTC) as an event-log stamp,
    which sorts like time. ValueError names the problem."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: {text!r} is not an ISO 8601 date or time (e.g. 2026-05-01T12:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return event_log.received_stamp(moment.timestamp())


def row(item: dict[str, Any]) -> EventRow:
    _, received_at, event_id = str(item["sk"]).split("#", 2)
    return EventRow(
        connection_id=str(item["pk"]).removeprefix(keys.CONNECTION_PREFIX),
        event_id=str(item.get("event_id") or event_id),
        received_at=received_at,
        source=str(item.get("source", "")),
        topic=str(item.get("topic", "")),
        status=str(item.get("status", "")),
        failure_class=_text(item.get("failure_class")),
        reason=_text(item.get("reason")),
        finished_at=_text(item.get("finished_at")),
        attempts=int(item.get("attempts", 1)),
        retried_as=_text(item.get("retried_as")),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def open_events(
    target: OperatorTarget, status: EventStatus, connection_id: str | None = None, since: str | None = None
) -> list[EventRow]:
    """Every event now in `status` (needs_attention or received), newest first, from the sparse index: it holds
    only open events, so this reads those and never the event log."""
    if status not in OPEN_STATUSES:
        raise ValueError(f"status: only {', '.join(OPEN_STATUSES)} events are indexed, not {status}")
    rows = []
    # Every shard of the status (the connection's one), and the bare status of items written before the shards.
    for partition in event_log.open_status_keys(status, connection_id):
        condition: Any = Key(event_log.OPEN_STATUS).eq(partition)
        if connection_id is not None:
            # The index key is `<connection>#<received_at>#<event id>`.
            start = f"{connection_id}#{since or ''}"
            condition = condition & Key(event_log.OPEN_KEY).between(start, f"{connection_id}#\uffff")
        rows += [row(item) for item in _pages(target.table, IndexName=event_log.OPEN_EVENTS_INDEX, key=condition)]
    if since is not None:
        rows = [found for found in rows if found.received_at >= since]
    # Merged newest first in the order of the page cursor (`<received_at>#<event id>`, `connection_events`).
    return sorted(rows, key=lambda found: (found.received_at, found.event_id), reverse=True)


def connection_events(
    target: OperatorTarget,
    connection_id: str,
    *,
    status: EventStatus | None = None,
    since: str | None = None,
    limit: int | None = None,
    before: str | None = None,
    topic: str | None = None,
) -> list[EventRow]:
    """The connection's events, newest first (a Query of its partition, stopping at `limit`); with `before` (an
    event's `<received_at>#<event id>`, the admin API's page cursor) only the events older than that one, with
    `topic` only that topic's."""
    if status in OPEN_STATUSES:
        indexed = open_events(target, status, connection_id, since)
        if before is not None:
            indexed = [found for found in indexed if f"{found.received_at}#{found.event_id}" < before]
        if topic is not None:
            indexed = [found for found in indexed if found.topic == topic]
        return indexed[:limit]
    lower = keys.EVENT_PREFIX + (since or "")
    upper = keys.EVENT_PREFIX + (before if before is not None else "\uffff")
    condition = Key("pk").eq(keys.connection_pk(connection_id)) & Key("sk").between(lower, upper)
    query: dict[str, Any] = {"ScanIndexForward": False, "key": condition}
    only = [Attr("status").eq(status.value)] if status is not None else []
    only += [Attr("topic").eq(topic)] if topic is not None else []
    if only:
        query["only"] = only[0] if len(only) == 1 else only[0] & only[1]
    rows: list[EventRow] = []
    for item in _pages(target.table, **query):
        if before is not None and str(item["sk"]) >= upper:  # `between` includes the cursor's own event
            continue
        rows.append(row(item))
        if limit is not None and len(rows) >= limit:
            break
    return rows


def last_event(target: OperatorTarget, connection_id: str) -> EventRow | None:
    """The connection's newest event: event sort keys begin with their received time, so one item read."""
    answer = target.table.query(
        KeyConditionExpression=Key("pk").eq(keys.connection_pk(connection_id))
        & Key("sk").begins_with(keys.EVENT_PREFIX),
        ScanIndexForward=False,
        Limit=1,
        **_projection(),
    )
    items = answer["Items"]
    return row(items[0]) if items else None


def find_event(target: OperatorTarget, event_id: str, connection_id: str | None = None) -> dict[str, Any]:
    """The whole stored event (payload included). Without a connection only open events are searched, in the
    index; a finished event is found in its connection's log."""
    if connection_id is not None:
        condition = Key("pk").eq(keys.connection_pk(connection_id)) & Key("sk").begins_with(keys.EVENT_PREFIX)
        for item in _pages(target.table, key=condition, only=Attr("event_id").eq(event_id), projected=False):
            return event_log.with_payload(item)
        raise NotFound(f"connection {connection_id} has no event {event_id}")
    matches = [
        item
        for status in OPEN_STATUSES
        for partition in event_log.open_status_keys(status)
        for item in _pages(
            target.table,
            IndexName=event_log.OPEN_EVENTS_INDEX,
            key=Key(event_log.OPEN_STATUS).eq(partition),
            only=Attr("event_id").eq(event_id),
        )
    ]
    if not matches:
        raise NotFound(
            f"no open event {event_id} (needs_attention or received); to find a finished event, give --connection"
        )
    owners = sorted({str(item["pk"]).removeprefix(keys.CONNECTION_PREFIX) for item in matches})
    if len(owners) > 1:
        raise Refused(f"event id {event_id} is in several connections ({', '.join(owners)}): give --connection")
    stored = event_log.load_event(target.table, owners[0], str(matches[0]["sk"]))
    if stored is None:  # finished and expired between the two reads
        raise NotFound(f"event {event_id} is gone")
    return stored


def retry_event(
    target: OperatorTarget,
    event_id: str,
    connection_id: str | None = None,
    *,
    force: bool = False,
    by: str = "an operator",
) -> RetryResult:
    """Sends the event's original message (source, topic, payload) again as a new event marked as an operator's
        redrive, then marks the old one `skipped`, naming the new one and `by` whom (the CLI: "an operator"; the admin
    API: the signed-in user's e-mail). Only a `needs_attention` event, unless `force`.

        Sent first, marked second: a failed send changes nothing, and a send whose mark is lost (or raced by another
        operator) at worst asks dispatch twice, which never starts the same work twice.
    """
    item = find_event(target, event_id, connection_id)
    before = row(item)
    if before.status != EventStatus.NEEDS_ATTENTION and not force:
        raise Refused(
            f"event {event_id} is {before.status}, not needs_attention: nothing to retry "
            "(--force sends it again anyway)"
        )
    if item.get("redacted_at"):
        raise Refused(f"event {event_id}'s payload was erased on a privacy request: it cannot be sent again")
    if before.source not in _RESENDABLE_SOURCES and before.topic not in _RESENDABLE_OWN_TOPICS:
        raise Refused(
            f"event {event_id} ({before.source} {before.topic}) was recorded by Crossdock itself, not received as "
            "a message: there is nothing to send again"
        )
    new_event_id = f"retry-{uuid.uuid4()}"
    payload = str(item["payload"])
    message = inbound.operator_message(before.connection_id, before.source, before.topic, payload, new_event_id)
    message_id = inbound.enqueue(target, message)
    reason = f"retried as event {new_event_id} by {by}"
    if before.status != EventStatus.NEEDS_ATTENTION:
        reason += f" (it was {before.status}: {before.reason or 'no reason'})"
    marked = event_log.finish_event_if(
        target.table,
        before.connection_id,
        str(item["sk"]),
        EventStatus.SKIPPED,
        reason,
        EventStatus(before.status),
        retried_as=new_event_id,
    )
    return RetryResult(before, new_event_id, message_id, marked)


def _projection() -> dict[str, Any]:
    names = {f"#p{index}": name for index, name in enumerate(_LISTED)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _pages(table: Any, *, key: Any, only: Any = None, projected: bool = True, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query (`key` condition, `only` filter), page by page: one page in memory at a time. The
    index projects what a listing shows; on the table, `projected` reads the same attributes."""
    request: dict[str, Any] = {"KeyConditionExpression": key, **query}
    if only is not None:
        request["FilterExpression"] = only
    if projected and "IndexName" not in request:
        request.update(_projection())
    while True:
        page = table.query(**request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
