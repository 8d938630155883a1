"""Dead-letter queues: what is in them, and sending it back where it came from (SPEC §5: poison messages land in
a dead-letter queue that operators can redrive).

Redrive is receive → send to the source queue → delete, one message at a time, deleting only once the send
succeeded: a failure midway leaves the message in the dead-letter queue, never nowhere. (SQS's own
StartMessageMoveTask would do the move server-side, but the embedded stack's moto does not implement it, and one
code path for both is worth more than the speed at the sizes a dead-letter queue should have.) FIFO messages keep
their group id, so a shop's commands stay in order, and their deduplication id: within SQS's five-minute window
an identical command sent meanwhile stands for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crossdock.operations.errors import Refused
from crossdock.operations.target import DeadLetterQueue, OperatorTarget

# Messages looked at stay hidden this long at most; they are made visible again as soon as the look is over.
_PEEK_SECONDS = 30
# Long enough to send one message and delete it; if the operator's process dies, the message shows again.
_MOVE_SECONDS = 60
_BATCH = 10  # ReceiveMessage returns at most 10 messages


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    connection_id: str | None
    what: str  # the event's topic, the command, or what failed
    event_id: str | None
    # Receives before this look (SQS counts the look itself as one more).
    receive_count: int
    first_received_at: str | None
    sent_at: str | None
    group_id: str | None
    payload: str | None = None  # only when asked for: it holds customer data


@dataclass(frozen=True)
class DeadLetterReport:
    queue: str
    waiting: int
    in_flight: int
    messages: list[DeadLetter]
    redrive_to: str | None


@dataclass
class RedriveReport:
    queue: str
    moved: int = 0
    # Message ids whose send failed, with SQS's reason: they stay in the dead-letter queue.
    failed: dict[str, str] = field(default_factory=dict)
    # Sent, but the delete failed: they are on the source queue and will be seen again here (dispatch is
    # idempotent, so a second redrive does no harm).
    not_deleted: list[str] = field(default_factory=list)
    remaining: int = 0


def depth(target: OperatorTarget, queue_url: str) -> dict[str, int]:
    """Approximate counts: `waiting` (visible), `in_flight` (received, not deleted) and `delayed`."""
    attributes = target.sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "waiting": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def show(target: OperatorTarget, name: str, *, limit: int = 20, with_payload: bool = False) -> DeadLetterReport:
    """The queue's depth and up to `limit` of its messages, described. The messages are received (SQS has no other
    way to read them), hidden while they are read, and made visible again at once; a FIFO queue shows only the
    first messages of each group, as the rest of a group stays locked behind them."""
    queue = target.dead_letter_queue(name)
    counts = depth(target, queue.url)
    peeked = _receive_all(target, queue, limit, _PEEK_SECONDS)
    try:
        described = [describe(message, with_payload=with_payload) for message in peeked]
    finally:
        _release(target, queue, peeked)
    return DeadLetterReport(
        queue=name,
        waiting=counts["waiting"],
        in_flight=counts["in_flight"],
        messages=described,
        redrive_to=queue.source_url,
    )


def redrive(target: OperatorTarget, name: str, *, limit: int | None = None) -> RedriveReport:
    """Moves the queue's messages (at most `limit`; by default as many as it holds now, so a message that fails
    straight back in is not moved round and round) back to the queue they came from."""
    queue = target.dead_letter_queue(name)
    if queue.source_url is None:
        raise Refused(
            f"the {name} dead-letter queue holds failed invocations from Lambda and the Scheduler, not messages of "
            "a queue: there is nowhere to send them back (the next scheduled run repeats the work)"
        )
    budget = depth(target, queue.url)["waiting"] if limit is None else limit
    report = RedriveReport(queue=name)
    handled = 0
    while handled < budget:
        batch = _receive(target, queue, min(_BATCH, budget - handled), _MOVE_SECONDS)
        if not batch:
            break
        for message in batch:
            handled += 1
            _move(target, queue, queue.source_url, message, report)
    report.remaining = depth(target, queue.url)["waiting"]
    return report


def _move(
    target: OperatorTarget, queue: DeadLetterQueue, source_url: str, message: dict[str, Any], report: RedriveReport
) -> None:
    send: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
    attributes = _message_attributes(message)
    if attributes:
        send["MessageAttributes"] = attributes
    if queue.fifo:
        system = message.get("Attributes", {})
        send["MessageGroupId"] = system["MessageGroupId"]
        send["MessageDeduplicationId"] = system["MessageDeduplicationId"]
    try:
        target.sqs.send_message(**send)
    except target.sqs.exceptions.ClientError as failed:
        report.failed[message["MessageId"]] = str(failed)
        _release(target, queue, [message])
        return
    try:
        target.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    except target.sqs.exceptions.ClientError:
        report.not_deleted.append(message["MessageId"])
    report.moved += 1


def describe(message: dict[str, Any], *, with_payload: bool = False) -> DeadLetter:
    """What a dead letter is, read from its body: an inbound event (connection, topic, event id), a shop command
    (connection, command, the event it works for), or a failed invocation record (what failed and why)."""
    system = message.get("Attributes", {})
    body = message.get("Body", "")
    connection_id = event_id = payload = None
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "topic" in parsed:
        connection_id, event_id = _text(parsed.get("connection_id")), _text(parsed.get("event_id"))
        what = f"{parsed.get('source', '?')} {parsed['topic']}"
        payload = _text(parsed.get("payload"))
    elif isinstance(parsed, dict) and "command" in parsed:
        connection_id = _text(parsed.get("connection_id"))
        what = str(parsed["command"]) + (f" {parsed['number']}" if parsed.get("number") else "")
        sk = _text(parsed.get("event_sk"))
        event_id = sk.split("#", 2)[-1] if sk else None
        payload = body
    elif isinstance(parsed, dict) and "requestContext" in parsed:
        context = parsed["requestContext"] or {}
        response = parsed.get("responsePayload") or {}
        function = str(context.get("functionArn", "?")).split(":function:", 1)[-1]
        error = response.get("errorType") if isinstance(response, dict) else None
        what = f"{function} {context.get('condition', 'failed')}" + (f": {error}" if error else "")
        payload = body
    else:
        # EventBridge Scheduler's dead-letter events carry the target's input as the body, and why in attributes.
        error = _attribute(message, "ERROR_CODE")
        schedule = (_attribute(message, "SCHEDULE_ARN") or "").rsplit("/", 1)[-1]
        what = f"schedule {schedule or '?'} not delivered: {error}" if error else "message of unknown shape"
        payload = body
    return DeadLetter(
        message_id=message["MessageId"],
        connection_id=connection_id,
        what=what,
        event_id=event_id,
        receive_count=max(0, int(system.get("ApproximateReceiveCount", 1)) - 1),
        first_received_at=_moment(system.get("ApproximateFirstReceiveTimestamp")),
        sent_at=_moment(system.get("SentTimestamp")),
        group_id=system.get("MessageGroupId"),
        payload=payload if with_payload else None,
    )


def _receive_all(target: OperatorTarget, queue: DeadLetterQueue, limit: int, hide_seconds: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    try:
        while len(received) < limit:
            batch = _receive(target, queue, min(_BATCH, limit - len(received)), hide_seconds)
            if not batch:
                break
            received.extend(batch)
    except BaseException:
        _release(target, queue, received)
        raise
    return received


def _receive(target: OperatorTarget, queue: DeadLetterQueue, count: int, hide_seconds: int) -> list[dict[str, Any]]:
    answer = target.sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=hide_seconds,
        WaitTimeSeconds=target.poll_seconds,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = answer.get("Messages", [])
    return messages


def _release(target: OperatorTarget, queue: DeadLetterQueue, messages: list[dict[str, Any]]) -> None:
    """Makes received messages visible again now instead of at the end of their visibility timeout."""
    for start in range(0, len(messages), _BATCH):
        chunk = messages[start : start + _BATCH]
        target.sqs.change_message_visibility_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(chunk)
            ],
        )


def _message_attributes(message: dict[str, Any]) -> dict[str, Any]:
    """Received message attributes in the shape SendMessage takes (the received ones carry extra fields)."""
    attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        kept = {"DataType": value["DataType"]}
        for key in ("StringValue", "BinaryValue"):
            if key in value:
                kept[key] = value[key]
        attributes[name] = kept
    return attributes


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return _text(value.get("StringValue"))


def _moment(epoch_millis: Any) -> str | None:
    if epoch_millis in (None, ""):
        return None
    return datetime.fromtimestamp(int(epoch_millis) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
