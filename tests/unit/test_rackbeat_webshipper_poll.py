"""`webshipper#orders`, the poll that recovers what Webshipper's webhooks did not bring (`webshipper_stream`): the
handler against the Webshipper and Rackbeat simulators behind Crossdock's real clients, the table in moto, and what
it sends handed to the kind's own routes as dispatch would. Webhooks are dropped by emptying the simulator's outbox
(a delivery lost on the way). What a run costs in Webshipper calls is counted here (docs/webshipper.md "Poll")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_rackbeat_webshipper_inbound import ACCOUNT, CONNECTION, Clients, World, new_world

from crossdock import pacing
from crossdock.connections.model import ConnectionState
from crossdock.errors import RateLimited, RetryableError
from crossdock.integrations.rackbeat_webshipper import webshipper_stream
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.integration import INTEGRATION
from crossdock.ports import PollResult
from crossdock.store import connections, events, leases
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome


@dataclass
class PollPorts:
    table: Any
    clients: Clients
    now: Callable[[], float] = time.time
    seconds_left: Callable[[], float] = field(default=lambda: 300.0)


@pytest.fixture
def world(table: Any) -> World:
    return new_world(table)


def _at(seconds: float) -> str:
    return webshipper_stream._position(seconds)


def poll(world: World, connection: RackbeatWebshipperConnection, **ports: Any) -> PollResult:
    """A run over the last hour (the simulator stamps changes with the wall clock)."""
    handler = INTEGRATION.poll_streams[webshipper_stream.STREAM]
    now = time.time()
    chosen = PollPorts(world.ports.table, world.ports.clients, **ports)
    return handler.poll(connection, _at(now - 3600), _at(now + 1), chosen)


def handle(world: World, connection: RackbeatWebshipperConnection, result: PollResult) -> list[Outcome]:
    """Every message of the run through the kind's routes, as dispatch would hand it over."""
    return [world.deliver(connection, m["topic"], m["payload"], m.get("redrive")) for m in result.messages]


def test_the_stream_is_the_kinds_every_five_minutes_with_two_minutes_overlap(world: World) -> None:
    # GIVEN the kind's streams WHEN asked for its schedule and overlap THEN every 5 minutes, reaching 2 back,
    # whatever order_transfer says (the shipments of the orders we sent are mirrored either way)
    handler = INTEGRATION.poll_streams["webshipper#orders"]
    for transfer in ("both", "rackbeat_to_webshipper", "webshipper_to_rackbeat"):
        connection = world.connection(order_transfer=transfer)
        schedule = handler.schedule(connection)
        assert schedule is not None and schedule.expression == "rate(5 minutes)"
        assert handler.overlap(connection) == 120.0


def test_an_order_whose_webhook_was_lost_is_imported_once_and_the_next_run_costs_only_the_listing(
    world: World,
) -> None:
    # GIVEN a webshop order whose order/created never arrived
    connection = world.connection()
    order_id = world.place()
    world.webhooks()  # lost
    # WHEN the stream runs
    before = world.calls()
    first = poll(world, connection)
    calls = world.calls()[1] - before[1]
    # THEN it sends the manual sync's request for it (one listing page read, nothing else)
    assert first.report["imports_enqueued"] == [order_id] and first.report["shipments_enqueued"] == []
    ((message),) = first.messages
    assert (message["source"], message["topic"], json.loads(message["payload"])) == (
        "crossdock",
        "orders/sync",
        {"webshipper_order": order_id},
    )
    assert message["redrive"] == "reconciliation" and message["connection_id"] == CONNECTION
    assert calls == 1
    assert first.event is not None and order_id in first.event.reason
    # AND handled by the route, it becomes one booked Rackbeat order
    (outcome,) = handle(world, connection, first)
    assert outcome.status is EventStatus.DONE, outcome.reason
    assert world.only_order(order_id)["is_booked"]
    # AND WHEN the stream runs again over the same window THEN nothing is sent, for the one listing call
    before = world.calls()
    again = poll(world, connection)
    assert again.messages == [] and again.event is None
    assert world.calls()[1] - before[1] == 1 and world.calls()[0] == before[0]
    assert len(world.rackbeat_orders(order_id)) == 1


def test_a_lost_shipment_webhook_ships_the_rackbeat_order_once_and_is_then_looked_at_no_more(world: World) -> None:
    # GIVEN an imported order that Webshipper then shipped, the shipment/created lost on the way
    connection = world.connection()
    order_id = world.place()
    world.deliver_all(connection)
    shipment = world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS-77")
    shipment_id = str(shipment["data"]["id"])
    world.webhooks()  # lost
    # WHEN the stream runs
    first = poll(world, connection)
    # THEN it read the order's shipments once and sends the shipment/created Webshipper would have sent
    assert first.report["shipments_enqueued"] == [shipment_id] and first.report["imports_enqueued"] == []
    assert first.report["shipment_listings"] == 1
    ((message),) = first.messages
    assert (message["source"], message["topic"]) == ("webshipper", "shipment/created")
    assert json.loads(message["payload"]) == {"data": {"type": "shipments", "id": shipment_id}}
    # AND handled by the route, the Rackbeat order is shipped once with the tracking number in its note
    (outcome,) = handle(world, connection, first)
    assert outcome.status is EventStatus.DONE, outcome.reason
    order = world.only_order(order_id)
    assert order["is_shipped"] and f"webshipper-shipment-{shipment_id}: GLS GLS-77" in order["note"]
    # AND the next run reads the shipments once more, finds them mirrored and sends nothing; the one after that
    # does not read them at all (the order has not changed since)
    second = poll(world, connection)
    third = poll(world, connection)
    assert second.messages == [] and second.report["shipment_listings"] == 1
    assert third.messages == [] and third.report["shipment_listings"] == 0
    rackbeat = world.rackbeat_sim.state(world.account)
    assert len([s for s in rackbeat.shipments.values() if s["order_number"] == order["number"]]) == 1


def test_an_order_lost_with_its_shipment_is_imported_and_shipped_by_one_request(world: World) -> None:
    # GIVEN a webshop order placed and shipped while every webhook was lost
    connection = world.connection()
    order_id = world.place()
    world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS-88")
    world.webhooks()  # lost
    # WHEN the stream runs and its messages are handled
    result = poll(world, connection)
    outcomes = handle(world, connection, result)
    # THEN one orders/sync imported it and shipped it, once
    assert result.report["imports_enqueued"] == [order_id] and result.report["shipments_enqueued"] == []
    assert [o.status for o in outcomes] == [EventStatus.DONE], [o.reason for o in outcomes]
    order = world.only_order(order_id)
    assert order["is_shipped"] and "GLS-88" in order["note"]
    # AND the next run finds nothing missing
    assert poll(world, connection).messages == []


def test_our_own_orders_are_never_imported_but_their_lost_shipments_are_mirrored(world: World) -> None:
    # GIVEN an order Crossdock sent (rackbeat-<number> in order_channel), still pending, and one shipped whose
    # shipment/created was lost
    connection = world.connection()
    world.place(channel="Rackbeat", ext_ref="rackbeat-1021")
    shipped = world.place(channel="Rackbeat", ext_ref="rackbeat-1022")
    shipment = world.webshipper_sim.ship(ACCOUNT, int(shipped), tracking_number="GLS-99")
    world.webhooks()  # lost
    # WHEN the stream runs
    before = world.calls()
    result = poll(world, connection)
    # THEN neither is sent to be imported; the shipped one's shipment is sent on; the pending one cost no call
    assert result.report["imports_enqueued"] == []
    assert result.report["shipments_enqueued"] == [str(shipment["data"]["id"])]
    assert result.report["shipment_listings"] == 1 and world.calls()[1] - before[1] == 2


def test_what_the_settings_do_not_import_is_not_sent(world: World) -> None:
    # GIVEN a webshop order, and a cancelled one, both webhooks lost
    world.place()
    cancelled = world.place()
    world.webshipper_sim.account(ACCOUNT).of("orders")[int(cancelled)]["status"] = "cancelled"
    world.webhooks()
    # WHEN the stream runs with order_transfer rackbeat_to_webshipper THEN nothing is sent
    assert poll(world, world.connection(order_transfer="rackbeat_to_webshipper")).messages == []
    # AND with imports on, only the order that is not cancelled is
    result = poll(world, world.connection())
    assert len(result.report["imports_enqueued"]) == 1 and cancelled not in result.report["imports_enqueued"]


def test_a_run_short_of_time_sends_what_it_read_and_keeps_its_cursor(world: World) -> None:
    # GIVEN two lost orders and a Lambda nearly out of time (20 s left: under the 30 s reading keeps, over the 15 s
    # queuing keeps)
    connection = world.connection()
    world.place()
    world.place()
    world.webhooks()
    now = time.time()
    since = _at(now - 3600)
    handler = INTEGRATION.poll_streams[webshipper_stream.STREAM]
    ports = PollPorts(world.ports.table, world.ports.clients, seconds_left=lambda: 20.0)
    # WHEN it runs
    result = handler.poll(connection, since, _at(now + 1), ports)
    # THEN it stopped after the first order, sent it, and returns the cursor it started from
    assert result.report["complete"] is False and len(result.messages) == 1
    assert result.position == _at(now - 3600 + 120)


def test_a_first_run_starts_at_the_activation_but_never_more_than_a_day_back(world: World) -> None:
    # GIVEN a stored connection activated two hours ago
    connection = world.connection()
    connections.save_connection(world.ports.table, connection)
    now = time.time()
    connections.set_state(world.ports.table, CONNECTION, ConnectionState.ACTIVE, events.received_stamp(now - 7200))
    handler = INTEGRATION.poll_streams[webshipper_stream.STREAM]
    ports = PollPorts(world.ports.table, world.ports.clients)
    # WHEN its first run (no cursor) comes THEN it reaches back to the activation, less the overlap
    assert handler.poll(connection, None, _at(now), ports).report["since"] == _at(now - 7200 - 120)
    # AND for one activated three days ago, a day back
    connections.set_state(world.ports.table, CONNECTION, ConnectionState.ACTIVE, events.received_stamp(now - 3 * 86400))
    assert handler.poll(connection, None, _at(now), ports).report["since"] == _at(now - 86400)


def test_a_shipment_brought_twice_at_once_is_retried_not_shipped_twice(world: World) -> None:
    # GIVEN a shipment whose webhook and poll message are handled at the same moment (the other holds its lease)
    connection = world.connection()
    order_id = world.place()
    world.deliver_all(connection)
    shipment = world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS-11")
    shipment_id = str(shipment["data"]["id"])
    world.webhooks()
    messages = poll(world, connection).messages * 2
    name = f"webshipper-ship#{CONNECTION}#{shipment_id}"
    held = leases.claim(world.ports.table, name, "the other", 1_000.0, 120.0)
    assert held is not None
    # WHEN one is handled meanwhile THEN it is retried (raised for the queue), and nothing was written
    with pytest.raises(RetryableError, match="being shipped"):
        world.deliver(connection, messages[0]["topic"], messages[0]["payload"])
    assert not world.only_order(order_id)["is_shipped"]
    # AND once the other is done, the retry and the copy ship it once and skip
    leases.release(world.ports.table, held)
    outcomes = [world.deliver(connection, m["topic"], m["payload"]) for m in messages]
    assert [o.status for o in outcomes] == [EventStatus.DONE, EventStatus.SKIPPED]
    assert world.only_order(order_id)["note"].count(f"webshipper-shipment-{shipment_id}:") == 1


def test_webshipper_busy_mid_run_sends_what_was_found_and_keeps_the_cursor(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two imported orders shipped with their shipment webhooks lost, and Webshipper answering 429 past what
    # its client waits out from the second shipment listing on
    connection = world.connection()
    first, second = world.place(), world.place()
    world.deliver_all(connection)
    shipments = [
        world.webshipper_sim.ship(ACCOUNT, int(order), tracking_number=f"GLS-{order}") for order in (first, second)
    ]
    world.webhooks()
    listings: list[str] = []
    real = webshipper_stream.webshipper_orders.order_shipments

    def busy_after_one(client: Any, order_id: str) -> Any:
        listings.append(order_id)
        if len(listings) > 1:
            raise RateLimited("Webshipper throttled GET orders/…/shipments", 30)
        return real(client, order_id)

    monkeypatch.setattr(webshipper_stream.webshipper_orders, "order_shipments", busy_after_one)
    now = time.time()
    handler = INTEGRATION.poll_streams[webshipper_stream.STREAM]
    ports = PollPorts(world.ports.table, world.ports.clients)
    # WHEN the stream runs
    result = handler.poll(connection, _at(now - 3600), _at(now + 1), ports)
    # THEN the first order's shipment is sent, the run is incomplete naming why, and its cursor stays
    assert result.report["shipments_enqueued"] == [str(shipments[0]["data"]["id"])]
    assert result.report["complete"] is False and "throttled" in result.report["stopped"]
    assert result.position == _at(now - 3600 + 120)


class _Waited:
    """The client's waits on a 503 taken at once (they are its own business, not this test's)."""

    waited: float = 0.0

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.waited += seconds


def test_webshipper_down_at_the_listing_fails_the_run(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Webshipper answering 5xx to everything WHEN the stream runs THEN the run fails (the poll flow reports
    # it and keeps the cursor) instead of passing for a quiet one
    monkeypatch.setattr(pacing, "clock", _Waited())
    world.place()
    world.webhooks()
    world.webshipper_sim.faults.server_error_rate = 1.0
    with pytest.raises(RetryableError):
        poll(world, world.connection())
