"""Rackbeat → Webshipper through the route handlers (issue 15, items 3 and the second half of 5): a Rackbeat
webhook as dispatch hands it over, Crossdock's real Rackbeat and Webshipper clients, both simulators behind them
and the table in moto. What each handler costs in calls to either system is counted here (docs/webshipper.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import FakeSecrets

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.order_events import ORDER_BOOKED, SHIPMENT_SHIPPED
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import API_TOKEN
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.errors import RetryableError
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.rackbeat_webhooks import ROUTES, rackbeat_events
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.ports import InboundEvent
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.webshipper.simulator import WebshipperSimulator

RACKBEAT_KEY = "rb_outbound_key"
ACCOUNT = "cykelhuset"
WEBSHIPPER_API = f"https://webshipper.test/{ACCOUNT}/v2"
PICKUP_TERM, HOME_TERM = 10, 11
STAFF = 2


@dataclass
class Clients:
    """`ConnectionClients` as the handlers use it: one client per system, counting their calls."""

    rackbeat_client: RackbeatClient
    webshipper_client: WebshipperClient

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        return self.rackbeat_client

    def webshipper(self, connection: Any) -> WebshipperClient:
        return self.webshipper_client


@dataclass
class Ports:
    table: Any
    clients: Clients
    secrets: Any = None
    send_outbound: Any = None
    schedules: Any = None
    now: Any = field(default=lambda: 0.0)

    def start_workflow(self, *args: Any) -> Outcome:
        raise AssertionError("no workflow is started by the outbound routes")


@dataclass
class World:
    rackbeat_sim: RackbeatSimulator
    webshipper_sim: WebshipperSimulator
    ports: Ports
    channel: str
    rates: dict[str, str]
    account: int = 1

    def connection(self, **settings: Any) -> RackbeatWebshipperConnection:
        chosen = {
            "order_channel": self.channel,
            "delivery_term_rates": {
                str(PICKUP_TERM): self.rates["GLS Pakkeshop"],
                str(HOME_TERM): self.rates["Privat"],
            },
            **settings,
        }
        return RackbeatWebshipperConnection(
            id="c-outbound",
            accounts=RackbeatWebshipperAccounts(
                rackbeat=RackbeatAccount(account_id=self.account),
                webshipper=WebshipperAccount(account=ACCOUNT, api_base=WEBSHIPPER_API),
            ),
            settings=RackbeatWebshipperSettings.model_validate(chosen),
        )

    def deliver(
        self, connection: RackbeatWebshipperConnection, topic: str, key: int, redrive: str | None = None
    ) -> Outcome:
        """Rackbeat's webhook, as dispatch hands it to the route for its topic."""
        key_name = "id" if topic == SHIPMENT_SHIPPED else "number"
        body = json.dumps({"key_name": key_name, "key": str(key)})
        event = InboundEvent(connection, "rackbeat", topic, body, "EVT#1", "2026-12-07T12:00:00Z", redrive)
        (route,) = [route for route in ROUTES if topic in route.topics]
        return route.handle(event, self.ports)

    @property
    def rackbeat(self) -> RackbeatClient:
        return self.ports.clients.rackbeat_client

    @property
    def webshipper(self) -> WebshipperClient:
        return self.ports.clients.webshipper_client

    def book(self, customer: int = 100, **fields: Any) -> int:
        body = {
            "customer_id": customer,
            "delivery_terms": PICKUP_TERM,
            "delivery_address_name": "Anna Jensen",
            "delivery_address_street": "Vestergade 12",
            "delivery_address_zipcode": "8000",
            "delivery_address_city": "Aarhus C",
            "delivery_address_country": "DK",
            "lines": [{"item_id": "MUG-1", "quantity": 2, "line_price": "80"}],
            **fields,
        }
        number: int = self.rackbeat.post("orders", body)["order"]["number"]
        return number

    def ship_in_rackbeat(self, number: int) -> int:
        shipment = self.rackbeat.post(f"orders/{number}/create-shipment")["order_shipment"]
        self.rackbeat.post(f"orders/shipments/{shipment['id']}/mark-shipped", {"pick": True})
        return int(shipment["id"])

    def webshipper_orders(self, ext_ref: str) -> list[dict[str, Any]]:
        return [o for o in self.webshipper_sim.orders(ACCOUNT) if o["attributes"]["ext_ref"] == ext_ref]

    def calls(self) -> tuple[int, int]:
        return self.rackbeat.calls, self.webshipper.calls


@pytest.fixture
def world(table: Any) -> Iterator[World]:
    rackbeat_sim = RackbeatSimulator()
    account = rackbeat_sim.add_account(RACKBEAT_KEY)
    rackbeat_sim.seed_location(account, "L1", "Lager Aarhus")
    rackbeat_sim.seed_customer_group(account, 1, "Webshop")
    rackbeat_sim.seed_customer_group(account, STAFF, "Personale")
    rackbeat_sim.seed_delivery_terms(account, PICKUP_TERM, "GLS Pakkeshop")
    rackbeat_sim.seed_delivery_terms(account, HOME_TERM, "PostNord privat")
    rackbeat_sim.seed_customer(account, 100, "Jensen Cykler ApS", customer_group_id=1)
    rackbeat_sim.seed_customer(account, 200, "Kantinen", customer_group_id=STAFF)
    rackbeat_sim.seed_product(account, "MUG-1", "Krus blå", "80", location_stock={"L1": 50})
    webshipper_sim = WebshipperSimulator()
    seeded = webshipper_sim.seed_account(
        ACCOUNT,
        carriers=[{"name": "GLS", "alias": "gls"}, {"name": "PostNord", "alias": "postnord"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[
            {"name": "GLS Pakkeshop", "carrier": "gls", "channel": "Rackbeat"},
            {"name": "Privat", "carrier": "postnord", "channel": "Rackbeat"},
            # For test_rackbeat_webshipper_shipping_rate: a rate that requires a drop point, one for a default.
            {"name": "PostNord Pakkeshop", "carrier": "postnord", "channel": "Rackbeat", "require_drop_point": True},
            {"name": "GLS Standard", "carrier": "gls", "channel": "Rackbeat"},
        ],
    )
    secrets = FakeSecrets()
    secrets.put("c-outbound", API_TOKEN, webshipper_sim.add_api_token(ACCOUNT))
    web_account = WebshipperAccount(account=ACCOUNT, api_base=WEBSHIPPER_API)
    tokens = WebshipperTokens("c-outbound", web_account, secrets, leases=None, holder="test")  # type: ignore[arg-type]
    webshipper = WebshipperClient(web_account, tokens, transport=transport(webshipper_sim))
    rackbeat = RackbeatClient("https://app.rackbeat.com/api/", RACKBEAT_KEY, transport=transport(rackbeat_sim, "/api"))
    ports = Ports(table=table, clients=Clients(rackbeat, webshipper))
    rates = {name: str(rate) for name, rate in seeded["rates"].items()}
    yield World(rackbeat_sim, webshipper_sim, ports, str(seeded["channels"]["Rackbeat"]), rates, account)


def test_a_booked_order_becomes_exactly_one_webshipper_order_at_two_calls_to_each_system(world: World) -> None:
    """GIVEN a connection sending booked orders WHEN Rackbeat's `order.booked` arrives, and then again (Rackbeat
    documents duplicates) THEN there is one Webshipper order `rackbeat-<number>` in the channel with the rate the
    delivery term maps to; the first delivery costs 1 Rackbeat and 2 Webshipper calls, the repeat none."""
    connection = world.connection()
    number = world.book()

    before = world.calls()
    first = world.deliver(connection, ORDER_BOOKED, number)
    after_first = world.calls()
    again = world.deliver(connection, ORDER_BOOKED, number)

    assert first.status is EventStatus.DONE, first.reason
    assert (after_first[0] - before[0], after_first[1] - before[1]) == (1, 2)
    assert again.status is EventStatus.SKIPPED and "was sent already" in again.reason
    assert world.calls() == after_first
    (sent,) = world.webshipper_orders(f"rackbeat-{number}")
    assert sent["attributes"]["visible_ref"] == str(number)
    assert sent["attributes"]["status"] == "pending"
    assert sent["attributes"]["delivery_address"]["att_contact"] == "Anna Jensen"
    assert [(line["sku"], line["quantity"]) for line in sent["attributes"]["order_lines"]] == [("MUG-1", 2)]
    assert str(sent["attributes"]["shipping_rate_id"]) == world.rates["GLS Pakkeshop"]
    assert str(sent["attributes"]["order_channel_id"]) == world.channel


def test_a_lost_answer_to_the_create_is_adopted_on_the_retry(world: World) -> None:
    """GIVEN Webshipper commits the create and the answer is lost WHEN the queue retries the event (an operator's
    redrive even looks in Webshipper again) THEN the order made by the lost call is adopted: still one order, found
    by one look-up."""
    connection = world.connection()
    number = world.book()
    world.webshipper_sim.faults.drop_response_rate = 1.0

    with pytest.raises(RetryableError):
        world.deliver(connection, ORDER_BOOKED, number)
    world.webshipper_sim.faults.drop_response_rate = 0.0
    before = world.calls()
    retried = world.deliver(connection, ORDER_BOOKED, number)
    retry_calls = (world.calls()[0] - before[0], world.calls()[1] - before[1])
    redriven = world.deliver(connection, ORDER_BOOKED, number, redrive="operator")

    assert retried.status is EventStatus.DONE and "adopted" in retried.reason
    assert retry_calls == (1, 1)  # the order read again; the look-up finds what the lost call made
    assert redriven.status is EventStatus.DONE and "adopted" in redriven.reason
    assert len(world.webshipper_orders(f"rackbeat-{number}")) == 1


def test_an_excluded_customer_group_is_skipped_after_one_customer_read(world: World) -> None:
    connection = world.connection(excluded_customer_groups=[STAFF])
    number = world.book(customer=200)

    before = world.calls()
    outcome = world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.SKIPPED
    assert f"customer 200 is in customer group {STAFF}" in outcome.reason
    assert (world.calls()[0] - before[0], world.calls()[1] - before[1]) == (2, 0)
    assert world.webshipper_orders(f"rackbeat-{number}") == []


def test_a_delivery_term_without_a_rate_needs_attention_and_sends_nothing(world: World) -> None:
    connection = world.connection(delivery_term_rates={str(HOME_TERM): world.rates["Privat"]})
    number = world.book()

    outcome = world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert f"has delivery term {PICKUP_TERM}, which delivery_term_rates does not map" in outcome.reason
    assert "default_shipping_rate is not set" in outcome.reason
    assert world.webshipper_orders(f"rackbeat-{number}") == []


def test_shipped_in_rackbeat_marks_the_webshipper_order_dispatched_once(world: World) -> None:
    """GIVEN an order sent to Webshipper WHEN Rackbeat ships it (`order_shipment.shipped`) THEN its Webshipper
    order is dispatched (Rackbeat 2 reads, Webshipper 1 read + 1 PATCH); a repeat finds it dispatched and leaves
    it."""
    connection = world.connection()
    number = world.book()
    world.deliver(connection, ORDER_BOOKED, number)
    shipment = world.ship_in_rackbeat(number)

    before = world.calls()
    shipped = world.deliver(connection, SHIPMENT_SHIPPED, shipment)
    after = world.calls()
    again = world.deliver(connection, SHIPMENT_SHIPPED, shipment)

    assert shipped.status is EventStatus.DONE, shipped.reason
    assert (after[0] - before[0], after[1] - before[1]) == (2, 2)
    (sent,) = world.webshipper_orders(f"rackbeat-{number}")
    assert sent["attributes"]["status"] == "dispatched"
    assert again.status is EventStatus.SKIPPED and "dispatched already" in again.reason


def test_an_order_webshipper_shipped_is_not_dispatched_back(world: World) -> None:
    """GIVEN an order sent to Webshipper and shipped there (INBOUND then ships the Rackbeat order and writes its
    note line) WHEN Rackbeat's shipped webhook comes THEN nothing is written to Webshipper: neither the note's
    marker nor the Webshipper order's own state lets it loop back."""
    connection = world.connection()
    number = world.book()
    world.deliver(connection, ORDER_BOOKED, number)
    (sent,) = world.webshipper_orders(f"rackbeat-{number}")
    world.webshipper_sim.ship(ACCOUNT, int(sent["id"]), tracking_number="00370712345")
    world.rackbeat.put(f"orders/{number}", {"note": "webshipper-shipment-7001: GLS 00370712345"})
    marked = world.ship_in_rackbeat(number)
    unmarked_number = world.book()
    world.deliver(connection, ORDER_BOOKED, unmarked_number)
    (unmarked,) = world.webshipper_orders(f"rackbeat-{unmarked_number}")
    world.webshipper_sim.ship(ACCOUNT, int(unmarked["id"]), tracking_number="00370712346")
    overtaking = world.ship_in_rackbeat(unmarked_number)  # INBOUND's note not written yet

    by_note = world.deliver(connection, SHIPMENT_SHIPPED, marked)
    by_state = world.deliver(connection, SHIPMENT_SHIPPED, overtaking)

    assert by_note.status is EventStatus.SKIPPED and "shipped from Webshipper" in by_note.reason
    assert by_state.status is EventStatus.SKIPPED and "is dispatched already" in by_state.reason


def test_with_shipment_shipped_each_shipment_is_an_order_of_its_own(world: World) -> None:
    """GIVEN `transfer_when=shipment_shipped` WHEN an order is booked THEN nothing goes; WHEN a partial shipment of
    one mug is shipped, and then the rest THEN there are two Webshipper orders, one per shipment, each with its own
    quantity, and a repeated webhook adds none."""
    connection = world.connection(transfer_when="shipment_shipped")
    number = world.book()
    booked = world.deliver(connection, ORDER_BOOKED, number)
    order = world.rackbeat.get(f"orders/{number}")["order"]
    line = order["lines"][0]["id"]
    first = world.rackbeat.post(f"orders/{number}/create-shipment", {"lines": [{"line_id": line, "quantity": 1}]})[
        "order_shipment"
    ]["id"]
    world.rackbeat.post(f"orders/shipments/{first}/mark-shipped", {"pick": True})
    second = world.ship_in_rackbeat(number)

    before = world.calls()
    outcomes = [world.deliver(connection, SHIPMENT_SHIPPED, first)]
    first_calls = (world.calls()[0] - before[0], world.calls()[1] - before[1])
    outcomes += [world.deliver(connection, SHIPMENT_SHIPPED, shipment) for shipment in (second, first)]

    assert booked.status is EventStatus.SKIPPED
    assert [o.status for o in outcomes] == [EventStatus.DONE, EventStatus.DONE, EventStatus.SKIPPED]
    assert first_calls == (2, 2)  # Rackbeat: the shipment, the order; Webshipper: the look-up, the create
    for shipment in (first, second):
        (sent,) = world.webshipper_orders(f"rackbeat-{number}-{shipment}")
        assert [line["quantity"] for line in sent["attributes"]["order_lines"]] == [1]


def test_transfers_only_from_webshipper_register_and_send_nothing(world: World) -> None:
    connection = world.connection(order_transfer="webshipper_to_rackbeat", order_channel=None)
    number = world.book()

    outcome = world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.SKIPPED
    assert rackbeat_events(connection.settings) == []
    assert rackbeat_events(world.connection().settings) == [ORDER_BOOKED, SHIPMENT_SHIPPED]
    assert rackbeat_events(world.connection(transfer_when="shipment_shipped").settings) == [SHIPMENT_SHIPPED]


def test_with_shipment_shipped_a_later_shipment_goes_after_webshipper_shipped_an_earlier_one(world: World) -> None:
    """GIVEN `shipment_shipped`, a first partial shipment sent and shipped in Webshipper (INBOUND then writes its
    note line on the Rackbeat order) WHEN the rest is shipped in Rackbeat THEN it still becomes a Webshipper order:
    the note line stands for the earlier parcel, not this one."""
    connection = world.connection(transfer_when="shipment_shipped")
    number = world.book()
    line = world.rackbeat.get(f"orders/{number}")["order"]["lines"][0]["id"]
    first = world.rackbeat.post(f"orders/{number}/create-shipment", {"lines": [{"line_id": line, "quantity": 1}]})[
        "order_shipment"
    ]["id"]
    world.rackbeat.post(f"orders/shipments/{first}/mark-shipped", {"pick": True})
    world.deliver(connection, SHIPMENT_SHIPPED, first)
    (sent,) = world.webshipper_orders(f"rackbeat-{number}-{first}")
    world.webshipper_sim.ship(ACCOUNT, int(sent["id"]), tracking_number="00370712347")
    world.rackbeat.put(f"orders/{number}", {"note": "webshipper-shipment-7001: GLS 00370712347"})
    second = world.ship_in_rackbeat(number)

    outcome = world.deliver(connection, SHIPMENT_SHIPPED, second)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert len(world.webshipper_orders(f"rackbeat-{number}-{second}")) == 1
