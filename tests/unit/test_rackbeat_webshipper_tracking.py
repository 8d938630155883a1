"""Tracking to the shop (issue 15, item 6): a Webshipper shipment of a Rackbeat order that came from a Shopify order
becomes one Shopify fulfilment with the carrier, tracking number and URL, notifying the customer as the shop's
`fulfillment.notify_customer` says, only when `tracking_to_shopify` is on.

The step runs as it does in the functions: `tracking.hand_over` in dispatch (the table on moto, the outbound queue
recorded), the queued command through `flows.push.run_command` as the Shopify push function runs it, against the
Rackbeat and Shopify simulators in process. The Shopify order is Shopify's own example order
(`../shared/fixtures/shopify/order.json`, read in place), admitted as new so all its lines are left to fulfil; its
Rackbeat order carries the `other_reference` rackbeat_shopify writes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.errors import RetryableError
from crossdock.flows.dispatch import DispatchDeps
from crossdock.flows.push import PushDeps, run_command
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.integrations.rackbeat_webshipper import tracking
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.ports import InboundEvent
from crossdock.store import connections, events, keys, mappings
from crossdock.topics import CROSSDOCK_SOURCE, TRACKING_TOPIC
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_tracking"
RACKBEAT_KEY = "rb_tracking_key"
RECEIVED_AT = "2026-12-07T10:00:00.000000Z"
GLS = {"carrier": "GLS", "tracking_number": "00340434161234567890"}
GLS_URL = "https://gls-group.eu/track/00340434161234567890"


@dataclass
class Clients:
    """`ConnectionClients` as the functions have it, answering from the simulators in process."""

    rackbeat_sim: RackbeatSimulator
    shopify_sim: ShopifySimulator
    asked: list[str] = field(default_factory=list)

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        self.asked.append(f"rackbeat:{connection.id}")
        return RackbeatClient("https://app.rackbeat.com/api/", RACKBEAT_KEY, transport(self.rackbeat_sim, "/api"))

    def shopify(self, connection: Any) -> ShopifyAdmin:
        self.asked.append(f"shopify:{connection.id}")
        return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(self.shopify_sim))


@dataclass
class World:
    table: Any
    clients: Clients
    shopify: ShopifySimulator
    webshipper: RackbeatWebshipperConnection
    shop: RackbeatShopifyConnection
    shopify_order: dict[str, Any]
    rackbeat_order: int
    queued: list[tuple[str, dict[str, Any], str, str]] = field(default_factory=list)

    def dispatch_ports(self) -> DispatchDeps:
        def send(system: str, message: dict[str, Any], group: str, dedupe: str) -> None:
            self.queued.append((system, message, group, dedupe))

        return DispatchDeps(
            table=self.table,
            start_order_workflow=lambda name, _input: name,
            clients=self.clients,
            send_outbound=send,
        )

    def push_ports(self) -> PushDeps:
        return PushDeps(
            table=self.table,
            clients=self.clients,
            request_stock_push=lambda _connection_id: None,
            continue_stock_push=lambda _connection_id: None,
            now=lambda: 0.0,
            sleep=lambda _seconds: None,
            seconds_left=lambda: 900.0,
        )

    def shipment_event(self, received_at: str = RECEIVED_AT, redrive: str | None = None) -> InboundEvent:
        """The `shipment/created` event INBOUND handles (the step reads its connection and received time)."""
        loaded = connections.load_connection(self.table, self.webshipper.id)
        assert loaded is not None
        return InboundEvent(loaded, "webshipper", "shipment/created", "{}", "EVENT#x", received_at, redrive)

    def hand_over(self, shipment: str = "9001", received_at: str = RECEIVED_AT, **detail: Any) -> str:
        handed = {"rackbeat_order": self.rackbeat_order, "shipment_id": shipment, **GLS, "tracking_url": GLS_URL}
        return tracking.hand_over(self.shipment_event(received_at), {**handed, **detail}, self.dispatch_ports())

    def run_queued(self) -> list[str]:
        """Runs what the step queued, as the Shopify push function would (and empties the queue)."""
        ran = [run_command(message, self.push_ports()) for _, message, _, _ in self.queued]
        self.queued.clear()
        return ran

    def fulfilments(self) -> list[dict[str, Any]]:
        stored = self.shopify.get_order(SHOP, self.shopify_order["id"])
        assert stored is not None
        found: list[dict[str, Any]] = stored.get("fulfillments") or []
        return found

    def tracking_events(self) -> list[dict[str, Any]]:
        return [e for e in events.list_events(self.table, self.webshipper.id) if e["topic"] == TRACKING_TOPIC]


def new_order(payload: Callable[[str], Any]) -> dict[str, Any]:
    order: dict[str, Any] = payload("order.json")["order"]
    for key in ("fulfillments", "fulfillment_status", "cancelled_at", "cancel_reason", "closed_at"):
        order.pop(key, None)
    for item in order["line_items"]:
        for key in ("fulfillable_quantity", "fulfillment_status"):
            item.pop(key, None)
    return order


def world_with(
    table: Any,
    shopify_payload: Callable[[str], Any],
    *,
    tracking_to_shopify: bool = True,
    notify_customer: bool = False,
    other_reference: str | None = None,
) -> World:
    rackbeat_sim = RackbeatSimulator()
    account = rackbeat_sim.add_account(RACKBEAT_KEY)
    rackbeat_sim.seed_product(account, "MUG-1", "Krus blå", "80", location_stock={"L1": 20})
    customer = rackbeat_sim.seed_customer(account, company_name="Webshop kunde")
    shopify_sim = ShopifySimulator(clock=FakeClock(), webhook_sink=RecordingSink(), seed=15)
    shopify_sim.add_shop(SHOP, "shpss_tracking", TOKEN)
    shopify_order = shopify_sim.create_order(SHOP, new_order(shopify_payload))
    clients = Clients(rackbeat_sim, shopify_sim)
    # The Rackbeat order rackbeat_shopify made of it: `Shopify <name> (<id>)` in other_reference, and its mapping.
    reference = other_reference or f"Shopify {shopify_order['name']} ({shopify_order['id']})"
    line = {"item_id": "MUG-1", "quantity": 1, "line_price": "80"}
    body = {"customer_id": customer["number"], "other_reference": reference, "lines": [line]}
    rackbeat = RackbeatClient("https://app.rackbeat.com/api/", RACKBEAT_KEY, transport(rackbeat_sim, "/api"))
    number = int(rackbeat.post("orders", body)["order"]["number"])
    shop = RackbeatShopifyConnection(
        id="shop-1",
        state=ConnectionState.ACTIVE,
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(shop_domain=SHOP), rackbeat=RackbeatAccount(account_id=account)
        ),
        settings=RackbeatShopifySettings.model_validate(
            {"shipping_product_number": "FRAGT", "fulfillment": {"notify_customer": notify_customer}}
        ),
    )
    connections.save_connection(table, shop)
    mappings.put_mapping(table, shop.id, "order", "shopify", str(shopify_order["id"]), str(number))
    webshipper = RackbeatWebshipperConnection(
        id="ws-1",
        state=ConnectionState.ACTIVE,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=account),
            webshipper=WebshipperAccount(account="nordlys", api_base="https://nordlys.api.webshipper.io/v2"),
        ),
        settings=RackbeatWebshipperSettings.model_validate(
            {"order_channel": "1", "tracking_to_shopify": tracking_to_shopify}
        ),
    )
    connections.save_connection(table, webshipper)
    return World(table, clients, shopify_sim, webshipper, shop, shopify_order, number)


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # Finished events are counted (Powertools metrics), which needs a namespace.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> World:
    return world_with(table, shopify_payload)


def test_a_shipment_becomes_one_fulfilment_with_its_tracking(world: World) -> None:
    # GIVEN a Rackbeat order made from a Shopify order, shipped in Webshipper with GLS tracking
    # WHEN INBOUND hands the shipment over
    note = world.hand_over()
    # THEN one command waits on the Shopify outbound queue, in the Webshipper connection's group, and nothing was
    # asked of Rackbeat or Shopify in dispatch
    assert "queued for Shopify" in note
    ((system, message, group, _),) = world.queued
    assert (system, message["command"], group) == ("shopify", tracking.COMMAND, world.webshipper.id)
    assert world.clients.asked == []
    # WHEN the push function runs it
    world.run_queued()
    # THEN the Shopify order has exactly one fulfilment carrying GLS's number and URL, the customer not notified
    (fulfilment,) = world.fulfilments()
    assert fulfilment["tracking_company"] == "GLS"
    assert fulfilment["tracking_numbers"] == [GLS["tracking_number"]]
    assert fulfilment["tracking_urls"] == [GLS_URL]
    assert fulfilment["notify_customer"] is False
    # AND its event is done, naming the order and the tracking
    (event,) = world.tracking_events()
    assert event["status"] == "done"
    assert world.shopify_order["name"] in event["reason"] and GLS["tracking_number"] in event["reason"]


def test_the_customer_is_notified_when_the_shop_says_so(table: Any, shopify_payload: Callable[[str], Any]) -> None:
    # GIVEN a shop whose fulfillment.notify_customer is on WHEN a shipment's tracking reaches it
    world = world_with(table, shopify_payload, notify_customer=True)
    world.hand_over()
    world.run_queued()
    # THEN Shopify was asked to notify the customer
    (fulfilment,) = world.fulfilments()
    assert fulfilment["notify_customer"] is True
    assert "customer notified" in world.tracking_events()[0]["reason"]


def test_a_repeated_shipment_and_a_repeated_command_fulfil_once(world: World) -> None:
    # GIVEN a shipment handed over and fulfilled, its command delivered twice by the queue
    world.hand_over()
    world.queued.append(world.queued[0])
    world.run_queued()
    # WHEN the same shipment is handed over again later (a repeated shipment/created)
    note = world.hand_over(received_at="2026-12-07T11:00:00.000000Z")
    world.run_queued()
    # THEN Shopify still has one fulfilment, and the repeat says it was handed over already
    assert len(world.fulfilments()) == 1
    assert "handed to the shop already" in note
    statuses = sorted(e["status"] for e in world.tracking_events())
    assert statuses == ["done", "skipped"]


def test_a_lost_answer_is_found_on_the_fulfilment_and_not_fulfilled_again(world: World) -> None:
    # GIVEN Shopify commits the fulfilment but its answer is lost
    world.hand_over()
    world.shopify.faults.drop_response_rate = 1.0
    with pytest.raises(RetryableError):
        world.run_queued()
    world.shopify.faults.drop_response_rate = 0.0
    assert len(world.fulfilments()) == 1
    # WHEN the queue brings the command back
    command = {"connection_id": world.webshipper.id, "command": tracking.COMMAND}
    world.queued.append(("shopify", {**command, "event_sk": world.tracking_events()[0]["sk"]}, "ws-1", "again"))
    world.run_queued()
    # THEN it finds its tracking number on the order and fulfils nothing more
    assert len(world.fulfilments()) == 1
    (event,) = world.tracking_events()
    assert event["status"] == "done" and "already has a fulfilment" in event["reason"]


def test_shopify_down_ends_needs_attention_after_its_retries(world: World) -> None:
    # GIVEN Shopify answers 502 or 503 to everything
    world.shopify.faults.server_error_rate = 1.0
    world.hand_over()
    (queued,) = world.queued
    # WHEN the queue delivers the command again after each failure
    failures = 0
    for _ in range(tracking.MAX_ATTEMPTS + 3):
        world.queued.append(queued)
        try:
            world.run_queued()
        except RetryableError:
            world.queued.clear()
            failures += 1
            continue
        break
    # THEN it was retried MAX_ATTEMPTS - 1 times, then the event ended needs_attention with Shopify's answer
    assert failures == tracking.MAX_ATTEMPTS - 1
    (event,) = world.tracking_events()
    assert event["status"] == "needs_attention"
    assert f"failed {tracking.MAX_ATTEMPTS} times" in event["reason"] and "Shopify answered 50" in event["reason"]
    assert world.fulfilments() == []


def test_nothing_reaches_the_shop_when_tracking_to_shopify_is_off(
    table: Any, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN a Webshipper connection with tracking_to_shopify off WHEN a shipment is handed over
    world = world_with(table, shopify_payload, tracking_to_shopify=False)
    note = world.hand_over()
    # THEN nothing is queued or recorded, and the note says why
    assert "tracking_to_shopify is off" in note
    assert world.queued == [] and world.tracking_events() == []


def test_an_order_that_did_not_come_from_a_shop_is_skipped(table: Any, shopify_payload: Callable[[str], Any]) -> None:
    # GIVEN a Rackbeat order made from a Webshipper order, not a Shopify one
    world = world_with(table, shopify_payload, other_reference="webshipper-4242")
    world.hand_over()
    world.run_queued()
    # THEN the tracking event is skipped with the reason, and the shop is not asked
    (event,) = world.tracking_events()
    assert event["status"] == "skipped" and "did not come from a Shopify order" in event["reason"]
    assert not any(asked.startswith("shopify:") for asked in world.clients.asked)


def test_a_rackbeat_order_that_is_gone_is_skipped(world: World) -> None:
    # GIVEN a hand-over naming a Rackbeat order the account does not have
    world.hand_over(rackbeat_order=world.rackbeat_order + 100)
    world.run_queued()
    # THEN its event is skipped, naming the order
    (event,) = world.tracking_events()
    assert event["status"] == "skipped" and f"{world.rackbeat_order + 100} is gone" in event["reason"]


def test_a_shipment_without_tracking_number_or_with_a_broken_hand_over_is_not_queued(world: World) -> None:
    # GIVEN a shipment with no tracking number, and a hand-over without the Rackbeat order
    no_number = world.hand_over(tracking_number=None)
    broken = world.hand_over(shipment="9002", rackbeat_order="")
    # THEN neither is queued, and each note names why
    assert "has no tracking number" in no_number
    assert "rackbeat_order" in broken
    assert world.queued == []


def test_a_queue_failure_in_the_hand_over_is_a_note_not_a_failure_of_the_shipment(world: World) -> None:
    # GIVEN the outbound queue refuses the command
    ports = world.dispatch_ports()

    def refusing(system: str, message: dict[str, Any], group: str, dedupe: str) -> None:
        raise ConnectionError("SQS is unreachable")

    handed = {"rackbeat_order": str(world.rackbeat_order), "shipment_id": "9004", **GLS}
    # WHEN INBOUND hands the shipment over
    note = tracking.hand_over(world.shipment_event(), handed, dataclasses.replace(ports, send_outbound=refusing))
    # THEN the shipment's handler gets a note naming the failure (it does not raise), and the tracking event stays
    # open for an operator's retry
    assert "NOT handed to the shop (ConnectionError" in note and "tracking-9004" in note
    (event,) = world.tracking_events()
    assert event["status"] == "received"


def test_an_order_the_merchant_fulfilled_already_is_skipped(world: World) -> None:
    # GIVEN the merchant fulfilled the order in Shopify with another carrier before the command ran
    world.hand_over()
    shopify = world.clients.shopify(world.shop)
    state = fulfillments.fulfillment_orders(shopify, world.shopify_order["id"])
    ups = fulfillments.Tracking("UPS", ("1Z999AA10123456784",))
    fulfillments.create_fulfillment(shopify, state.fulfillable(), ups, notify=False)
    # WHEN the command runs
    world.run_queued()
    # THEN it finds nothing left, ends skipped with the reason, and the order keeps the merchant's one fulfilment
    assert len(world.fulfilments()) == 1
    (event,) = world.tracking_events()
    assert event["status"] == "skipped" and "nothing left to fulfil" in event["reason"]


def test_an_operators_retry_takes_the_shipment_over_and_queues_it_again(world: World) -> None:
    # GIVEN a shipment whose fulfilment ended needs_attention (Shopify was down through its retries)
    world.shopify.faults.server_error_rate = 1.0
    world.hand_over()
    (queued,) = world.queued
    for _ in range(tracking.MAX_ATTEMPTS):
        world.queued.append(queued)
        try:
            world.run_queued()
        except RetryableError:
            world.queued.clear()
    world.queued.clear()
    world.shopify.faults.server_error_rate = 0.0
    (failed,) = world.tracking_events()
    assert failed["status"] == "needs_attention"
    # WHEN an operator retries it: its message comes back through dispatch as a redrive, a new event
    again = InboundEvent(
        world.shipment_event().connection,
        CROSSDOCK_SOURCE,
        TRACKING_TOPIC,
        str(failed["payload"]),
        keys.event_sk("2026-12-07T12:00:00.000000Z", "retry-1"),
        "2026-12-07T12:00:00.000000Z",
        "operator",
    )
    events.record_received(
        world.table, world.webshipper.id, "retry-1", CROSSDOCK_SOURCE, TRACKING_TOPIC, again.payload, again.received_at
    )
    route = tracking.ROUTES[0]
    outcome = route.handle(again, world.dispatch_ports())
    world.run_queued()
    # THEN it is queued again and the order is fulfilled once
    assert outcome.status.value == "received"
    assert len(world.fulfilments()) == 1
    assert json.loads(again.payload)["shipment_id"] == "9001"
