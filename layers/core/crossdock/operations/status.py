"""How the stack is doing, per connection and overall: last event, backlog, failures by class, queue depths.

Open events come from the sparse `OpenEvents` index, however long the event log is: per status a Query of each of
its 16 shards and of the bare status older items carry (34 Queries for all connections, most of them empty); each
connection then costs one item read for its last event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crossdock.operations import dead_letters
from crossdock.operations.connections import shop_of
from crossdock.operations.events import EventRow, last_event, open_events
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections
from crossdock.store.events import EventStatus


@dataclass(frozen=True)
class ConnectionStatus:
    connection_id: str
    shop_domain: str
    state: str
    last_event: EventRow | None
    backlog: int  # events received and not finished yet
    oldest_backlog_at: str | None  # when the oldest of them was received
    failures: dict[str, int]  # needs_attention events by failure class


@dataclass(frozen=True)
class QueueStatus:
    name: str
    waiting: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class StackStatus:
    target: str
    connections: list[ConnectionStatus]
    inbound: QueueStatus
    dead_letters: list[QueueStatus]
    # Open events of connections that no longer exist (erased on shop/redact): still an operator's to look at.
    orphaned: dict[str, int] = field(default_factory=dict)


def stack_status(target: OperatorTarget) -> StackStatus:
    failing = open_events(target, EventStatus.NEEDS_ATTENTION)
    running = open_events(target, EventStatus.RECEIVED)
    known = sorted(connections.list_connections(target.table), key=shop_of)
    ids = {connection.id for connection in known}
    per_connection = []
    for connection in known:
        backlog = sorted(e.received_at for e in running if e.connection_id == connection.id)
        classes = Counter(e.failure_class or "unclassified" for e in failing if e.connection_id == connection.id)
        per_connection.append(
            ConnectionStatus(
                connection_id=connection.id,
                shop_domain=shop_of(connection),
                state=connection.state.value,
                last_event=last_event(target, connection.id),
                backlog=len(backlog),
                oldest_backlog_at=backlog[0] if backlog else None,
                failures=dict(sorted(classes.items())),
            )
        )
    orphaned = Counter(e.connection_id for e in [*failing, *running] if e.connection_id not in ids)
    return StackStatus(
        target=target.description,
        connections=per_connection,
        inbound=_queue(target, "inbound", target.inbound_queue_url),
        dead_letters=[_queue(target, queue.name, queue.url) for queue in target.dead_letter_queues],
        orphaned=dict(orphaned),
    )


def _queue(target: OperatorTarget, name: str, url: str) -> QueueStatus:
    counts = dead_letters.depth(target, url)
    return QueueStatus(name, counts["waiting"], counts["in_flight"], counts["delayed"])
