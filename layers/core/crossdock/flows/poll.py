"""One scheduled run of one stream of one connection (DESIGN §1 "Poll"): read what changed, queue it, move on.

A stream's schedule (`flows.poll_schedules`) sends `{"connection_id": …, "stream": …}`. The run

1. loads the connection and finds the stream among those of its kind; a connection that is gone or uninstalled,
   or a stream its settings switch off, removes its own schedule (and cursor) and stops there; a paused connection
   is skipped but keeps them, to catch up once it is active again;
2. takes the stream's lease (`LOCK#poll#<connection>#<stream>`), so two runs that overlap (a slow run and the next
   schedule, a scheduler retry, an operator's invoke) never poll the same stream at once: the second is skipped;
3. reads the cursor and asks the stream's handler (`ports.StreamHandler`) for what changed since then, up to the
   run's start. A stream with an overlap starts `overlap` seconds before its cursor, for sources whose listings are
   eventually consistent (an item updated just before the last run, but listed only after it looked);
4. queues every message the handler found on the inbound queue (`enqueue`: all accepted, or it raises) and only then
   saves the cursor, so a run that fails anywhere before leaves the cursor where it was and the next run looks at
   the same window again; then records the handler's event, if it has one;
5. releases the lease.

Nothing here removes duplicates: the overlap and a repeated window send some messages twice, and the inbound path
is idempotent for them (dispatch refuses a workflow it started before, a stock push sets an absolute level). A
failure (`CrossdockError`) is reported in the run's result, not raised: the next scheduled run is the retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from crossdock.connections.model import Connection, ConnectionState
from crossdock.errors import CrossdockError
from crossdock.flows.poll_schedules import KEEPS_SCHEDULE, PollSchedules, StreamsOf
from crossdock.ports import PollEvent, StreamHandler
from crossdock.store import connections, cursors, events, leases
from crossdock.store.events import EventStatus
from crossdock.store.leases import Lease
from crossdock.store.outcome import finish_event

# A lease outlasts the run that holds it: the Lambda time it has left, and this much more for the release itself.
# A run that crashed holds its stream until then, so the next scheduled run (minutes later) takes it over.
LEASE_MARGIN = 60.0
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class PollState(Protocol):
    """Where a run finds the connection and keeps the stream's cursor and lease, and its event (`TableState`)."""

    def connection(self, connection_id: str) -> Connection | None: ...

    def cursor(self, connection_id: str, stream: str) -> str | None: ...

    def save_cursor(self, connection_id: str, stream: str, position: str) -> None: ...

    def claim(self, name: str, holder: str, now: float, seconds: float) -> Lease | None: ...

    def release(self, lease: Lease) -> None: ...

    def record(self, connection_id: str, event: PollEvent) -> None: ...


@dataclass(frozen=True)
class TableState:
    """The poll's state in the table: `CONN#<id>`/`META`, `CUR#<stream>`, `LOCK#poll#…`, `EVT#…`."""

    table: Any

    def connection(self, connection_id: str) -> Connection | None:
        return connections.load_connection(self.table, connection_id)

    def cursor(self, connection_id: str, stream: str) -> str | None:
        found = cursors.load(self.table, connection_id, stream)
        return found.position if found is not None else None

    def save_cursor(self, connection_id: str, stream: str, position: str) -> None:
        cursors.save(self.table, connection_id, stream, position, events.received_stamp())

    def claim(self, name: str, holder: str, now: float, seconds: float) -> Lease | None:
        return leases.claim(self.table, name, holder, now, seconds)

    def release(self, lease: Lease) -> None:
        leases.release(self.table, lease)

    def record(self, connection_id: str, event: PollEvent) -> None:
        sk = events.record_received(
            self.table,
            connection_id,
            str(uuid.uuid4()),
            "crossdock",
            event.topic,
            event.payload,
            events.received_stamp(),
        )
        finish_event(self.table, connection_id, sk, EventStatus.DONE, event.reason)


@dataclass(frozen=True)
class PollDeps:
    table: Any  # handed to the handler (`ports.PollPorts`), and where the state is kept unless `state` says
    clients: Any  # the connections' API clients, handed to the handler (`ports.PollPorts`)
    streams: StreamsOf
    # Queues every message or raises (crossdock.aws.queues.send_all): the cursor moves only after it returned.
    enqueue: Callable[[list[dict[str, Any]]], None]
    now: Callable[[], float]
    holder: str  # this run, as the holder of the stream's lease (unique per invocation)
    seconds_left: Callable[[], float] = lambda: 900.0
    # The connection's schedules: a run that finds its stream unwanted removes its own.
    schedules: PollSchedules | None = None
    state: PollState | None = None

    @property
    def store(self) -> PollState:
        return self.state if self.state is not None else TableState(self.table)


@dataclass
class PollRun:
    connection_id: str
    stream: str
    skipped: str | None = None  # why nothing was looked at
    window: tuple[str | None, str] | None = None  # [since, until) as handed to the handler
    enqueued: int = 0
    position: str | None = None  # the cursor saved, None when it stayed
    failure: CrossdockError | None = None
    report: dict[str, Any] = field(default_factory=dict)  # the handler's, once its messages are queued

    def as_dict(self) -> dict[str, Any]:
        failure = None
        if self.failure is not None:
            failure = {"failure_class": self.failure.failure_class.value, "reason": self.failure.reason}
        return {
            "window": list(self.window) if self.window else None,
            **self.report,
            "connection_id": self.connection_id,
            "stream": self.stream,
            "skipped": self.skipped,
            "enqueued": self.enqueued,
            "position": self.position,
            "failure": failure,
        }


def lease_name(connection_id: str, stream: str) -> str:
    return f"poll#{connection_id}#{stream}"


def moment(position: str) -> float:
    """A time position (ISO 8601, UTC) as epoch seconds."""
    return datetime.fromisoformat(position.replace("Z", "+00:00")).timestamp()


def position_at(seconds: float) -> str:
    """Epoch seconds as a time position, to the second."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime(TIME_FORMAT)


def run_poll(connection_id: str, stream: str, deps: PollDeps) -> PollRun:
    run = PollRun(connection_id, stream)
    store = deps.store
    connection = store.connection(connection_id)
    handler = deps.streams(connection.kind).get(stream) if connection is not None else None
    unwanted = _unwanted(connection_id, connection, stream, handler)
    if unwanted is not None:
        run.skipped = unwanted
        if deps.schedules is not None:
            # Its uninstall or settings save should have removed the schedule; if that was missed, it goes now.
            deps.schedules.stop_stream(connection_id, stream)
        return run
    assert connection is not None and handler is not None
    if connection.state is not ConnectionState.ACTIVE:
        run.skipped = f"connection {connection_id} is {connection.state.value}"
        return run
    started = deps.now()
    lease = store.claim(lease_name(connection_id, stream), deps.holder, started, deps.seconds_left() + LEASE_MARGIN)
    if lease is None:
        run.skipped = f"stream {stream} of connection {connection_id} is being polled by another run"
        return run
    try:
        _poll(connection, stream, handler, started, deps, store, run)
    except CrossdockError as failed:
        # The cursor stayed: the next run looks at the same window again.
        run.failure = failed
    finally:
        store.release(lease)
    return run


def _unwanted(
    connection_id: str, connection: Connection | None, stream: str, handler: StreamHandler | None
) -> str | None:
    """Why the stream's schedule has no business running (None: it has, even if this run skips)."""
    if connection is None:
        return f"connection {connection_id} is deleted"
    if connection.state not in KEEPS_SCHEDULE:
        return f"connection {connection.id} is {connection.state.value}"
    if handler is None:
        return f"connections of kind {connection.kind} have no stream {stream}"
    if handler.schedule(connection) is None:
        return f"stream {stream} is switched off in the connection's settings"
    return None


def _poll(
    connection: Connection,
    stream: str,
    handler: StreamHandler,
    started: float,
    deps: PollDeps,
    store: PollState,
    run: PollRun,
) -> None:
    overlap = handler.overlap(connection)
    cursor = store.cursor(connection.id, stream)
    since: str | None = None
    if cursor is not None:
        since = cursor if overlap is None else position_at(moment(cursor) - overlap)
    until = position_at(started)
    run.window = (since, until)
    result = handler.poll(connection, since, until, deps)
    if result.messages:
        deps.enqueue(result.messages)
    run.enqueued = len(result.messages)
    run.report = result.report
    position = result.position
    if overlap is not None and cursor is not None and moment(position) <= moment(cursor):
        # A time cursor never stands still: a run that ended on its cursor's own second (more items in one second
        # than a run reads) would start the next one at the same place for ever.
        position = position_at(moment(cursor) + 1)
    store.save_cursor(connection.id, stream, position)
    run.position = position
    if result.event is not None:
        store.record(connection.id, result.event)
