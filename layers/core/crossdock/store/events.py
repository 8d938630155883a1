"""The event log: every inbound event ends `done`, `skipped` or `needs_attention`, with a reason (SPEC §5)."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key

from crossdock.store import keys

# Successful events are kept for a month for support questions; failures are kept until an operator acts.
DONE_RETENTION_DAYS = 30

# A sparse index of the events still open: only an event being worked on (`received`) or waiting for an operator
# (`needs_attention`) carries these two attributes, so failures and backlog are listed across every connection
# without reading the event log (template.yaml, Table). The key starts with the connection id: one connection's
# open events sort together, and writes spread over the key range instead of piling onto its newest end.
OPEN_EVENTS_INDEX = "OpenEvents"
OPEN_STATUS = "open_status"
OPEN_KEY = "open_key"
# The index's partition key is `<status>#<shard>` (issue 18): with the bare status every open event of every
# connection wrote one index partition, 1,000 write units a second at most, which the scale model reached at ~2,800
# merchants. The shard is a hash of the connection id, so one connection's open events stay in one shard (its own
# listing reads one partition) and the fleet's writes spread over 16. Readers of every connection Query every
# shard and merge (`open_status_keys`). Items written before the shards carry the bare status and are still read
# under it until none is left (docs/operating.md, "Open events index shards").
OPEN_SHARDS = 16


def open_shard(connection_id: str) -> int:
    """The connection's shard of the open-events index: stable across processes (crc32, not `hash`)."""
    return zlib.crc32(connection_id.encode()) % OPEN_SHARDS


def open_status(status: EventStatus, connection_id: str) -> str:
    """The open-events index partition an event of the connection in `status` is written under."""
    return f"{status.value}#{open_shard(connection_id)}"


def open_status_keys(status: EventStatus, connection_id: str | None = None) -> list[str]:
    """Every index partition to Query for open events in `status`: the connection's shard (or all 16), then the
    bare status of items written before the shards."""
    shards = [open_shard(connection_id)] if connection_id is not None else range(OPEN_SHARDS)
    return [f"{status.value}#{shard}" for shard in shards] + [status.value]


# The raw payload is stored zlib-compressed, as a binary attribute: DynamoDB bills an update by the larger of the
# item before and after it, so every status change of an event paid for its 5–14 KB webhook body again (most of
# the table's write units). Compressed, an order's JSON is a fifth of that. Readers get `payload` back as text.
PACKED_PAYLOAD = "payload_z"


def pack_payload(payload: str) -> bytes:
    return zlib.compress(payload.encode("utf-8"))


def with_payload(item: dict[str, Any]) -> dict[str, Any]:
    """The stored item with its payload as text under `payload` (items written before compression have it so)."""
    packed = item.pop(PACKED_PAYLOAD, None)
    if packed is not None:
        item["payload"] = zlib.decompress(bytes(packed)).decode("utf-8")  # boto3's Binary, or bytes
    return item


class EventStatus(StrEnum):
    RECEIVED = "received"
    DONE = "done"
    SKIPPED = "skipped"
    NEEDS_ATTENTION = "needs_attention"


FINAL = frozenset({EventStatus.DONE, EventStatus.SKIPPED, EventStatus.NEEDS_ATTENTION})


def received_stamp(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC).replace(tzinfo=None)
    # "%Y-%m-%dT%H:%M:%S.%fZ", written by isoformat: strftime takes about 8 µs, a tenth of a webhook's floor.
    return moment.isoformat(timespec="microseconds") + "Z"


def record_received(
    table: Any, connection_id: str, event_id: str, source: str, topic: str, payload: str, received_at: str
) -> str:
    """Stores the event with its raw payload (the workflow reads it from here); returns the event's sort key.

    Idempotent: a redelivered queue message finds the event already there and keeps its status.
    """
    sk = keys.event_sk(received_at, event_id)
    try:
        table.put_item(
            Item={
                "pk": keys.connection_pk(connection_id),
                "sk": sk,
                "event_id": event_id,
                "source": source,
                "topic": topic,
                PACKED_PAYLOAD: pack_payload(payload),
                "status": EventStatus.RECEIVED.value,
                "attempts": 1,
                OPEN_STATUS: open_status(EventStatus.RECEIVED, connection_id),
                OPEN_KEY: open_key(connection_id, sk),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": sk},
            UpdateExpression="ADD attempts :one",
            ExpressionAttributeValues={":one": 1},
        )
    return sk


def count_attempt(table: Any, connection_id: str, sk: str) -> int:
    """One more attempt at the event's work (it had one when received); returns how many it has had now."""
    answer = table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": sk},
        UpdateExpression="ADD attempts :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["attempts"])


def open_key(connection_id: str, sk: str) -> str:
    """`<connection id>#<received_at>#<event id>`: the event's key in the open-events index."""
    return f"{connection_id}#{sk.removeprefix(keys.EVENT_PREFIX)}"


def load_event(table: Any, connection_id: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = table.get_item(Key={"pk": keys.connection_pk(connection_id), "sk": sk}).get("Item")
    return None if item is None else with_payload(item)


def finish_event(
    table: Any, connection_id: str, sk: str, status: EventStatus, reason: str, **details: Any
) -> str | None:
    """Records the event's outcome and returns the status it had before (None if it had none). Failures get no TTL:
    they stay until an operator retries or dismisses them, and stay in the open-events index; any other outcome
    leaves it."""
    return _finish(table, connection_id, sk, status, reason, None, details)[1]


def note_progress(table: Any, connection_id: str, sk: str, reason: str) -> None:
    """A new reason for an event that is still open (`received`): what it waits for. Its status and its place in
    the open-events index stay as they are, so it still shows as in progress. An event that was finished meanwhile
    (an operator dismissed it) keeps its outcome."""
    try:
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": sk},
            UpdateExpression="SET #r = :r",
            ConditionExpression="#s = :open",
            ExpressionAttributeNames={"#r": "reason", "#s": "status"},
            ExpressionAttributeValues={":r": reason, ":open": EventStatus.RECEIVED.value},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return


def finish_event_if(
    table: Any, connection_id: str, sk: str, status: EventStatus, reason: str, expected: EventStatus, /, **details: Any
) -> bool:
    """`finish_event`, provided the event is still `expected`: False when it is not (or does not exist), and then
    nothing is written (an operator's change must not overwrite what a flow recorded meanwhile)."""
    return _finish(table, connection_id, sk, status, reason, expected, details)[0]


def _finish(
    table: Any,
    connection_id: str,
    sk: str,
    status: EventStatus,
    reason: str,
    expected: EventStatus | None,
    details: dict[str, Any],
) -> tuple[bool, str | None]:
    """(written, the status before) — the old status comes back with the write itself (`UPDATED_OLD`)."""
    if status is EventStatus.NEEDS_ATTENTION:
        # Every failure is classified (one metric and one operator filter per class); a failure that no flow
        # classified is ours to look at.
        details.setdefault("failure_class", "bug")
    names = {"#s": "status", "#r": "reason"}
    values: dict[str, Any] = {":s": status.value, ":r": reason, ":t": received_stamp()}
    sets = ["#s = :s", "#r = :r", "finished_at = :t"]
    for index, (name, value) in enumerate(details.items()):
        names[f"#d{index}"] = name
        values[f":d{index}"] = value
        sets.append(f"#d{index} = :d{index}")
    if status is EventStatus.NEEDS_ATTENTION:
        values[":open"] = open_status(status, connection_id)
        values[":key"] = open_key(connection_id, sk)
        sets += [f"{OPEN_STATUS} = :open", f"{OPEN_KEY} = :key"]
        removed = ["expires_at"]
    else:
        values[":e"] = int(time.time()) + DONE_RETENTION_DAYS * 86400
        sets.insert(0, "expires_at = :e")
        removed = [OPEN_STATUS, OPEN_KEY]
    request: dict[str, Any] = {
        "Key": {"pk": keys.connection_pk(connection_id), "sk": sk},
        "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removed),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "UPDATED_OLD",
    }
    if expected is not None:
        request["ConditionExpression"] = "#s = :expected"
        values[":expected"] = expected.value
    try:
        answer = table.update_item(**request)
    except table.meta.client.exceptions.ConditionalCheckFailedException:  # only with `expected`
        return False, None
    previous = answer.get("Attributes", {}).get("status")
    return True, None if previous is None else str(previous)


def list_events(table: Any, connection_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id)) & Key("sk").begins_with("EVT#")
    }
    while True:
        page = table.query(**query)
        items.extend(with_payload(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def iter_events(table: Any, connection_id: str) -> Iterator[dict[str, Any]]:
    """Every event of the connection, oldest first, one page in memory at a time (a shop's month of raw payloads
    does not fit a Lambda's memory)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id))
        & Key("sk").begins_with(keys.EVENT_PREFIX)
    }
    while True:
        page = table.query(**query)
        yield from (with_payload(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def redact_payload(table: Any, connection_id: str, sk: str, marker: str, redacted_at: str) -> None:
    """Replaces the event's raw payload with `marker`; topic, status, reason and dates stay as the audit trail.
    Conditional, so an event that expired meanwhile is not recreated as an empty item."""
    try:
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": sk},
            UpdateExpression=f"SET payload = :marker, redacted_at = :at REMOVE {PACKED_PAYLOAD}",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":marker": marker, ":at": redacted_at},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return


def replace_payload(table: Any, connection_id: str, sk: str, payload: str) -> None:
    """Stores what the event is about once it is known: an `orders/resync` request names an order, and the order
    read from Shopify becomes the payload the workflow reads."""
    table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": sk},
        UpdateExpression=f"SET {PACKED_PAYLOAD} = :p REMOVE payload",
        ExpressionAttributeValues={":p": pack_payload(payload)},
    )
