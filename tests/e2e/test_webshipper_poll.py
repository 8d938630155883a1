"""The Webshipper poll (`webshipper#orders`) end to end on the embedded stack: a connection onboarded through the
operator's commands (its schedule made at activation), the Webshipper and Rackbeat simulators over HTTP, and
`PollFunction` invoked as its schedule would. Webhooks are lost in flight with the simulator's outbox (`lose`, the
fault the chaos run's `lose_rate` draws): the poll brings a lost order into Rackbeat once, a lost shipment ends with
the Rackbeat order shipped once, the orders of a pause arrive after resume, and a second run creates nothing."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from test_webshipper_onboarding import Shipper, new_shipper

from crossdock.flows.poll_schedules import poll_event, schedule_name
from crossdock.integrations.rackbeat_webshipper.webshipper_stream import STREAM
from crossdock.store import cursors, events
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=17) as running:
        yield running


class Warehouse:
    """A Webshipper account connected to Rackbeat through onboarding, with a web shop channel placing orders."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.shipper: Shipper = new_shipper(stack)
        stack.rackbeat.seed_product(self.shipper.rackbeat_account, "BELL-1", "Ringeklokke", "79.20")
        self.connection_id = self.shipper.create(settings=self.shipper.settings(default_location="L1")).connection_id

    def place(self) -> str:
        document = {
            "data": {
                "type": "orders",
                "attributes": {
                    "visible_ref": f"WS-{uuid.uuid4().hex[:6]}",
                    "delivery_address": {
                        "att_contact": "Anna Jensen",
                        "address_1": "Vestergade 12",
                        "zip": "8000",
                        "city": "Aarhus C",
                        "country_code": "DK",
                        "email": f"anna+{uuid.uuid4().hex[:6]}@example.dk",
                    },
                    "order_lines": [{"sku": "BELL-1", "description": "Ringeklokke", "quantity": 1, "unit_price": 79.2}],
                },
                "relationships": {
                    "order_channel": {"data": {"type": "order_channels", "id": self.shipper.webshop}},
                    "shipping_rate": {"data": {"type": "shipping_rates", "id": self.shipper.webshop_rate}},
                },
            }
        }
        return str(self.stack.webshipper.place_order(self.shipper.account, document)["data"]["id"])

    def lose_webhooks(self) -> int:
        return self.stack.webshipper.outbox.lose(self.shipper.account)

    def poll(self) -> dict[str, Any]:
        """A run of the stream five minutes on (as its schedule would), and everything it queued worked off."""
        self.stack.aws.clock.advance(5 * 60)
        result = self.stack.aws.invoke("PollFunction", poll_event(self.connection_id, STREAM))
        assert result.error is None, result.error
        self.stack.settle()
        payload: dict[str, Any] = result.payload
        return payload

    def rackbeat_orders(self, order_id: str) -> list[dict[str, Any]]:
        found = self.stack.rackbeat.state(self.shipper.rackbeat_account).orders.values()
        return [order for order in found if order.get("other_reference") == f"webshipper-{order_id}"]

    def shipments(self, number: int) -> list[dict[str, Any]]:
        found = self.stack.rackbeat.state(self.shipper.rackbeat_account).shipments.values()
        return [shipment for shipment in found if shipment["order_number"] == number]

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [e for e in events.list_events(self.stack.table, self.connection_id) if e["topic"] == topic]

    def schedule(self) -> str | None:
        scheduler = boto3.client("scheduler", region_name=self.stack.aws.region)
        group = self.stack.aws.resources["PollScheduleGroup"].ref
        try:
            found = scheduler.get_schedule(Name=schedule_name(STREAM, self.connection_id), GroupName=group)
        except scheduler.exceptions.ResourceNotFoundException:
            return None
        return str(found["ScheduleExpression"])

    def cli(self, *argv: str) -> str:
        report = io.StringIO()
        code = operator_cli.run(list(argv), self.stack.operator, report)
        assert code == 0, report.getvalue()
        return report.getvalue()


@pytest.fixture
def warehouse(stack: LocalStack) -> Warehouse:
    return Warehouse(stack)


def test_activation_makes_the_schedule(warehouse: Warehouse) -> None:
    # GIVEN a connection just onboarded THEN its poll runs every 5 minutes
    assert warehouse.schedule() == "rate(5 minutes)"


def test_an_order_whose_webhook_was_lost_reaches_rackbeat_once_by_the_poll(warehouse: Warehouse) -> None:
    # GIVEN a web shop order whose order/created was lost on the way
    order_id = warehouse.place()
    assert warehouse.lose_webhooks() >= 1
    warehouse.stack.settle()
    assert warehouse.rackbeat_orders(order_id) == []
    # WHEN the stream runs
    run = warehouse.poll()
    # THEN it sent the order on, and Rackbeat has one booked order for it
    assert run["imports_enqueued"] == [order_id] and run["failure"] is None, run
    (order,) = warehouse.rackbeat_orders(order_id)
    assert order["is_booked"]
    assert [e["status"] for e in warehouse.events("orders/sync")] == ["done"]
    # AND a second run sends nothing and makes nothing
    again = warehouse.poll()
    assert again["imports_enqueued"] == [] and again["shipments_enqueued"] == []
    assert len(warehouse.rackbeat_orders(order_id)) == 1


def test_a_lost_shipment_webhook_ends_with_the_rackbeat_order_shipped_once(warehouse: Warehouse) -> None:
    # GIVEN an order that reached Rackbeat by its webhook, then shipped in Webshipper with its webhook lost
    order_id = warehouse.place()
    warehouse.stack.settle()
    (order,) = warehouse.rackbeat_orders(order_id)
    shipment = warehouse.stack.webshipper.ship(warehouse.shipper.account, int(order_id), tracking_number="GLS-5150")
    assert warehouse.lose_webhooks() >= 1
    warehouse.stack.settle()
    assert not warehouse.rackbeat_orders(order_id)[0]["is_shipped"]
    # WHEN the stream runs
    run = warehouse.poll()
    # THEN the shipment was sent on and the Rackbeat order is shipped once, the tracking number in its note
    shipment_id = str(shipment["data"]["id"])
    assert run["shipments_enqueued"] == [shipment_id], run
    (shipped,) = warehouse.rackbeat_orders(order_id)
    assert shipped["is_shipped"] and f"webshipper-shipment-{shipment_id}: GLS GLS-5150" in shipped["note"]
    assert len(warehouse.shipments(order["number"])) == 1
    # AND the next runs send nothing (the second reads the shipments once more, the third not at all)
    second, third = warehouse.poll(), warehouse.poll()
    assert second["shipments_enqueued"] == [] and third["shipments_enqueued"] == []
    assert third["shipment_listings"] == 0
    assert len(warehouse.shipments(order["number"])) == 1


def test_orders_placed_during_a_pause_arrive_after_resume(warehouse: Warehouse) -> None:
    # GIVEN a connection that has polled (a cursor), then paused: its schedule goes, its cursor stays
    warehouse.poll()
    cursor = cursors.load(warehouse.stack.table, warehouse.connection_id, STREAM)
    assert cursor is not None
    paused = warehouse.cli("connections", "pause", warehouse.connection_id)
    assert "poll schedule removed, cursor kept" in paused and warehouse.schedule() is None
    # AND an order placed while paused: its webhooks come and are skipped
    during = warehouse.place()
    warehouse.stack.settle()
    assert warehouse.rackbeat_orders(during) == []
    assert all(e["status"] == "skipped" for e in warehouse.events("order/created"))
    # WHEN the operator resumes THEN the schedule is back and resume says the poll reads the pause
    resumed = warehouse.cli("connections", "resume", warehouse.connection_id)
    assert "the next poll run reads what Webshipper changed during the pause" in resumed
    assert warehouse.schedule() == "rate(5 minutes)"
    # AND the next run brings the order of the pause into Rackbeat, once
    run = warehouse.poll()
    assert run["imports_enqueued"] == [during], run
    assert len(warehouse.rackbeat_orders(during)) == 1
    assert warehouse.poll()["imports_enqueued"] == [] and len(warehouse.rackbeat_orders(during)) == 1


def test_uninstall_removes_the_schedule_and_its_cursor(warehouse: Warehouse) -> None:
    # GIVEN a connection that has polled WHEN it is uninstalled THEN its schedule and cursor are gone
    warehouse.poll()
    done = warehouse.cli("connections", "uninstall", warehouse.connection_id)
    assert "poll schedule removed" in done
    assert warehouse.schedule() is None
    assert cursors.load(warehouse.stack.table, warehouse.connection_id, STREAM) is None
