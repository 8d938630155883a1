"""What the scheduled self-check leaves in a connection's event log when it repaired something (only then, so a
healthy hour leaves no trace): one `crossdock` event, done, whose reason says what was re-created. Every kind's
self-check records it this way."""

from __future__ import annotations

import json
import uuid
from typing import Any

from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event
from crossdock.topics import CROSSDOCK_SOURCE


def record_repair(table: Any, connection_id: str, topic: str, detail: dict[str, Any], reason: str) -> None:
    """A done event of `topic` carrying `detail` (what was re-created, by system), with `reason` for a person."""
    sk = events.record_received(
        table,
        connection_id,
        str(uuid.uuid4()),
        CROSSDOCK_SOURCE,
        topic,
        json.dumps(detail),
        events.received_stamp(),
    )
    finish_event(table, connection_id, sk, EventStatus.DONE, reason)
