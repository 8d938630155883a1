"""Refunds waiting for their order's invoice (`store.waiting_refunds`): found again by the reconciliation sweep and
credited then (issue 13, "refunds before invoicing").

Rackbeat's invoice webhooks are not published (reference/rackbeat.md), so the sweep asks: each waiting refund's
order is read (one call, two once it is invoiced), and one that can be acted on now — its invoice is booked, or a
merchant reopened it, or it was cancelled — gets a `refunds/credit` message. Its handler starts the refund's
workflow again under a name of its own (the first one ended when the refund began to wait, and Step Functions
keeps a finished name; one name per time it began to wait), and hands it the refund's original event: that is the
event the credit note finishes. A second message for the same refund is refused by that name; the credit note
itself is found again by its reference before anything is written, so nothing is ever credited twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import PermanentError
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.refund_reduction import RefundPath, current_state
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import waiting_refunds
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock.workflow_names import execution_name

CREDIT_TOPIC = "refunds/credit"
# Waiting refunds looked at per sweep: two Rackbeat calls each at most, well inside the 480-a-minute key limit.
MAX_LOOKED_AT = 50


@dataclass
class Found:
    """What a sweep of the waiting refunds found: the refunds ready now, and how many it looked at."""

    ready: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (refund id, message payload)
    looked_at: int = 0


def ready_refunds(connection_id: str, table: Any, rackbeat: RackbeatClient) -> Found:
    found = Found()
    for waiting in waiting_refunds.oldest(table, connection_id, MAX_LOOKED_AT):
        found.looked_at += 1
        try:
            waits = current_state(rackbeat, waiting.rackbeat_order).path is RefundPath.WAIT
        except PermanentError:
            # The order is gone from Rackbeat (or refused): sent on, so its workflow ends needs_attention saying so
            # instead of this sweep failing on it every time.
            waits = False
        if waits:
            continue
        found.ready.append((waiting.refund_id, {"refund_id": waiting.refund_id}))
    return found


def credit_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """`refunds/credit` (the sweep's): start the waiting refund's credit, on the refund's own event."""
    connection = RackbeatShopifyConnection.of(event.connection)
    try:
        refund_id = str(json.loads(event.payload)["refund_id"])
    except (KeyError, TypeError, ValueError) as invalid:
        return Outcome.needs_attention(f"refunds/credit payload is invalid: {invalid!r}")
    waiting = waiting_refunds.get(ports.table, connection.id, refund_id)
    if waiting is None:
        return Outcome.skipped(f"refund {refund_id} no longer waits (credited already)")
    settings = connection.settings
    workflow_input = {
        "kind": "refund",
        "connection_id": connection.id,
        "event_sk": waiting.event_sk,
        "refund_id": waiting.refund_id,
        "order_id": waiting.order_id,
        "settings_version": connection.settings_version,
        "settings": settings.model_dump(mode="json"),
    }
    # One name per time the refund began to wait: a duplicate message is refused, a refund that had to wait again
    # (its order changed back between the sweep and the credit) gets a run of its own next time.
    name = execution_name(connection.id, refund_id, f"refund-credit{waiting.round}")
    started = ports.start_workflow(connection.id, name, workflow_input, f"refund {refund_id} is being credited", None)
    if started.status is not EventStatus.RECEIVED:
        return started
    return Outcome.done(
        f"Rackbeat order {waiting.rackbeat_order} can take refund {refund_id} now: {started.reason} "
        "(its outcome is on the refund's own event)"
    )
