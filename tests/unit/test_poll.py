"""The poll flow (flows/poll.py) against in-memory fakes: no AWS, no external system. A stream of a made-up kind
lists "changes" the test puts in front of it; the run queues them and moves its cursor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from crossdock.connections.model import Accounts, Connection, ConnectionState, Settings
from crossdock.errors import RetryableError
from crossdock.flows.poll import LEASE_MARGIN, PollDeps, PollRun, lease_name, moment, position_at, run_poll
from crossdock.flows.poll_schedules import PollSchedules, schedule_name
from crossdock.ports import PollEvent, PollPorts, PollResult, StreamHandler, StreamSchedule
from crossdock.store.leases import Lease

KIND = "made_up"
STREAM = "changes"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass
class FakeState:
    """Connections, cursors, leases and events, kept in dicts the way the table keeps them."""

    connections: dict[str, Connection] = field(default_factory=dict)
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)
    events: list[tuple[str, PollEvent]] = field(default_factory=list)

    def connection(self, connection_id: str) -> Connection | None:
        return self.connections.get(connection_id)

    def cursor(self, connection_id: str, stream: str) -> str | None:
        return self.cursors.get((connection_id, stream))

    def save_cursor(self, connection_id: str, stream: str, position: str) -> None:
        self.cursors[(connection_id, stream)] = position

    def claim(self, name: str, holder: str, now: float, seconds: float) -> Lease | None:
        current = self.leases.get(name)
        if current is not None and current[1] >= now and current[0] != holder:
            return None
        self.leases[name] = (holder, now + seconds)
        return Lease(name, holder, now + seconds)

    def release(self, lease: Lease) -> None:
        if self.leases.get(lease.name, ("", 0.0))[0] == lease.holder:
            self.leases[lease.name] = (lease.holder, 0.0)

    def record(self, connection_id: str, event: PollEvent) -> None:
        self.events.append((connection_id, event))


class FakeSchedules:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def put(self, name: str, expression: str, event: dict[str, Any], description: str) -> str:
        self.names.add(name)
        return "created"

    def delete(self, name: str) -> bool:
        found = name in self.names
        self.names.discard(name)
        return found


class ForgettingTable:
    def delete_item(self, Key: dict[str, str]) -> None:
        pass


@dataclass
class ListedChanges:
    """A stream whose source lists changes with the second they happened; the handler reads [since, until)."""

    changes: list[tuple[float, str]] = field(default_factory=list)
    overlap_seconds: float | None = 120.0
    switched_on: bool = True
    asked: list[tuple[str | None, str]] = field(default_factory=list)
    during_poll: Callable[[], None] | None = None

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        return StreamSchedule.every(5, "changes") if self.switched_on else None

    def overlap(self, connection: Connection) -> float | None:
        return self.overlap_seconds

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        self.asked.append((since, until))
        if self.during_poll is not None:
            self.during_poll()
        # Without an overlap `since` is not a time (a page, an offset): this stream then lists from the start.
        timed = since is not None and self.overlap_seconds is not None
        start = moment(since) if since is not None and timed else moment(until) - 300
        found = [name for at, name in self.changes if start <= at < moment(until)]
        messages = [{"connection_id": connection.id, "change": name} for name in found]
        event = PollEvent("crossdock/changes", f"{len(found)} change(s)", "{}") if found else None
        return PollResult(messages, until, {"found": found}, event)


@dataclass
class Harness:
    state: FakeState
    stream: ListedChanges
    queued: list[dict[str, Any]] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [T0])
    refuse: bool = False
    schedules: FakeSchedules = field(default_factory=FakeSchedules)

    def enqueue(self, messages: list[dict[str, Any]]) -> None:
        if self.refuse:
            raise RetryableError("SQS did not accept 1 message(s) (AWS.SimpleQueueService.NonExistentQueue)")
        self.queued.extend(messages)

    def streams(self, kind: str) -> Mapping[str, StreamHandler]:
        return {STREAM: self.stream} if kind == KIND else {}

    def deps(self, holder: str = "run-1") -> PollDeps:
        return PollDeps(
            table=ForgettingTable(),
            clients=None,
            streams=self.streams,
            enqueue=self.enqueue,
            now=lambda: self.clock[0],
            holder=holder,
            seconds_left=lambda: 300.0,
            schedules=PollSchedules(ForgettingTable(), self.schedules, self.streams),
            state=self.state,
        )

    def run(self, holder: str = "run-1") -> PollRun:
        return run_poll("c-1", STREAM, self.deps(holder))

    def advance(self, seconds: float) -> None:
        self.clock[0] += seconds

    @property
    def cursor(self) -> str | None:
        return self.state.cursor("c-1", STREAM)


def _connection(state: ConnectionState = ConnectionState.ACTIVE) -> Connection:
    return Connection(id="c-1", kind=KIND, state=state, accounts=Accounts(), settings=Settings())


@pytest.fixture
def harness() -> Harness:
    state = FakeState()
    state.connections["c-1"] = _connection()
    return Harness(state, ListedChanges())


def test_a_run_queues_what_it_found_and_then_moves_the_cursor_to_its_start(harness: Harness) -> None:
    # GIVEN two changes in the five minutes before the first run
    harness.stream.changes = [(T0 - 200, "a"), (T0 - 10, "b")]
    # WHEN the stream is polled
    run = harness.run()
    # THEN both are queued, the cursor is the run's start, and the run's event is recorded
    assert [m["change"] for m in harness.queued] == ["a", "b"]
    assert harness.cursor == position_at(T0) == run.position
    assert run.enqueued == 2 and run.failure is None and run.skipped is None
    assert [event.reason for _, event in harness.state.events] == ["2 change(s)"]
    assert run.as_dict()["found"] == ["a", "b"] and run.as_dict()["stream"] == STREAM


def test_an_enqueue_failure_leaves_the_cursor_and_the_next_run_looks_again(harness: Harness) -> None:
    # GIVEN a cursor, and a change after it that the queue refuses to take
    harness.run()
    before = harness.cursor
    harness.advance(60)
    harness.stream.changes = [(T0 + 30, "c")]
    harness.refuse = True
    harness.advance(240)
    # WHEN the stream is polled
    refused = harness.run()
    # THEN the failure is reported, and the cursor, the queue and the event log are as they were
    assert refused.failure is not None and refused.failure.failure_class.value == "target_down"
    assert harness.cursor == before and refused.position is None
    assert harness.queued == [] and harness.state.events == []
    # AND once the queue takes messages again, the same window is looked at, and then the cursor moves
    harness.refuse = False
    harness.advance(300)
    healed = harness.run()
    assert healed.window is not None and refused.window is not None and healed.window[0] == refused.window[0]
    assert [m["change"] for m in harness.queued] == ["c"]
    assert harness.cursor == position_at(T0 + 600)


def test_the_next_run_starts_the_overlap_before_the_cursor(harness: Harness) -> None:
    # GIVEN a cursor at T0 and an overlap of two minutes
    harness.run()
    # AND a change listed only after that run had looked, though it happened a minute before it
    harness.stream.changes = [(T0 - 60, "late"), (T0 - 180, "older than the overlap")]
    harness.advance(300)
    # WHEN the next run polls
    run = harness.run()
    # THEN it asked from two minutes before the cursor, so the late change is queued and the older one is not
    assert harness.stream.asked[-1] == (position_at(T0 - 120), position_at(T0 + 300))
    assert run.window == (position_at(T0 - 120), position_at(T0 + 300))
    assert [m["change"] for m in harness.queued] == ["late"]


def test_a_stream_whose_positions_are_not_times_gets_its_cursor_as_it_was_saved(harness: Harness) -> None:
    harness.stream.overlap_seconds = None
    harness.state.save_cursor("c-1", STREAM, "page-7")

    run = harness.run()

    assert harness.stream.asked == [("page-7", position_at(T0))] and run.failure is None


def test_a_time_cursor_never_stands_still(harness: Harness) -> None:
    # GIVEN a handler that ends where the cursor already is (a second with more changes than a run reads)
    harness.state.save_cursor("c-1", STREAM, position_at(T0))
    harness.stream.overlap_seconds = 0.0
    harness.advance(300)
    original = harness.stream.poll

    def stuck(connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        result = original(connection, since, until, ports)
        return PollResult(result.messages, position_at(T0), result.report, result.event)

    harness.stream.poll = stuck  # type: ignore[method-assign]
    # WHEN it runs, THEN the cursor moves a second on
    assert harness.run().position == position_at(T0 + 1) == harness.cursor


def test_a_held_lease_skips_the_run_and_leaves_the_cursor(harness: Harness) -> None:
    # GIVEN another run holding the stream's lease
    harness.run()
    before = harness.cursor
    harness.advance(300)
    harness.state.leases[lease_name("c-1", STREAM)] = ("run-0", T0 + 900)
    harness.stream.changes = [(T0 + 100, "d")]
    # WHEN this run comes
    run = harness.run("run-1")
    # THEN it skips, says why, and touches neither the queue nor the cursor nor the lease
    assert run.skipped == f"stream {STREAM} of connection c-1 is being polled by another run"
    assert harness.cursor == before and harness.queued == []
    assert harness.state.leases[lease_name("c-1", STREAM)] == ("run-0", T0 + 900)
    assert len(harness.stream.asked) == 1


def test_two_runs_racing_poll_the_stream_once(harness: Harness) -> None:
    # GIVEN a second run that starts while the first one is still polling
    harness.stream.changes = [(T0 - 10, "e")]
    second: list[PollRun] = []
    harness.stream.during_poll = lambda: second.append(harness.run("run-2")) if not second else None
    # WHEN the first run polls
    first = harness.run("run-1")
    # THEN only the first one polled; the second was skipped while it held the lease
    assert first.skipped is None and [m["change"] for m in harness.queued] == ["e"]
    assert second[0].skipped is not None and "another run" in second[0].skipped
    assert len(harness.stream.asked) == 1
    # AND the lease was released, so the next scheduled run polls at once
    harness.advance(300)
    assert harness.run("run-3").skipped is None


def test_a_lease_left_by_a_crashed_run_is_taken_over_once_it_lapses(harness: Harness) -> None:
    lease = lease_name("c-1", STREAM)
    harness.state.leases[lease] = ("crashed", T0 + 300 + LEASE_MARGIN)

    assert harness.run().skipped is not None
    harness.advance(300 + LEASE_MARGIN + 1)
    assert harness.run().skipped is None
    assert harness.state.leases[lease] == ("run-1", 0.0)  # released by its new holder


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (ConnectionState.UNINSTALLED, "connection c-1 is uninstalled"),
        (ConnectionState.INSTALLING, "connection c-1 is installing"),
        (None, "connection c-1 is deleted"),
    ],
)
def test_a_stream_of_a_connection_that_is_gone_removes_its_own_schedule(
    harness: Harness, state: ConnectionState | None, reason: str
) -> None:
    if state is None:
        del harness.state.connections["c-1"]
    else:
        harness.state.connections["c-1"] = _connection(state)
    harness.schedules.names.add(schedule_name(STREAM, "c-1"))

    run = harness.run()

    assert run.skipped == reason and harness.schedules.names == set()
    assert harness.stream.asked == [] and harness.state.leases == {}


def test_a_stream_switched_off_removes_its_own_schedule(harness: Harness) -> None:
    harness.stream.switched_on = False
    harness.schedules.names.add(schedule_name(STREAM, "c-1"))

    run = harness.run()

    assert run.skipped == f"stream {STREAM} is switched off in the connection's settings"
    assert harness.schedules.names == set() and harness.stream.asked == []


def test_a_paused_connection_is_skipped_but_keeps_its_schedule_and_cursor(harness: Harness) -> None:
    harness.run()
    harness.state.connections["c-1"] = _connection(ConnectionState.PAUSED)
    harness.schedules.names.add(schedule_name(STREAM, "c-1"))
    harness.advance(300)

    run = harness.run()

    assert run.skipped == "connection c-1 is paused"
    assert harness.schedules.names == {schedule_name(STREAM, "c-1")} and harness.cursor == position_at(T0)
