"""The `sales#baskets` stream (integrations/rackbeat_shopbox/sales_stream.py) run by the poll flow, with the
cursor, lease and mappings in the table (moto) and a Shopbox client that pages a basket list as the API does.

What it must hold: every basket changed since the cursor (less the overlap) is sent; nothing already in Rackbeat is
sent again; a basket sent twice names the same workflow (so dispatch starts it once); the cursor only moves past
what was read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from shopbox_sales_fakes import Clients, PagedBaskets, connection, wire_basket

from crossdock.connections.model import Connection
from crossdock.errors import RetryableError
from crossdock.flows.poll import PollDeps, PollRun, TableState, moment, position_at, run_poll
from crossdock.integrations.rackbeat_shopbox import sales_inbound, sales_stream
from crossdock.integrations.rackbeat_shopbox.sales_stream import CANCELLED_TOPIC, SOLD_TOPIC, STREAM
from crossdock.ports import InboundEvent, StreamSchedule
from crossdock.store import mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome

T0 = 1_796_205_600  # 2026-12-02T10:00:00Z: a Wednesday morning at the till
MINUTE = 60


@dataclass(frozen=True)
class KnownConnections(TableState):
    """The poll's state in the table, with the connection handed in (the kind's registry line is SETTINGS')."""

    known: dict[str, Connection] = field(default_factory=dict)

    def connection(self, connection_id: str) -> Connection | None:
        return self.known.get(connection_id)


@dataclass
class Till:
    """One connection's sales stream: the Shopbox list, the queue, the clock, the table."""

    table: Any
    shopbox: PagedBaskets = field(default_factory=PagedBaskets)
    queued: list[dict[str, Any]] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [float(T0)])
    seconds_left: float = 280.0
    refuse_queue: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def connection(self) -> Connection:
        return connection(**self.settings)

    def enqueue(self, messages: list[dict[str, Any]]) -> None:
        if self.refuse_queue:
            raise RetryableError("SQS did not accept 1 message(s)")
        self.queued.extend(messages)

    def deps(self, holder: str = "run-1") -> PollDeps:
        return PollDeps(
            table=self.table,
            clients=Clients(shopbox_client=self.shopbox),
            streams=lambda kind: sales_stream.STREAMS,
            enqueue=self.enqueue,
            now=lambda: self.clock[0],
            holder=holder,
            seconds_left=lambda: self.seconds_left,
            state=KnownConnections(self.table, {self.connection.id: self.connection}),
        )

    def poll(self, holder: str = "run-1") -> PollRun:
        return run_poll(self.connection.id, STREAM, self.deps(holder))

    def at(self, seconds: float) -> None:
        self.clock[0] = float(T0 + seconds)

    def sold(self, *uids: int) -> None:
        for uid in uids:
            self.shopbox.add(wire_basket(uid, int(self.clock[0])))

    def sent(self, topic: str = SOLD_TOPIC) -> list[str]:
        return [_uid(message) for message in self.queued if message["topic"] == topic]

    @property
    def cursor(self) -> str | None:
        return KnownConnections(self.table).cursor(self.connection.id, STREAM)

    def transferred(self, uid: int, status: str = "done") -> None:
        mappings.put_mapping(self.table, self.connection.id, "order", "shopbox", str(uid), "5001", status=status)


def _uid(message: dict[str, Any]) -> str:
    return str(json.loads(message["payload"])["uid"])


@pytest.fixture
def till(table: Any) -> Till:
    return Till(table)


@dataclass
class StepFunctions:
    """Dispatch's `start_workflow` as Step Functions answers it: a name started once, a repeat refused."""

    started: list[str] = field(default_factory=list)
    table: Any = None
    clients: Any = None

    def start_workflow(
        self, connection_id: str, name: str, workflow_input: dict[str, Any], repeat: str, redrive: str | None
    ) -> Outcome:
        if name in self.started:
            return Outcome.skipped(f"{repeat} (workflow {name})")
        self.started.append(name)
        return Outcome(EventStatus.RECEIVED, f"workflow {name} started")


def dispatch(messages: list[dict[str, Any]], conn: Connection, workflows: StepFunctions) -> list[Outcome]:
    """Each message through its route, as dispatch hands it over."""
    outcomes = []
    for index, message in enumerate(messages):
        event = InboundEvent(conn, message["source"], message["topic"], message["payload"], f"EVT#{index}", "-")
        route = {SOLD_TOPIC: sales_inbound.basket_sold, CANCELLED_TOPIC: sales_inbound.basket_cancelled}
        outcomes.append(route[message["topic"]](event, workflows))  # type: ignore[arg-type]
    return outcomes


# ---- schedule and overlap -------------------------------------------------------------------------------------------


def test_the_schedule_follows_sales_poll_minutes_and_is_off_with_sales_disabled() -> None:
    # GIVEN the stream of a connection polling every 2 minutes with a 45-minute overlap, and one with sales off
    stream = sales_stream.BasketStream()
    polling = connection(sales={"customer_number": 900, "poll_minutes": 2, "overlap_minutes": 45})
    off = connection(sales={"enabled": False})
    # THEN the first is scheduled every 2 minutes and reaches 45 minutes back; the second has no schedule
    schedule = stream.schedule(polling)
    assert isinstance(schedule, StreamSchedule) and schedule.expression == "rate(2 minutes)"
    assert stream.overlap(polling) == 45 * MINUTE
    assert stream.schedule(off) is None


# ---- windows --------------------------------------------------------------------------------------------------------


def test_a_first_run_sends_the_sales_of_its_window_and_keeps_the_newest_tstamp(till: Till) -> None:
    # GIVEN sales 2 and 20 minutes before the first run, and one made a day before
    till.at(-24 * 60 * MINUTE)
    till.sold(900)
    till.at(-20 * MINUTE)
    till.sold(901)
    till.at(-2 * MINUTE)
    till.sold(902)
    till.at(0)
    # WHEN the stream is polled for the first time (no cursor: it looks back one interval and the overlap)
    run = till.poll()
    # THEN the two recent sales are sent, oldest first, and the cursor is the newest basket's tstamp
    assert till.sent() == ["901", "902"]
    assert run.failure is None and till.cursor == position_at(T0 - 2 * MINUTE)
    assert run.report["listing_order"] == "newest_first" and run.report["complete"] is True


def test_overlapping_windows_send_a_basket_again_only_until_it_reached_rackbeat(till: Till) -> None:
    # GIVEN a sale polled once
    till.at(-MINUTE)
    till.sold(910)
    till.at(0)
    till.poll()
    # WHEN the next run (5 minutes later, its window reaching 30 minutes back) polls before the order is made
    till.at(5 * MINUTE)
    till.poll()
    # THEN the basket is sent again, and dispatch starts its workflow once: both messages name the same workflow
    assert till.sent() == ["910", "910"]
    workflows = StepFunctions(table=till.table, clients=Clients(shopbox_client=till.shopbox))
    outcomes = dispatch(till.queued, till.connection, workflows)
    assert len(workflows.started) == 1 and workflows.started[0].endswith("-order-910")
    assert [o.status for o in outcomes] == [EventStatus.RECEIVED, EventStatus.SKIPPED]
    # AND once its order is in Rackbeat (the mapping says so), a later run within the overlap sends nothing
    till.transferred(910)
    till.queued.clear()
    till.at(10 * MINUTE)
    till.poll()
    assert till.queued == []


def test_a_basket_listed_late_is_caught_by_the_overlap(till: Till) -> None:
    # GIVEN a run at T0 that saw a sale at T0-1m, while a sale made at T0-30s was not listed yet
    till.at(-MINUTE)
    till.sold(920)
    till.at(0)
    till.poll()
    late = wire_basket(921, T0 - 30)
    # WHEN Shopbox lists it only afterwards, and the next run polls
    till.shopbox.add(late)
    till.at(5 * MINUTE)
    till.poll()
    # THEN the late basket is sent (its crdate is before the cursor, but within the overlap)
    assert "921" in till.sent()


def test_rows_that_shift_between_pages_while_sales_arrive_are_read_once_and_none_is_missed(till: Till) -> None:
    # GIVEN 250 sales in the last 25 minutes (three pages of 100)
    for index in range(250):
        till.shopbox.add(wire_basket(1000 + index, T0 - 1500 + index * 6))
    # AND while the run walks the list, 30 sales arrive before each of pages 2 and 3 (pushing rows down a page)
    arrivals = iter(range(2000, 2060))

    def new_sales(page: int) -> None:
        if page in (2, 3):
            for _ in range(30):
                till.shopbox.add(wire_basket(next(arrivals), T0 + page))

    till.shopbox.before_page = new_sales
    till.at(0)
    till.settings = {"sales": {"customer_number": 900, "overlap_minutes": 30}}
    # WHEN the stream is polled (first run: it looks back 35 minutes)
    till.poll()
    # THEN each of the 250 baskets is sent exactly once, though some rows were on two pages
    sent = till.sent()
    assert len(sent) == len(set(sent))
    assert {str(1000 + index) for index in range(250)} <= set(sent)


def test_a_crash_between_reading_and_queuing_sends_again_and_the_workflow_name_dedupes(till: Till) -> None:
    # GIVEN a run whose messages the queue refuses (the run dies between reading and queuing)
    till.at(-MINUTE)
    till.sold(930, 931)
    till.at(0)
    till.refuse_queue = True
    crashed = till.poll()
    assert crashed.failure is not None and till.cursor is None
    # AND one of them did get through another way before (a partial batch)
    till.refuse_queue = False
    workflows = StepFunctions(table=till.table, clients=Clients(shopbox_client=till.shopbox))
    dispatch([sales_stream.basket_message(till.connection.id, SOLD_TOPIC, _row(till, 930))], till.connection, workflows)
    # WHEN the next run polls
    till.at(5 * MINUTE)
    till.poll()
    # THEN both baskets are sent again, and the one already started is refused by its workflow's name
    assert sorted(till.sent()) == ["930", "931"]
    dispatch(till.queued, till.connection, workflows)
    assert sorted(name.rsplit("-", 1)[1] for name in workflows.started) == ["930", "931"]
    assert till.cursor == position_at(T0 - MINUTE)


def _row(till: Till, uid: int) -> Any:
    return next(row for page in till.shopbox.basket_pages() for row in page if row.uid == str(uid))


def test_an_oldest_first_listing_is_read_to_its_end(till: Till) -> None:
    # GIVEN a list that is oldest first, with 150 old sales before the two of the window
    till.shopbox.newest_first = False
    for index in range(150):
        till.shopbox.add(wire_basket(3000 + index, T0 - 86_400 + index))
    till.at(-3 * MINUTE)
    till.sold(3500)
    till.at(-MINUTE)
    till.sold(3501)
    till.at(0)
    # WHEN the stream is polled
    run = till.poll()
    # THEN it read every page (the newest sales come last), sent the window's two, and keeps the newest tstamp
    assert till.shopbox.pages_read == [1, 2]
    assert till.sent() == ["3500", "3501"]
    assert run.report["listing_order"] == "oldest_first"
    assert till.cursor == position_at(T0 - MINUTE)


def test_a_newest_first_listing_stops_after_the_first_page_older_than_the_window(till: Till) -> None:
    # GIVEN 300 sales over the last three days and a cursor an hour ago
    for index in range(300):
        till.shopbox.add(wire_basket(4000 + index, T0 - 3 * 86_400 + index * 864))
    till.at(-60 * MINUTE)
    till.poll()
    pages_before = len(till.shopbox.pages_read)
    # WHEN the next run polls (its window reaching 30 minutes behind the cursor)
    till.at(0)
    till.poll()
    # THEN it read page 1 (the window's sales) and page 2, which is wholly older, and not page 3
    assert till.shopbox.pages_read[pages_before:] == [1, 2]


def test_page_one_answering_500_fails_the_run_and_leaves_the_cursor(till: Till) -> None:
    # GIVEN a cursor, a sale after it, and page 1 answering 500 (after the client's own retry)
    till.at(-10 * MINUTE)
    till.poll()
    cursor = till.cursor
    till.at(-MINUTE)
    till.sold(940)
    till.shopbox.first_page_fails = 1
    till.at(0)
    # WHEN the stream is polled
    failed = till.poll()
    # THEN the run reports the failure, nothing is sent and the cursor stays
    assert failed.failure is not None and failed.failure.failure_class.value == "target_down"
    assert till.queued == [] and till.cursor == cursor
    # AND the next run sends the sale
    till.at(5 * MINUTE)
    till.poll()
    assert till.sent() == ["940"]


def test_a_run_short_of_time_keeps_its_cursor_so_the_next_reads_the_window_again(till: Till) -> None:
    # GIVEN a cursor and 250 sales since, and a Lambda with only 20 seconds left after the first page
    till.at(-30 * MINUTE)
    till.poll()
    cursor = till.cursor
    assert cursor is not None
    for index in range(250):
        till.shopbox.add(wire_basket(5000 + index, T0 - 1700 + index * 6))
    till.at(0)
    till.seconds_left = 20.0
    # WHEN the stream is polled
    run = till.poll()
    # THEN what it read is sent, and the cursor stays where the run started from (the flow moves it a second on)
    assert run.report["complete"] is False and till.sent()
    assert moment(till.cursor or "") == moment(cursor) + 1


# ---- cancellations --------------------------------------------------------------------------------------------------


def test_a_basket_cancelled_later_is_sent_as_a_cancellation_until_its_order_is_cancelled(till: Till) -> None:
    # GIVEN a sale transferred to Rackbeat, then cancelled at the till 10 minutes later (a new tstamp)
    till.at(-11 * MINUTE)
    till.sold(950)
    till.at(-10 * MINUTE)
    till.poll()
    till.transferred(950)
    till.shopbox.cancel(950, T0 - MINUTE)
    till.queued.clear()
    # WHEN the stream is polled
    till.at(0)
    till.poll()
    # THEN the cancellation is sent (and no second sale), naming the cancellation's own workflow
    assert till.sent(CANCELLED_TOPIC) == ["950"] and till.sent() == []
    workflows = StepFunctions(table=till.table, clients=Clients(shopbox_client=till.shopbox))
    dispatch(till.queued, till.connection, workflows)
    assert workflows.started == [f"{till.connection.id}-cancel-950"]
    # AND once the order is cancelled, it is not sent again
    till.transferred(950, status="cancelled")
    till.queued.clear()
    till.at(5 * MINUTE)
    till.poll()
    assert till.queued == []


def test_the_daily_reread_reaches_a_cancellation_of_an_older_basket(till: Till) -> None:
    # GIVEN a busy till: a sale at 15:00 transferred, then 200 later sales, and a cursor at 23:58
    evening = T0 + 5 * 3600  # 15:00 UTC
    till.shopbox.add(wire_basket(960, evening))
    till.transferred(960)
    for index in range(200):
        till.shopbox.add(wire_basket(6000 + index, evening + 3600 + index * 60))
    midnight = T0 + 14 * 3600
    till.clock[0] = midnight - 2 * MINUTE
    till.poll()
    # AND the 15:00 sale is cancelled a minute before midnight (its row stays where its crdate puts it)
    till.shopbox.cancel(960, midnight - MINUTE)
    till.queued.clear()
    # WHEN the first run after midnight polls
    till.clock[0] = midnight + 2 * MINUTE
    run = till.poll()
    # THEN it reached a day back and sent the cancellation
    assert run.report["daily_reread"] is True
    assert till.sent(CANCELLED_TOPIC) == ["960"]


@pytest.mark.parametrize(("cancellation_days", "reached"), [(1, False), (3, True)])
def test_the_daily_reread_reaches_as_many_days_back_as_sales_cancellation_days(
    till: Till, cancellation_days: int, reached: bool
) -> None:
    # GIVEN a till whose sales look back `cancellation_days` for late cancellations
    till.settings = {"sales": {"customer_number": 900, "cancellation_days": cancellation_days}}
    # AND a sale two days before midnight, transferred, then a page of sales the day after it, 200 sales yesterday,
    # and a cursor at 23:58
    midnight = T0 + 14 * 3600
    old_sale = midnight - 2 * 24 * 3600 + 3600
    till.shopbox.add(wire_basket(970, old_sale))
    till.transferred(970)
    for index in range(150):
        till.shopbox.add(wire_basket(8000 + index, midnight - 40 * 3600 + index * 60))
    for index in range(200):
        till.shopbox.add(wire_basket(7000 + index, midnight - 24 * 3600 + index * 60))
    till.clock[0] = midnight - 2 * MINUTE
    till.poll()
    # AND the two-day-old sale is cancelled a minute before midnight
    till.shopbox.cancel(970, midnight - MINUTE)
    till.queued.clear()
    # WHEN the first run after midnight polls
    till.clock[0] = midnight + 2 * MINUTE
    run = till.poll()
    # THEN the cancellation is sent only when the reach-back covers the sale's day
    assert run.report["daily_reread"] is True
    assert till.sent(CANCELLED_TOPIC) == (["970"] if reached else [])


# ---- the lease ----------------------------------------------------------------------------------------------------


def test_two_polls_at_once_are_excluded_by_the_lease(till: Till) -> None:
    # GIVEN a sale, and a second run (a scheduler retry) that starts while the first is reading Shopbox
    till.at(-MINUTE)
    till.sold(970)
    till.at(0)
    second: list[PollRun] = []

    def overlapping_run(page: int) -> None:
        if page == 1 and not second:
            second.append(till.poll(holder="run-2"))

    till.shopbox.before_page = overlapping_run
    # WHEN the first run polls
    first = till.poll(holder="run-1")
    # THEN the second was skipped without reading, and the sale was sent once
    assert second[0].skipped is not None and "being polled by another run" in second[0].skipped
    assert first.failure is None and till.sent() == ["970"]


def test_a_first_run_that_sees_only_older_sales_does_not_set_the_cursor_back(till: Till) -> None:
    # GIVEN a till whose only sale was made two days ago
    till.shopbox.add(wire_basket(980, T0 - 2 * 86_400))
    # WHEN the stream is polled for the first time
    till.poll()
    # THEN nothing is sent, and the cursor is not before the window it read (the next run must not reach back to it)
    assert till.queued == []
    assert moment(till.cursor or "") >= T0 - 35 * MINUTE
