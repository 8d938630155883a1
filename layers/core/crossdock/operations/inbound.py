"""Messages an operator puts on the inbound queue, in the shape ingest gives them (flows/ingest.py), marked as a
redrive so dispatch may start a new attempt of work that ended without a result."""

from __future__ import annotations

import json
from typing import Any

from crossdock.operations.target import OperatorTarget
from crossdock.store.events import received_stamp

OPERATOR = "operator"  # the `redrive` origin dispatch reads


def operator_message(connection_id: str, source: str, topic: str, payload: str, event_id: str) -> dict[str, Any]:
    """A new event: its own id (never a webhook's), received now, so it meets the settings in force now."""
    return {
        "source": source,
        "connection_id": connection_id,
        "event_id": event_id,
        "topic": topic,
        "received_at": received_stamp(),
        "payload": payload,
        "redrive": OPERATOR,
    }


def enqueue(target: OperatorTarget, message: dict[str, Any]) -> str:
    """Sends the message to the inbound queue; returns SQS's message id."""
    answer = target.sqs.send_message(
        QueueUrl=target.inbound_queue_url, MessageBody=json.dumps(message, separators=(",", ":"))
    )
    return str(answer["MessageId"])
