"""Commands from an outbound queue, run by the command table of the connection's integration — and the stock
push (`flows.stock_push`) for a kind that has one.

A command for a connection that is gone or not active is dropped with the reason (and the event that asked for it,
when it names one, ends `skipped`); a command no integration knows cannot succeed by retrying, so it is logged and
dropped.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock import registry
from crossdock.aws.observability import logger
from crossdock.connections.model import ConnectionState
from crossdock.errors import FailureClass
from crossdock.flows import stock_push
from crossdock.ports import EventLog, StockMarks, StockPushReport
from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock.store.repositories import KeptInTable
from crossdock.store.stock import TableStockMarks
from crossdock.topics import CROSSDOCK_SOURCE, STOCK_PUSH_TOPIC

# How many of a stock push's problems its event's reason lists (its payload has them all).
MAX_PROBLEMS_IN_REASON = 20


@dataclass(frozen=True)
class PushDeps(KeptInTable):
    """What the push function provides; command handlers see it as `ports.CommandPorts`."""

    clients: Any
    request_stock_push: Callable[[str], None]
    continue_stock_push: Callable[[str], None]
    now: Callable[[], float]
    sleep: Callable[[float], None]
    seconds_left: Callable[[], float]
    # Where stock marks are kept: the table's, unless others are handed in (unit tests).
    stock_marks: StockMarks | None = None

    @property
    def marks(self) -> StockMarks:
        return self.stock_marks if self.stock_marks is not None else TableStockMarks(self.table)


def run_command(command: dict[str, Any], deps: PushDeps) -> str:
    connection_id = str(command.get("connection_id"))
    connection = deps.connections.load(connection_id)
    name = str(command.get("command"))
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        outcome = Outcome.skipped(
            f"connection {connection_id} is {connection.state.value if connection else 'deleted'}"
        )
        if command.get("event_sk"):
            deps.events.finish(connection_id, str(command["event_sk"]), outcome.status, outcome.reason)
        return outcome.reason
    integration = registry.integration(connection.kind)
    if name == stock_push.STOCK_PUSH and integration.stock is not None:
        report = stock_push.push_stock(connection, integration.stock, deps)
        if report.problems:
            _record_stock_problems(deps.events, connection_id, report)
        return report.summary()
    handler = integration.commands.get(name)
    if handler is None:
        logger.error("unknown outbound command", extra={"command": name})
        return f"unknown command {name}"
    return handler(connection, command, deps)


@dataclass(frozen=True)
class FailedMessage:
    """A message of the batch that failed (or was not tried behind a failure of its group), in batch order."""

    message_id: str
    group_id: str | None
    receipt_handle: str


@dataclass(frozen=True)
class HeldBack:
    receipt_handle: str
    seconds: int


def hold_back(failed: list[FailedMessage], waits: dict[str, float]) -> list[HeldBack]:
    """How long each failed message stays hidden, where the target said when to come back (`waits`: message id →
    its Retry-After or throttle restore time, already clamped). The message goes back on the queue when the target
    allows, not after the queue's visibility timeout (720 s), which would hold the shop's FIFO group that long; the
    messages behind it in its group were not tried and wait as long, so the group comes back in order. A failure
    without a hint (a 5xx, a timeout) keeps the visibility timeout: a short outage should not use up the receives
    that lead to the dead-letter queue."""
    group_waits: dict[str | None, int] = {}
    for message in failed:
        if message.group_id not in group_waits and message.message_id in waits:
            # Whole seconds, rounded up: SQS takes an integer, and early only meets the limit again.
            group_waits[message.group_id] = math.ceil(waits[message.message_id])
    return [
        HeldBack(message.receipt_handle, group_waits[message.group_id])
        for message in failed
        if message.group_id in group_waits
    ]


def _record_stock_problems(log: EventLog, connection_id: str, report: StockPushReport) -> None:
    """A stock push serves many coalesced events at once (they ended `done` when queued), so what it could not set
    is recorded as an event of its own, `stock/push`, with the items and reasons, where operators look for
    everything that needs them."""
    payload = json.dumps({"problems": report.problems, "summary": report.summary()})
    sk = log.record_received(
        connection_id, str(uuid.uuid4()), CROSSDOCK_SOURCE, STOCK_PUSH_TOPIC, payload, events.received_stamp()
    )
    shown = report.problems[:MAX_PROBLEMS_IN_REASON]
    more = len(report.problems) - len(shown)
    reason = "; ".join(shown) + (f"; and {more} more" if more else "")
    log.finish(connection_id, sk, EventStatus.NEEDS_ATTENTION, reason, failure_class=FailureClass.UNMAPPED.value)
