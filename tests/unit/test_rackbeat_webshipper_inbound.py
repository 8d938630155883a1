"""Webshipper → Rackbeat through the route handlers (issue 15, items 4, the first half of 5, and 8): Webshipper's
webhooks exactly as the Webshipper simulator renders and signs them (taken from its outbox, never written by hand),
handed over as dispatch does, Crossdock's real Rackbeat and Webshipper clients with both simulators behind them,
the table in moto. What an import costs in calls to either system is counted here (docs/webshipper.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from flow_fakes import FakeSecrets

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import API_TOKEN
from crossdock.connectors.webshipper.shapes import WebshipperOrder
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.errors import PermanentError, RetryableError
from crossdock.integrations.rackbeat_webshipper import import_mapping
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.manual_sync import SYNC, parse_key
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.integrations.rackbeat_webshipper.webshipper_webhooks import ROUTES
from crossdock.ports import InboundEvent
from crossdock.store import leases
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.webshipper.simulator import WebshipperSimulator

RACKBEAT_KEY = "rb_inbound_key"
ACCOUNT = "cykelhuset"
WEBSHIPPER_API = f"https://webshipper.test/{ACCOUNT}/v2"
CONNECTION = "c-inbound"
GROUP, EMPLOYEE, LAYOUT, TERMS, NEW_ITEMS, FALLBACK = 3, 7, 2, 14, 20, 999
TOPICS = ("order/created", "order/updated", "shipment/created")


@dataclass
class Clients:
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
    schedules: Any = None
    now: Any = field(default=lambda: 1_000.0)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_outbound(self, system: str, message: dict[str, Any], group: str, dedupe: str) -> None:
        self.sent.append((system, message))

    def start_workflow(self, *args: Any) -> Outcome:
        raise AssertionError("no workflow is started by the Webshipper routes")


@dataclass
class World:
    rackbeat_sim: RackbeatSimulator
    webshipper_sim: WebshipperSimulator
    ports: Ports
    channels: dict[str, str]
    rate: str
    account: int

    def connection(self, **settings: Any) -> RackbeatWebshipperConnection:
        chosen = {
            "order_channel": self.channels["Rackbeat"],
            "default_customer_group": GROUP,
            "default_employee": EMPLOYEE,
            "default_layout": LAYOUT,
            "default_payment_terms": TERMS,
            "default_location": "L1",
            "tracking_to_shopify": False,
            **settings,
        }
        return RackbeatWebshipperConnection(
            id=CONNECTION,
            accounts=RackbeatWebshipperAccounts(
                rackbeat=RackbeatAccount(account_id=self.account),
                webshipper=WebshipperAccount(account=ACCOUNT, api_base=WEBSHIPPER_API),
            ),
            settings=RackbeatWebshipperSettings.model_validate(chosen),
        )

    def place(self, *lines: dict[str, Any], channel: str = "Webshop", **attributes: Any) -> str:
        """An order placed in Webshipper's webshop channel (by the simulator's control API)."""
        document = {
            "data": {
                "type": "orders",
                "attributes": {
                    "visible_ref": "WS-5001",
                    "currency": "DKK",
                    "delivery_address": {
                        "att_contact": "Anna Jensen",
                        "address_1": "Vestergade 12",
                        "zip": "8000",
                        "city": "Aarhus C",
                        "country_code": "DK",
                        "email": "anna@example.dk",
                    },
                    "order_lines": list(lines)
                    or [{"sku": "MUG-1", "description": "Krus blå", "quantity": 2, "unit_price": 64.0}],
                    **attributes,
                },
                "relationships": {
                    "order_channel": {"data": {"type": "order_channels", "id": self.channels[channel]}},
                    "shipping_rate": {"data": {"type": "shipping_rates", "id": self.rate}},
                },
            }
        }
        return str(self.webshipper_sim.place_order(ACCOUNT, document)["data"]["id"])

    def webhooks(self) -> list[tuple[str, str]]:
        """What Webshipper would deliver now (topic, raw body), oldest first; the outbox is emptied."""
        found = [(d.topic, d.body.decode()) for d in self.webshipper_sim.pending()]
        self.webshipper_sim.outbox.lose(ACCOUNT)
        return found

    def deliver(
        self, connection: RackbeatWebshipperConnection, topic: str, body: str, redrive: str | None = None
    ) -> Outcome:
        source = "crossdock" if topic == "orders/sync" else "webshipper"
        event = InboundEvent(connection, source, topic, body, "EVT#1", "2026-12-07T12:00:00Z", redrive)
        (route,) = [route for route in ROUTES if route.source == source and topic in route.topics]
        return route.handle(event, self.ports)

    def deliver_all(self, connection: RackbeatWebshipperConnection) -> list[Outcome]:
        return [self.deliver(connection, topic, body) for topic, body in self.webhooks()]

    def rackbeat_orders(self, order_id: str) -> list[dict[str, Any]]:
        found = self.rackbeat_sim.state(self.account).orders.values()
        return [order for order in found if order.get("other_reference") == f"webshipper-{order_id}"]

    def only_order(self, order_id: str) -> dict[str, Any]:
        (order,) = self.rackbeat_orders(order_id)
        return order

    def calls(self) -> tuple[int, int]:
        return self.ports.clients.rackbeat_client.calls, self.ports.clients.webshipper_client.calls


@pytest.fixture
def world(table: Any) -> World:
    return new_world(table)


def new_world(table: Any) -> World:
    """Both simulators seeded, the clients behind them, Webshipper's three topics registered (the poll's tests
    start from here too)."""
    rackbeat_sim = RackbeatSimulator()
    account = rackbeat_sim.add_account(RACKBEAT_KEY)
    rackbeat_sim.seed_location(account, "L1", "Lager Aarhus")
    rackbeat_sim.seed_location(account, "L2", "Lager Odense")
    rackbeat_sim.seed_customer_group(account, GROUP, "Webshipper")
    rackbeat_sim.seed_employee(account, EMPLOYEE, "Lene Lager")
    rackbeat_sim.seed_layout(account, LAYOUT, "Standard")
    rackbeat_sim.seed_payment_terms(account, TERMS, "Netto 14 dage", days=14)
    rackbeat_sim.seed_product_group(account, NEW_ITEMS, "Fra Webshipper")
    rackbeat_sim.seed_customer(account, FALLBACK, "Webshipper-kunder")
    rackbeat_sim.seed_product(
        account, "MUG-1", "Krus blå", "80", location_stock={"L2": 50}, default_location={"number": "L2"}
    )
    rackbeat_sim.seed_product(account, "CUP-1", "Kop", "40", location_stock={"L1": 50})
    webshipper_sim = WebshipperSimulator()
    seeded = webshipper_sim.seed_account(
        ACCOUNT,
        carriers=[{"name": "GLS", "alias": "gls"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[
            {"name": "GLS Privat", "carrier": "gls", "channel": "Webshop"},
            {"name": "GLS Rackbeat", "carrier": "gls", "channel": "Rackbeat"},
        ],
    )
    secrets = FakeSecrets()
    secrets.put(CONNECTION, API_TOKEN, webshipper_sim.add_api_token(ACCOUNT))
    web_account = WebshipperAccount(account=ACCOUNT, api_base=WEBSHIPPER_API)
    tokens = WebshipperTokens(CONNECTION, web_account, secrets, leases=None, holder="test")  # type: ignore[arg-type]
    webshipper = WebshipperClient(web_account, tokens, transport=transport(webshipper_sim))
    for topic in TOPICS:
        body = {
            "data": {
                "type": "webhooks",
                "attributes": {"url": "https://crossdock.test/w", "topic": topic, "secret": "s"},
            }
        }
        webshipper.post("webhooks", body)
    rackbeat = RackbeatClient("https://app.rackbeat.com/api/", RACKBEAT_KEY, transport=transport(rackbeat_sim, "/api"))
    ports = Ports(table=table, clients=Clients(rackbeat, webshipper))
    channels = {label: str(number) for label, number in seeded["channels"].items()}
    return World(rackbeat_sim, webshipper_sim, ports, channels, str(seeded["rates"]["GLS Privat"]), account)


# ---- the mapping, on the simulator's rendering ------------------------------------------------------------------


def test_an_order_maps_to_a_draft_with_the_settings_defaults_the_marker_and_both_addresses(world: World) -> None:
    """GIVEN a webshop order as Webshipper's `order/created` shows it (links-only relationships, string ids)
    WHEN it is mapped THEN the draft carries the settings' employee, layout, payment terms and VAT zone, the
    marker `webshipper-<id>`, the line at its location, the discount as a share and the delivery address."""
    order_id = world.place(
        {"sku": "MUG-1", "description": "Krus blå", "quantity": 2, "unit_price": 80.0, "discounted_unit_price": 60.0,
         "vat_percent": 25.0},
        billing_address={"company_name": "Jensen Cykler ApS", "address_1": "Torvet 1", "zip": "8000",
                         "city": "Aarhus C", "country_code": "DK"},
    )  # fmt: skip
    ((topic, body),) = world.webhooks()
    order = WebshipperOrder.parse(json.loads(body)["data"])
    settings = world.connection(default_vat_zone="eu").settings
    lines = import_mapping.check_lines(order)
    draft = import_mapping.order_body(order, lines, {"MUG-1": "L2"}, 42, settings)

    assert topic == "order/created" and order.id == order_id and order.channel_id == world.channels["Webshop"]
    assert draft["other_reference"] == f"webshipper-{order_id}"
    assert (draft["customer_id"], draft["employee_id"], draft["our_reference_id"]) == (42, EMPLOYEE, EMPLOYEE)
    assert (draft["layout_id"], draft["payment_terms_id"], draft["vat_zone"]) == (LAYOUT, TERMS, "eu")
    assert draft["lines"] == [
        {"item_id": "MUG-1", "name": "Krus blå", "quantity": 2, "line_price": "80", "discount_percentage": "25",
         "vat_percentage": "25", "location_id": "L2"},
    ]  # fmt: skip
    assert draft["delivery_address_name"] == "Anna Jensen" and draft["delivery_address_city"] == "Aarhus C"
    assert draft["address_name"] == "Jensen Cykler ApS"
    assert import_mapping.customer_email(order) == "anna@example.dk"


def test_a_line_without_sku_and_an_address_without_contact_or_company_are_refused_naming_the_field(
    world: World,
) -> None:
    """GIVEN orders as Webshipper renders them, one with a line without SKU, one addressed to nobody WHEN they are
    checked THEN each is refused naming the field."""
    world.place({"description": "Gavekort", "quantity": 1, "unit_price": 100.0})
    world.place(
        delivery_address={"address_1": "Vestergade 12", "zip": "8000", "city": "Aarhus C", "country_code": "DK"}
    )
    (_, no_sku), (_, nobody) = world.webhooks()

    with pytest.raises(PermanentError, match=r"order_lines\[0\]\.sku: the line \(Gavekort\) has no SKU"):
        import_mapping.check_lines(WebshipperOrder.parse(json.loads(no_sku)["data"]))
    with pytest.raises(PermanentError, match=r"delivery_address\.att_contact: .*neither a contact"):
        import_mapping.check_address(WebshipperOrder.parse(json.loads(nobody)["data"]))


def test_locations_follow_use_product_default_location(world: World) -> None:
    """GIVEN an item with a default location and one without WHEN lines are placed THEN with
    `use_product_default_location` the item's own location wins and `default_location` covers the other; without it
    `default_location` is always used."""
    on = world.connection().settings
    off = world.connection(use_product_default_location=False).settings
    mug = {"default_location": {"number": "L2"}}

    assert import_mapping.line_location(mug, on) == "L2"
    assert import_mapping.line_location({"default_location": None}, on) == "L1"
    assert import_mapping.line_location(mug, off) == "L1"


# ---- order/created → one Rackbeat order ---------------------------------------------------------------------------


def test_a_webshop_order_becomes_one_booked_rackbeat_order_and_its_repeats_none(world: World) -> None:
    """GIVEN a webshop order in Webshipper WHEN its `order/created` arrives, then again (a duplicate), then an
    `order/updated` THEN Rackbeat has one booked order for it: a new customer in `default_customer_group` found by
    the e-mail, the line at the item's default location; the repeats are skipped naming the order."""
    connection = world.connection()
    order_id = world.place()
    ((topic, body),) = world.webhooks()

    before = world.calls()
    first = world.deliver(connection, topic, body)
    after = world.calls()
    again = world.deliver(connection, topic, body)
    updated = world.deliver(connection, "order/updated", body)

    assert first.status is EventStatus.DONE, first.reason
    order = world.only_order(order_id)
    assert first.details["rackbeat_order"] == str(order["number"])
    assert order["is_booked"] and order["heading"] == "Webshipper order WS-5001"
    assert [(line["item_id"], line["quantity"], line["location_id"]) for line in order["lines"]] == [
        ("MUG-1", Decimal(2), "L2")
    ]
    assert (order["employee_id"], order["layout_id"], order["payment_terms_id"]) == (EMPLOYEE, LAYOUT, TERMS)
    customer = world.rackbeat_sim.state(world.account).customers[order["customer_id"]]
    assert customer["contact_email"] == "anna@example.dk" and customer["customer_group_id"] == GROUP
    # Webshipper: the order read again; Rackbeat: marker look-up, item, customer look-up + create, order create,
    # read + book.
    assert (after[0] - before[0], after[1] - before[1]) == (7, 1)
    assert again.status is EventStatus.SKIPPED and f"already Rackbeat order {order['number']}" in again.reason
    assert updated.status is EventStatus.SKIPPED
    assert len(world.rackbeat_orders(order_id)) == 1


def test_a_lost_answer_is_adopted_by_its_marker_and_an_import_under_way_is_retried(world: World) -> None:
    """GIVEN an order whose Rackbeat create committed but whose answer was lost (the binding never written) WHEN
    the delivery is retried THEN the order is found by its marker and adopted, not made again; AND while another
    dispatcher holds the order's import lease the event is retried, not imported twice."""
    connection = world.connection()
    world.rackbeat_sim.seed_customer(world.account, 500, "Anna Jensen", contact_email="anna@example.dk")
    order_id = world.place()
    ((topic, body),) = world.webhooks()
    world.rackbeat_sim.faults.drop_response_rate = 1.0  # the first write is the order's create
    with pytest.raises(RetryableError):
        world.deliver(connection, topic, body)
    world.rackbeat_sim.faults.drop_response_rate = 0.0
    assert len(world.rackbeat_orders(order_id)) == 1 and not world.only_order(order_id)["is_booked"]

    leases.claim(world.ports.table, f"webshipper-import#{CONNECTION}#{order_id}", "other", 1_000.0, 120.0)
    with pytest.raises(RetryableError, match="being imported"):
        world.deliver(connection, topic, body)
    leases.release(world.ports.table, leases.Lease(f"webshipper-import#{CONNECTION}#{order_id}", "other", 1_120.0))
    retried = world.deliver(connection, topic, body)

    assert retried.status is EventStatus.DONE, retried.reason
    assert "was already Rackbeat order" in retried.reason
    assert len(world.rackbeat_orders(order_id)) == 1


def test_an_unknown_sku_ends_needs_attention_without_product_group_and_is_created_with_it(world: World) -> None:
    """GIVEN an order naming an item Rackbeat does not have WHEN it is imported without `product_group` THEN the
    event needs attention naming the SKU and nothing is written; WITH `product_group` the item is made in that
    group and the order follows."""
    order_id = world.place(
        {"sku": "MUG-1", "description": "Krus blå", "quantity": 1, "unit_price": 64.0},
        {"sku": "BELL-9", "description": "Ringeklokke", "quantity": 1, "unit_price": 50.0},
    )
    ((topic, body),) = world.webhooks()

    refused = world.deliver(world.connection(), topic, body)
    assert refused.status is EventStatus.NEEDS_ATTENTION
    assert "BELL-9 is not a Rackbeat item and product_group is not set" in refused.reason
    assert world.rackbeat_orders(order_id) == []
    assert "BELL-9" not in world.rackbeat_sim.state(world.account).products

    made = world.deliver(world.connection(product_group=NEW_ITEMS), topic, body)
    assert made.status is EventStatus.DONE, made.reason
    item = world.rackbeat_sim.state(world.account).products["BELL-9"]
    assert item["group"] == {"number": NEW_ITEMS} and item["name"] == "Ringeklokke"
    order = world.only_order(order_id)
    assert [(line["item_id"], line["location_id"]) for line in order["lines"]] == [("MUG-1", "L2"), ("BELL-9", "L1")]


def test_orders_we_sent_and_settings_that_import_nothing_are_skipped(world: World) -> None:
    """GIVEN an order Crossdock sent (`rackbeat-1021` in `order_channel`) WHEN its `order/created` arrives THEN it
    is skipped as ours; AND with `order_transfer` `rackbeat_to_webshipper` a webshop order is skipped too."""
    world.place(channel="Rackbeat", ext_ref="rackbeat-1021")
    webshop = world.place()
    (_, ours), (_, theirs) = world.webhooks()

    mine = world.deliver(world.connection(), "order/created", ours)
    off = world.deliver(world.connection(order_transfer="rackbeat_to_webshipper"), "order/created", theirs)

    assert mine.status is EventStatus.SKIPPED and "is ours (rackbeat-1021" in mine.reason
    assert off.status is EventStatus.SKIPPED and "rackbeat_to_webshipper" in off.reason
    assert world.rackbeat_orders(webshop) == []


def test_an_order_without_an_e_mail_goes_to_default_customer(world: World) -> None:
    """GIVEN an order with no e-mail on either address WHEN it is imported THEN it goes to `default_customer`;
    without that setting it needs attention naming the field."""
    address = {"company_name": "Butik Nord", "address_1": "Havnen 2", "zip": "9000", "city": "Aalborg",
               "country_code": "DK"}  # fmt: skip
    order_id = world.place(delivery_address=address)
    ((topic, body),) = world.webhooks()

    refused = world.deliver(world.connection(), topic, body)
    done = world.deliver(world.connection(default_customer=FALLBACK), topic, body)

    assert refused.status is EventStatus.NEEDS_ATTENTION and "set default_customer" in refused.reason
    assert done.status is EventStatus.DONE, done.reason
    assert world.only_order(order_id)["customer_id"] == FALLBACK


# ---- shipment/created → Rackbeat shipped --------------------------------------------------------------------------


def test_a_shipment_ships_the_rackbeat_order_once_with_carrier_and_tracking_in_its_note(world: World) -> None:
    """GIVEN an imported order WHEN Webshipper ships it (`shipment/created`), and the webhook comes twice THEN the
    Rackbeat order is shipped once, its note holds `webshipper-shipment-<id>: GLS <tracking>`, the event's details
    are TRACKING's hand-over, and the repeat is skipped."""
    connection = world.connection()
    order_id = world.place()
    world.deliver_all(connection)
    shipment = world.webshipper_sim.ship(
        ACCOUNT, int(order_id), tracking_number="GLS123", tracking_url="https://t/GLS123"
    )
    deliveries = [(topic, body) for topic, body in world.webhooks() if topic == "shipment/created"]
    ((topic, body),) = deliveries

    before = world.calls()
    first = world.deliver(connection, topic, body)
    after = world.calls()
    again = world.deliver(connection, topic, body)

    assert first.status is EventStatus.DONE, first.reason
    # Webshipper: the shipment, its carrier, its order; Rackbeat: the order, its note, the book check, its
    # shipments, the create and the ship.
    assert (after[0] - before[0], after[1] - before[1]) == (6, 3)
    assert world.calls() == after  # the repeat: no call
    order = world.only_order(order_id)
    shipment_id = str(shipment["data"]["id"])
    assert order["is_shipped"]
    assert f"webshipper-shipment-{shipment_id}: GLS GLS123" in order["note"].splitlines()
    assert first.details == {
        "rackbeat_order": str(order["number"]),
        "shipment_id": shipment_id,
        "carrier": "GLS",
        "tracking_number": "GLS123",
        "tracking_url": "https://t/GLS123",
        "webshipper_order": order_id,
    }
    shipments = [
        s for s in world.rackbeat_sim.state(world.account).shipments.values() if s["order_number"] == order["number"]
    ]
    assert len(shipments) == 1 and shipments[0]["is_shipped"]
    assert again.status is EventStatus.SKIPPED and "already shipped" in again.reason


def test_a_shipment_that_overtakes_its_order_imports_the_order_first(world: World) -> None:
    """GIVEN a webshop order shipped at once WHEN `shipment/created` is handled before the order's `order/created`
    (Webshipper's deliveries reordered) THEN the order is imported and shipped, and the late `order/created` is
    skipped: one Rackbeat order, one shipment."""
    connection = world.connection()
    order_id = world.place()
    world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS777")
    deliveries = world.webhooks()

    outcomes = [world.deliver(connection, topic, body) for topic, body in reversed(deliveries)]

    order = world.only_order(order_id)
    assert order["is_shipped"]
    statuses = {topic: outcome.status for (topic, _), outcome in zip(reversed(deliveries), outcomes, strict=True)}
    assert statuses["shipment/created"] is EventStatus.DONE
    assert all(status is not EventStatus.NEEDS_ATTENTION for status in statuses.values())


def test_a_shipment_of_an_order_we_sent_ships_that_rackbeat_order(world: World) -> None:
    """GIVEN a Rackbeat order we sent to Webshipper as `rackbeat-<number>` WHEN Webshipper ships it THEN that
    Rackbeat order is shipped (whatever `order_transfer` says of imports), with the note line."""
    connection = world.connection(order_transfer="rackbeat_to_webshipper")
    rackbeat = world.ports.clients.rackbeat_client
    number = rackbeat.post("orders", {"customer_id": FALLBACK, "lines": [{"item_id": "CUP-1", "quantity": 1}]})[
        "order"
    ]["number"]
    sent = world.place(channel="Rackbeat", ext_ref=f"rackbeat-{number}")
    world.webhooks()
    world.webshipper_sim.ship(ACCOUNT, int(sent), tracking_number="PN1")
    ((topic, body),) = [(t, b) for t, b in world.webhooks() if t == "shipment/created"]

    shipped = world.deliver(connection, topic, body)

    assert shipped.status is EventStatus.DONE, shipped.reason
    order = world.rackbeat_sim.state(world.account).orders[number]
    assert order["is_shipped"] and "webshipper-shipment-" in order["note"]


def test_a_shipment_of_an_order_nobody_knows_is_skipped_with_the_reason(world: World) -> None:
    """GIVEN a connection that imports nothing WHEN a webshop order's shipment arrives THEN it is skipped, saying
    Rackbeat does not know the order."""
    order_id = world.place()
    world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS9")
    ((topic, body),) = [(t, b) for t, b in world.webhooks() if t == "shipment/created"]

    skipped = world.deliver(world.connection(order_transfer="rackbeat_to_webshipper"), topic, body)

    assert skipped.status is EventStatus.SKIPPED and "which Rackbeat does not know" in skipped.reason


# ---- manual sync ------------------------------------------------------------------------------------------------


def test_a_manual_sync_imports_by_webshipper_id_and_by_rackbeat_number_answers_already_transferred(
    world: World,
) -> None:
    """GIVEN a webshop order no webhook brought WHEN the operator syncs it by its Webshipper id THEN it becomes one
    Rackbeat order; AND the operator's side then answers "already transferred" by either id, and a second sync
    request made anyway finds the same order."""
    connection = world.connection()
    order_id = world.place()
    world.webhooks()

    first = world.deliver(connection, "orders/sync", SYNC.payload(SYNC.parse(order_id)))
    order = world.only_order(order_id)
    by_id = SYNC.already_transferred(connection, SYNC.parse(f"webshipper:{order_id}"), world.ports.table)
    by_number = SYNC.already_transferred(connection, SYNC.parse(f"rackbeat:{order['number']}"), world.ports.table)
    second = world.deliver(
        connection, "orders/sync", SYNC.payload(SYNC.parse(f"rackbeat:{order['number']}")), "operator"
    )

    assert first.status is EventStatus.DONE and "is now Rackbeat order" in first.reason
    assert by_id == f"Rackbeat order {order['number']}" and by_number == f"Webshipper order {order_id}"
    assert second.status is EventStatus.DONE and second.reason.startswith("already transferred")
    assert len(world.rackbeat_orders(order_id)) == 1


def test_sync_keys_name_their_system() -> None:
    """GIVEN what an operator types WHEN it is read THEN a bare number is a Webshipper order id, `rackbeat:` a
    Rackbeat order number, and anything else is refused naming both forms."""
    assert (parse_key("1025").system, parse_key("1025").value) == ("webshipper", "1025")
    assert (parse_key("rackbeat:#1021").system, parse_key("Rackbeat:1021").value) == ("rackbeat", "1021")
    with pytest.raises(ValueError, match="neither a Webshipper order id"):
        parse_key("WS-5001")


def test_a_manual_sync_of_an_order_shipped_meanwhile_ships_it_in_rackbeat_too(world: World) -> None:
    """GIVEN a webshop order shipped in Webshipper whose webhooks were all lost WHEN the operator syncs it THEN it
    is imported and shipped in Rackbeat in the same request, and a second sync finds both done."""
    connection = world.connection()
    order_id = world.place()
    world.webshipper_sim.ship(ACCOUNT, int(order_id), tracking_number="GLS55")
    world.webhooks()

    first = world.deliver(connection, "orders/sync", SYNC.payload(SYNC.parse(order_id)), "operator")
    second = world.deliver(connection, "orders/sync", SYNC.payload(SYNC.parse(order_id)), "operator")

    order = world.only_order(order_id)
    assert first.status is EventStatus.DONE and "shipped in Rackbeat: Webshipper shipment" in first.reason
    assert order["is_shipped"] and "GLS55" in order["note"]
    assert second.reason.startswith("already transferred") and "shipped in Rackbeat" not in second.reason
