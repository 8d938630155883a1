"""The stock push (flows/stock_push.py, run by flows/push.py for `stock.push`) against in-memory fakes: a made-up
kind's stock source and target, stock marks in a dict, a hand-moved clock. No AWS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import FakeConnections, FakeEventLog, MadeUpKind, connection, registered

from crossdock.connections.model import Connection
from crossdock.flows import stock_push
from crossdock.flows.push import PushDeps, run_command
from crossdock.model.product import StockLevel
from crossdock.ports import StockPushReport
from crossdock.store.events import EventStatus
from crossdock.store.stock import DirtyItem

PUSH = {"command": "stock.push", "connection_id": "c-1"}


@dataclass
class FakeMarks:
    """`ports.StockMarks` in a dict: number → (version, first, last change)."""

    items: dict[str, DirtyItem] = field(default_factory=dict)

    def mark(self, number: str, at: float) -> None:
        seen = self.items.get(number)
        first = seen.first_dirty_at if seen else at
        self.items[number] = DirtyItem(number, (seen.version if seen else 0) + 1, first, at)

    def dirty(self, connection_id: str) -> list[DirtyItem]:
        return sorted(self.items.values(), key=lambda item: (item.first_dirty_at, item.number))

    def clear(self, connection_id: str, item: DirtyItem) -> bool:
        if self.items.get(item.number) != item:
            return False  # changed again meanwhile: it waits for the next push
        del self.items[item.number]
        return True


@dataclass
class Source:
    quantities: dict[str, int]
    missing: str = "not in the made-up ERP"
    reads: list[str] = field(default_factory=list)

    def quantity(self, number: str) -> int | None:
        self.reads.append(number)
        return self.quantities.get(number)


@dataclass
class Target:
    batch_size: int = 2
    batches: list[dict[str, int]] = field(default_factory=list)

    def set_levels(self, wanted: dict[str, StockLevel], report: StockPushReport) -> None:
        self.batches.append({number: level.quantity for number, level in wanted.items()})
        report.pushed += len(wanted)
        report.mutations += 1


@dataclass
class Sync:
    source: Source
    target: Target = field(default_factory=Target)
    on: bool = True

    def enabled(self, connection: Connection) -> bool:
        return self.on

    def endpoints(self, connection: Connection, clients: Any) -> tuple[Source, Target]:
        return self.source, self.target


@dataclass
class Harness:
    sync: Sync
    marks: FakeMarks = field(default_factory=FakeMarks)
    events: FakeEventLog = field(default_factory=FakeEventLog)
    connections: FakeConnections = field(default_factory=FakeConnections)
    now: float = 1000.0
    left: float = 600.0
    slept: list[float] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def deps(self) -> PushDeps:
        return PushDeps(
            table=None,
            clients=None,
            request_stock_push=lambda connection_id: None,
            continue_stock_push=self.continued.append,
            now=lambda: self.now,
            sleep=self.sleep,
            seconds_left=lambda: self.left,
            connection_repository=self.connections,
            event_log=self.events,
            stock_marks=self.marks,
        )


@pytest.fixture
def harness() -> Iterator[Harness]:
    made = Harness(Sync(Source({"A": 5, "B": 0, "C": 12})))
    with registered(MadeUpKind(stock=made.sync)):
        made.connections.add(connection())
        yield made


def test_a_settled_burst_is_read_from_the_source_and_set_a_target_batch_at_a_time(harness: Harness) -> None:
    # GIVEN three items that changed, the last a while ago (the burst has settled)
    for number in ("A", "B", "C"):
        harness.marks.mark(number, at=harness.now - 10)
    # WHEN the push runs
    summary = run_command(PUSH, harness.deps())
    # THEN each quantity is read once when the push runs and set in batches of the target's size; the marks go
    assert harness.sync.source.reads == ["A", "B", "C"]
    assert harness.sync.target.batches == [{"A": 5, "B": 0}, {"C": 12}]
    assert summary == "3 set, 0 already right, 2 mutations"
    assert harness.marks.items == {} and harness.slept == []


def test_a_burst_still_going_is_waited_for_in_the_same_invocation(harness: Harness) -> None:
    # GIVEN a change one second ago (the burst may go on)
    harness.marks.mark("A", at=harness.now - 1)
    # WHEN the push runs
    run_command(PUSH, harness.deps())
    # THEN it waits out the quiet period itself (no message asks for itself again), then pushes
    assert harness.slept == [stock_push.QUIET_SECONDS - 1]
    assert harness.sync.target.batches == [{"A": 5}] and harness.continued == []


def test_a_change_is_never_held_longer_than_the_hold_limit(harness: Harness) -> None:
    # GIVEN an item first changed a minute ago and changing ever since
    harness.marks.mark("A", at=harness.now - stock_push.MAX_HOLD_SECONDS)
    harness.marks.mark("A", at=harness.now)
    # WHEN the push runs
    run_command(PUSH, harness.deps())
    # THEN it pushes at once
    assert harness.slept == [] and harness.sync.target.batches == [{"A": 5}]


def test_too_little_time_left_to_wait_hands_the_push_to_a_continuation(harness: Harness) -> None:
    # GIVEN a burst still going and less Lambda time left than a wait and a batch need
    harness.marks.mark("A", at=harness.now)
    harness.left = stock_push.SECONDS_PER_BATCH_RESERVE + 1
    # WHEN the push runs
    summary = run_command(PUSH, harness.deps())
    # THEN nothing is set, the marks stay, and a continuation of its own is asked for
    assert harness.sync.target.batches == [] and "A" in harness.marks.items
    assert harness.continued == ["c-1"]
    assert summary == "0 set, 0 already right, 0 mutations, 1 waiting for the burst to settle"


def test_an_item_the_source_has_no_quantity_for_is_recorded_as_a_problem_event(harness: Harness) -> None:
    # GIVEN a settled change of an item the source does not know
    harness.marks.mark("GONE", at=harness.now - 10)
    harness.marks.mark("A", at=harness.now - 10)
    # WHEN the push runs
    run_command(PUSH, harness.deps())
    # THEN the known item is set, and the unknown one is a needs_attention `stock/push` event naming it
    assert harness.sync.target.batches == [{"A": 5}]
    problem = harness.events.only()
    assert (problem.source, problem.topic, problem.status) == ("crossdock", "stock/push", EventStatus.NEEDS_ATTENTION)
    assert problem.reason == "GONE: not in the made-up ERP"
    assert problem.details == {"failure_class": "unmapped"}
    assert harness.marks.items == {}


def test_an_item_changed_again_during_the_push_keeps_its_mark(harness: Harness) -> None:
    # GIVEN a settled change, and the item changing again while the target sets it
    harness.marks.mark("A", at=harness.now - 10)
    target = harness.sync.target
    original = target.set_levels

    def set_while_it_changes(wanted: dict[str, StockLevel], report: StockPushReport) -> None:
        original(wanted, report)
        harness.marks.mark("A", at=harness.now)

    target.set_levels = set_while_it_changes  # type: ignore[method-assign]
    # WHEN the push runs
    run_command(PUSH, harness.deps())
    # THEN the newer change waits for the next push
    assert "A" in harness.marks.items and harness.marks.items["A"].version == 2


def test_stock_sync_off_drops_the_marks_without_reading_or_setting(harness: Harness) -> None:
    # GIVEN marks waiting and the kind's stock sync switched off
    harness.marks.mark("A", at=harness.now - 10)
    harness.sync.on = False
    # WHEN the push runs
    run_command(PUSH, harness.deps())
    # THEN nothing is read or set and the marks are gone
    assert harness.sync.source.reads == [] and harness.sync.target.batches == []
    assert harness.marks.items == {}
