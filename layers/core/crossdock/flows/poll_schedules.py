"""Each connection's poll schedules follow its state and settings: one EventBridge Scheduler schedule per stream.

The streams of a connection are those of its kind (`StreamsOf`: kind → stream name → `ports.StreamHandler`). An
active (or paused) connection has a schedule `poll-<stream>-<connection>` for every stream its settings switch on,
firing as the stream says (`StreamHandler.schedule`) with `{"connection_id": …, "stream": …}` as the run's event
(`flows.poll`). The schedules are made when the connection is activated (the install's callback;
`LocalStack.create_connection`), brought in line whenever the settings are saved, and removed with the stream's
cursor when the app is uninstalled or the stream is switched off: a later re-install or re-enable starts afresh
instead of catching up on a time Crossdock was not looking after the connection. A paused connection keeps its
cursors, and its schedules unless its kind suspends them (`suspend`, the Shopbox kind): its runs skip while it is
paused and catch up once it is active again. A run that finds its
stream has no business running removes its own schedule (`flows.poll`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from crossdock.connections.model import Connection, ConnectionState
from crossdock.ports import StreamHandler
from crossdock.store import cursors

# Connection kind → its polled streams by name (the kind's integration names them).
StreamsOf = Callable[[str], Mapping[str, StreamHandler]]
KEEPS_SCHEDULE = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})
NAME_LIMIT = 64  # EventBridge Scheduler: names of at most 64 characters of [0-9A-Za-z_.-], unique per group
_NOT_IN_NAMES = re.compile(r"[^0-9A-Za-z_.-]+")


class Schedules(Protocol):
    """A schedule group (`crossdock.aws.schedules.ScheduleGroup`)."""

    def put(self, name: str, expression: str, event: dict[str, Any], description: str) -> str: ...

    def delete(self, name: str) -> bool: ...


def schedule_name(stream: str, connection_id: str) -> str:
    """`poll-reconcile-orders-<36-character id>` is 58 characters: a stream's name may have up to 22."""
    name = f"poll-{_NOT_IN_NAMES.sub('-', stream)}-{connection_id}"
    if len(name) > NAME_LIMIT:
        raise ValueError(f"schedule name {name!r} is longer than {NAME_LIMIT} characters: shorten stream {stream!r}")
    return name


def poll_event(connection_id: str, stream: str) -> dict[str, str]:
    """What a stream's schedule sends the poll function."""
    return {"connection_id": connection_id, "stream": stream}


@dataclass(frozen=True)
class PollSchedules:
    table: Any
    schedules: Schedules
    streams: StreamsOf

    def follow(self, connection: Connection, *, activating: bool = False) -> dict[str, str]:
        """After an activation (`activating`: the connection becomes active right after this) or a settings save:
        each stream's schedule as the settings say. Returns, per stream, "created", "updated", "unchanged",
        "removed" or "absent"."""
        return {
            stream: self._follow_stream(connection, stream, handler, activating)
            for stream, handler in self.streams(connection.kind).items()
        }

    def stop(self, connection: Connection) -> bool:
        """Removes every schedule of the connection and forgets its cursors; False when it had none."""
        removed = [self.stop_stream(connection.id, stream) for stream in self.streams(connection.kind)]
        return any(removed)

    def suspend(self, connection: Connection) -> bool:
        """Removes every schedule of the connection and keeps its cursors (a kind that stops polling while
        paused); `follow` once it is active again puts them back, and their runs catch up from the cursors."""
        removed = [
            self.schedules.delete(schedule_name(stream, connection.id)) for stream in self.streams(connection.kind)
        ]
        return any(removed)

    def stop_stream(self, connection_id: str, stream: str) -> bool:
        """Removes the stream's schedule and forgets its cursor; False when there was no schedule."""
        removed = self.schedules.delete(schedule_name(stream, connection_id))
        cursors.forget(self.table, connection_id, [stream])
        return removed

    def _follow_stream(self, connection: Connection, stream: str, handler: StreamHandler, activating: bool) -> str:
        # A paused connection keeps its schedules: its runs skip while it is paused and catch up once it is active.
        active = activating or connection.state in KEEPS_SCHEDULE
        wanted = handler.schedule(connection) if active else None
        if wanted is None:
            return "removed" if self.stop_stream(connection.id, stream) else "absent"
        if activating:
            # A re-install must not catch up on what happened while the app was gone.
            cursors.forget(self.table, connection.id, [stream])
        return self.schedules.put(
            schedule_name(stream, connection.id),
            wanted.expression,
            poll_event(connection.id, stream),
            wanted.description,
        )
