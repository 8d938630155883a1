"""The push flow (flows/push.py) against in-memory fakes: a made-up kind's outbound command records that it ran,
no AWS. Which commands run, and what a dropped one leaves in the event log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flow_fakes import FakeConnections, FakeEventLog, MadeUpKind, connection, registered

from crossdock.aws.observability import logger
from crossdock.connections.model import ConnectionState
from crossdock.flows.push import PushDeps, run_command
from crossdock.store.events import EventStatus

SK = "EVT#2026-03-01T10:00:00.000000Z#e-1"


@dataclass
class Harness:
    kind: MadeUpKind
    events: FakeEventLog = field(default_factory=FakeEventLog)
    connections: FakeConnections = field(default_factory=FakeConnections)
    stock_requests: list[str] = field(default_factory=list)

    def deps(self) -> PushDeps:
        return PushDeps(
            table=None,
            clients=None,
            request_stock_push=self.stock_requests.append,
            continue_stock_push=self.stock_requests.append,
            now=lambda: 0.0,
            sleep=lambda seconds: None,
            seconds_left=lambda: 60.0,
            connection_repository=self.connections,
            event_log=self.events,
        )


@pytest.fixture
def harness() -> Iterator[Harness]:
    with registered(MadeUpKind()) as kind:
        made = Harness(kind)
        made.connections.add(connection())
        yield made


def test_a_command_for_an_active_connection_runs_in_its_kinds_command_table(harness: Harness) -> None:
    command = {"connection_id": "c-1", "command": "push_level", "level": 7, "event_sk": SK}
    deps = harness.deps()

    summary = run_command(command, deps)

    assert summary == "level 7 pushed"
    assert harness.kind.commands.ran == [("c-1", command, deps)]
    assert harness.events.events == {}  # the handler finishes its event, not the flow


@pytest.mark.parametrize("state", [ConnectionState.PAUSED, ConnectionState.UNINSTALLED])
def test_a_command_for_a_connection_that_is_not_active_is_dropped_and_its_event_skipped(
    harness: Harness, state: ConnectionState
) -> None:
    # GIVEN the connection stopped after the command was queued
    harness.connections.add(connection(state=state))
    # WHEN the command comes off the queue
    summary = run_command({"connection_id": "c-1", "command": "push_level", "event_sk": SK}, harness.deps())
    # THEN it does not run, and the event that asked for it ends skipped with the reason
    assert summary == f"connection c-1 is {state.value}"
    assert harness.kind.commands.ran == []
    stored = harness.events.events[("c-1", SK)]
    assert (stored.status, stored.reason) == (EventStatus.SKIPPED, summary)


def test_a_command_for_a_deleted_connection_that_names_no_event_is_dropped_quietly(harness: Harness) -> None:
    summary = run_command({"connection_id": "c-9", "command": "push_level"}, harness.deps())

    assert summary == "connection c-9 is deleted"
    assert harness.kind.commands.ran == [] and harness.events.events == {}


def test_a_command_no_integration_knows_is_logged_and_dropped(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    monkeypatch.setattr(logger, "error", lambda message, **kwargs: logged.append(message))

    summary = run_command({"connection_id": "c-1", "command": "launch_rocket", "event_sk": SK}, harness.deps())

    assert summary == "unknown command launch_rocket"
    assert logged == ["unknown outbound command"]
    assert harness.kind.commands.ran == [] and harness.events.events == {}
