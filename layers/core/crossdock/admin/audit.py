"""Who changed what through the admin API, in the connection's own event log.

Each change (a connection created, settings saved, paused, resumed, uninstalled, an event retried, an order synced,
a dead-letter queue redriven, a setup step or an initial sync started) is an event of source `admin`, status done,
whose reason names the user's e-mail and what changed — setting names and values, ids, never a secret. A settings
version also carries `saved_by` (`store.connections.note_saved_by`).
"""

from __future__ import annotations

import json
import uuid

from crossdock.admin.caller import Caller
from crossdock.operations.target import OperatorTarget
from crossdock.store import events
from crossdock.store.events import EventStatus

SOURCE = "admin"
# Longer reasons are cut: a save that changes every setting of a kind would otherwise fill the log's item.
_MOST = 1500


def record(target: OperatorTarget, caller: Caller, connection_id: str, topic: str, what: str) -> str:
    """Records `what` `caller` did as a finished event of the connection; returns its event id."""
    event_id = f"admin-{uuid.uuid4()}"
    reason = f"{caller.who}: {what}"
    if len(reason) > _MOST:
        reason = reason[: _MOST - 1] + "…"
    payload = json.dumps({"user": caller.user, "email": caller.email, "topic": topic}, separators=(",", ":"))
    sk = events.record_received(target.table, connection_id, event_id, SOURCE, topic, payload, events.received_stamp())
    events.finish_event(target.table, connection_id, sk, EventStatus.DONE, reason)
    return event_id
