"""The ports flows are written against: Protocols and value types, so flows and their unit tests need no system."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crossdock.connections.model import Connection


# ---- polling (flows/poll.py) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSchedule:
    """How often a stream is polled for one connection: an EventBridge Scheduler expression (`rate(15 minutes)`)."""

    expression: str
    description: str

    @staticmethod
    def every(minutes: int, description: str) -> StreamSchedule:
        return StreamSchedule(f"rate({minutes} minute{'s' if minutes != 1 else ''})", description)


@dataclass(frozen=True)
class PollEvent:
    """What a run found worth an entry in the connection's event log (recorded `done` once its messages are
    queued)."""

    topic: str
    reason: str
    payload: str


@dataclass
class PollResult:
    """What one run of a stream found: the inbound messages to queue, and the position to save once every one of
    them is queued (the next run starts there, less the stream's overlap)."""

    messages: list[dict[str, Any]]
    position: str
    # What the run looked at and found, returned by the poll function and logged (the stream's own keys).
    report: dict[str, Any] = field(default_factory=dict)
    event: PollEvent | None = None


class PollPorts(Protocol):
    """What the poll flow offers a stream's handler."""

    @property
    def table(self) -> Any: ...

    @property
    def clients(self) -> Any:
        """The connection's API clients (`crossdock.connections.clients.ConnectionClients`)."""
        ...

    @property
    def now(self) -> Callable[[], float]: ...

    @property
    def seconds_left(self) -> Callable[[], float]:
        """Lambda time left: a handler stops reading before it runs out."""
        ...


class StreamHandler(Protocol):
    """One stream a connection kind polls on a schedule (reconciliation sweeps, a system without webhooks …).

    Positions are the stream's own text. A stream with an overlap keeps times (ISO 8601 UTC, `…T12:00:00Z`): the
    flow hands the handler `since` = position − overlap and `until` = the run's start. A stream without one keeps
    anything else (a page offset): `since` is the saved position as it is. `since` is None on a first run (no cursor
    yet: just activated, re-installed or re-enabled), and the handler chooses where to begin."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        """The stream's schedule for this connection; None when its settings switch the stream off."""
        ...

    def overlap(self, connection: Connection) -> float | None:
        """Seconds a run reaches back behind the cursor, for sources whose listings are eventually consistent (an
        update indexed only after the last run looked); None: positions are not times."""
        ...

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        """Reads what changed in [since, until) and returns the messages that get it handled. It queues nothing
        and saves no cursor itself; raising a `CrossdockError` leaves the cursor where it was."""
        ...


class ConnectionSchedules(Protocol):
    """A connection's poll schedules, one per stream of its kind (`flows.poll_schedules.PollSchedules`)."""

    def follow(self, connection: Connection, *, activating: bool = False) -> dict[str, str]:
        """Each stream's schedule as the connection's state and settings say (after an activation: from scratch)."""
        ...

    def stop(self, connection: Connection) -> bool:
        """Removes every schedule of the connection and forgets its cursors."""
        ...
