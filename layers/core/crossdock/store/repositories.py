"""The ports flows keep their state through (`ports.EventLog`, `ConnectionRepository`, `AttemptLog`), in the table:
thin classes over the functions of `store.events`, `store.outcome`, `store.connections` and `store.attempts`.

A flow's deps build these from their `table` unless they are handed others (the in-memory fakes of the flows' unit
tests). Ingest's two (`AccountClaims`, `DeliveryLog`) live beside their functions instead: this module loads the
settings models (pydantic), which ingest's cold start does without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import Connection
from crossdock.ports import AttemptLog, ConnectionRepository, EventLog
from crossdock.store import attempts, connections, events, outcome
from crossdock.store.attempts import Attempts
from crossdock.store.events import EventStatus


@dataclass(frozen=True)
class TableEventLog:
    table: Any

    def record_received(
        self, connection_id: str, event_id: str, source: str, topic: str, payload: str, received_at: str
    ) -> str:
        return events.record_received(self.table, connection_id, event_id, source, topic, payload, received_at)

    def finish(self, connection_id: str, sk: str, status: EventStatus, reason: str, **details: Any) -> None:
        outcome.finish_event(self.table, connection_id, sk, status, reason, **details)


@dataclass(frozen=True)
class TableConnections:
    table: Any

    def load(self, connection_id: str) -> Connection | None:
        return connections.load_connection(self.table, connection_id)

    def settings_versions(self, connection_id: str) -> list[dict[str, Any]]:
        return connections.list_settings_versions(self.table, connection_id)


@dataclass(frozen=True)
class TableAttempts:
    table: Any

    def current(self, connection_id: str, first_name: str) -> Attempts:
        return attempts.current(self.table, connection_id, first_name)

    def begin_next(self, connection_id: str, first_name: str, seen: Attempts) -> int | None:
        return attempts.begin_next(self.table, connection_id, first_name, seen)

    def record_failure(self, connection_id: str, first_name: str, failure_class: str) -> None:
        attempts.record_failure(self.table, connection_id, first_name, failure_class)


@dataclass(frozen=True, kw_only=True)
class KeptInTable:
    """A flow's deps: where its event log, connections and workflows' attempts are kept — the table's, unless
    others are handed in (the in-memory fakes of the flows' unit tests)."""

    table: Any
    event_log: EventLog | None = None
    connection_repository: ConnectionRepository | None = None
    attempt_log: AttemptLog | None = None

    @property
    def events(self) -> EventLog:
        return self.event_log if self.event_log is not None else TableEventLog(self.table)

    @property
    def connections(self) -> ConnectionRepository:
        return self.connection_repository if self.connection_repository is not None else TableConnections(self.table)

    @property
    def attempts(self) -> AttemptLog:
        return self.attempt_log if self.attempt_log is not None else TableAttempts(self.table)
