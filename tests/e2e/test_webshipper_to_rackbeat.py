"""Webshipper → Rackbeat end to end (issue 15, items 4, the first half of 5, and 8), on the embedded stack with the
Webshipper and Rackbeat simulators: an order placed in a Webshipper web shop channel, Webshipper's signed webhook
through ingest (`/webhooks/webshipper/<connection>`) and the inbound queue, dispatch's route, the Rackbeat order;
the same under duplicated and reordered deliveries; an unknown SKU both ways; the order shipped in Webshipper and
the Rackbeat order shipped once; the operator's manual sync twice.

The connection is put in place the way activation leaves it (stored active, its secrets KMS-sealed, Webshipper's
webhooks registered to its address with the connection's secret), so this test needs only the routes under test
and the platform below them."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.secret_names import API_TOKEN, WEBHOOK_SECRET
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.rackbeat_webhooks import rackbeat_events
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.store import connections, events
from crossdock_local import operator_cli
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

_accounts = itertools.count(1)
NEW_ITEMS = 20
HOME_TERM = 11
TOPICS = ("order/created", "order/updated", "shipment/created")


@dataclass
class Shop:
    """A Webshipper account with a web shop channel, connected to a Rackbeat account of its own."""

    stack: LocalStack
    connection_id: str
    account: int
    webshipper: str
    channels: dict[str, str]
    rate: str
    api_key: str  # the Rackbeat account's

    def place(self, *lines: dict[str, Any]) -> str:
        """An order placed in the web shop channel (Webshipper reads the shop; Crossdock did not make it)."""
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
                    "order_lines": list(lines)
                    or [{"sku": "BELL-1", "description": "Ringeklokke", "quantity": 2, "unit_price": 79.2}],
                },
                "relationships": {
                    "order_channel": {"data": {"type": "order_channels", "id": self.channels["Webshop"]}},
                    "shipping_rate": {"data": {"type": "shipping_rates", "id": self.rate}},
                },
            }
        }
        return str(self.stack.webshipper.place_order(self.webshipper, document)["data"]["id"])

    def rackbeat_orders(self, order_id: str) -> list[dict[str, Any]]:
        found = self.stack.rackbeat.state(self.account).orders.values()
        return [order for order in found if order.get("other_reference") == f"webshipper-{order_id}"]

    def only_order(self, order_id: str) -> dict[str, Any]:
        (order,) = self.rackbeat_orders(order_id)
        return order

    def shipments(self, number: int) -> list[dict[str, Any]]:
        found = self.stack.rackbeat.state(self.account).shipments.values()
        return [shipment for shipment in found if shipment["order_number"] == number]

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [e for e in events.list_events(self.stack.table, self.connection_id) if e["topic"] == topic]

    def sync(self, order: str) -> str:
        output = io.StringIO()
        assert operator_cli.run(["orders", "sync", self.connection_id, order], self.stack.operator, output) == 0
        return output.getvalue()


def connect(stack: LocalStack, **settings: Any) -> Shop:
    """Rackbeat with the items the shop sells; Webshipper with a channel for Rackbeat's orders and the web shop's;
    the connection between them as activation leaves it, Webshipper's three topics registered to its address."""
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_product(account, "BELL-1", "Ringeklokke", "79.20", location_stock={"L1": 40})
    stack.rackbeat.seed_product_group(account, NEW_ITEMS, "Fra Webshipper")
    name = f"cykelbutik{next(_accounts)}"
    seeded = stack.webshipper.seed_account(
        name,
        carriers=[{"name": "GLS", "alias": "gls"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[
            {"name": "GLS Privat", "carrier": "gls", "channel": "Webshop"},
            {"name": "GLS Rackbeat", "carrier": "gls", "channel": "Rackbeat"},
        ],
    )
    stack.rackbeat.seed_delivery_terms(account, HOME_TERM, "GLS privat")
    channels = {label: str(number) for label, number in seeded["channels"].items()}
    chosen = RackbeatWebshipperSettings.model_validate(
        {
            "order_channel": channels["Rackbeat"],
            "delivery_term_rates": {str(HOME_TERM): str(seeded["rates"]["GLS Rackbeat"])},
            "default_customer_group": 1,
            "default_employee": 1,
            "default_layout": 1,
            "default_payment_terms": 1,
            "default_location": "L1",
            **settings,
        }
    )
    connection = RackbeatWebshipperConnection(
        id=str(uuid.uuid4()),
        state=ConnectionState.ACTIVE,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=account, api_base=f"{stack.base_url}/_sim/rackbeat/api/"),
            webshipper=WebshipperAccount(account=name, api_base=stack.webshipper_api(name)),
        ),
        settings=chosen,
    )
    connections.save_connection(stack.table, connection)
    token = stack.webshipper.add_api_token(name)
    secret = uuid.uuid4().hex
    stack.secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    stack.secrets.put(connection.id, API_TOKEN, token)
    stack.secrets.put(connection.id, WEBHOOK_SECRET, secret)
    for topic in TOPICS:
        attributes = {"url": f"{stack.base_url}/webhooks/webshipper/{connection.id}", "topic": topic, "secret": secret}
        response = httpx.post(
            f"{stack.webshipper_api(name)}/webhooks",
            json={"data": {"type": "webhooks", "attributes": attributes}},
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
    tokens = []
    for event in rackbeat_events(chosen):
        hook = {"event": event, "url": f"{stack.base_url}/webhooks/rackbeat/{connection.id}", "is_active": True}
        made = httpx.post(
            f"{stack.base_url}/_sim/rackbeat/api/webhooks",
            json=hook,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        tokens.append(made.json()["webhook"]["token"])
    stack.secrets.put(connection.id, RACKBEAT_WEBHOOK_TOKENS, json.dumps(tokens))
    return Shop(stack, connection.id, account, name, channels, str(seeded["rates"]["GLS Privat"]), api_key)


@pytest.fixture(autouse=True)
def _calm_webshipper(stack: LocalStack) -> Any:
    yield
    stack.webshipper.delivery_faults = DeliveryFaults()


def test_a_webshop_order_becomes_one_booked_rackbeat_order(stack: LocalStack) -> None:
    """GIVEN a connection WHEN an order is placed in Webshipper's web shop channel THEN its `order/created` makes
    exactly one booked Rackbeat order `webshipper-<id>` with the line at its location and the settings' defaults,
    and the event is done."""
    shop = connect(stack)
    order_id = shop.place()

    stack.settle()

    order = shop.only_order(order_id)
    assert order["is_booked"] and (order["employee_id"], order["layout_id"], order["payment_terms_id"]) == (1, 1, 1)
    assert [(line["item_id"], str(line["quantity"]), line["location_id"]) for line in order["lines"]] == [
        ("BELL-1", "2", "L1")
    ]
    (created,) = shop.events("order/created")
    assert created["status"] == "done", created


def test_duplicated_and_reordered_webhooks_still_make_one_order_shipped_once(stack: LocalStack) -> None:
    """GIVEN Webshipper delivering every webhook twice and in a shuffled order WHEN an order is placed and shipped
    at once THEN Rackbeat has one order for it, shipped by one shipment with the tracking number in its note, and
    no event needs attention."""
    shop = connect(stack)
    stack.webshipper.delivery_faults = DeliveryFaults(duplicate_rate=1.0, reorder=True)
    order_id = shop.place()
    stack.webshipper.ship(shop.webshipper, int(order_id), tracking_number="GLS-4711")

    stack.settle()

    order = shop.only_order(order_id)
    assert order["is_shipped"] and "GLS-4711" in order["note"]
    assert len(shop.shipments(order["number"])) == 1
    statuses = [e["status"] for topic in TOPICS for e in shop.events(topic)]
    assert "needs_attention" not in statuses and "done" in statuses, statuses


def test_an_unknown_sku_needs_attention_without_product_group_and_is_made_with_it(stack: LocalStack) -> None:
    """GIVEN an order naming an item Rackbeat lacks WHEN the connection has no `product_group` THEN the event needs
    attention naming the SKU and Rackbeat has no order; WHEN another connection has one THEN the item is made in
    it and the order follows."""
    without = connect(stack)
    refused_id = without.place({"sku": "HORN-7", "description": "Horn", "quantity": 1, "unit_price": 45.0})
    with_group = connect(stack, product_group=NEW_ITEMS)
    made_id = with_group.place({"sku": "HORN-7", "description": "Horn", "quantity": 1, "unit_price": 45.0})

    stack.settle()

    (refused,) = without.events("order/created")
    assert refused["status"] == "needs_attention" and "HORN-7 is not a Rackbeat item" in refused["reason"]
    assert without.rackbeat_orders(refused_id) == []
    assert with_group.only_order(made_id)["lines"][0]["item_id"] == "HORN-7"
    item = stack.rackbeat.state(with_group.account).products["HORN-7"]
    assert item["group"] == {"number": NEW_ITEMS}


def test_a_shipment_ships_the_rackbeat_order_once(stack: LocalStack) -> None:
    """GIVEN an imported order WHEN Webshipper ships it THEN the Rackbeat order is shipped once, its note names the
    shipment, carrier and tracking number, and the shipment's event is done naming them."""
    shop = connect(stack)
    order_id = shop.place()
    stack.settle()
    shipment = stack.webshipper.ship(shop.webshipper, int(order_id), tracking_number="GLS-0815")

    stack.settle()

    order = shop.only_order(order_id)
    shipment_id = shipment["data"]["id"]
    assert order["is_shipped"] and f"webshipper-shipment-{shipment_id}: GLS GLS-0815" in order["note"]
    assert len(shop.shipments(order["number"])) == 1
    (shipped,) = shop.events("shipment/created")
    assert shipped["status"] == "done" and "GLS-0815" in shipped["reason"], shipped


def test_a_manual_sync_twice_answers_already_transferred(stack: LocalStack) -> None:
    """GIVEN an order whose webhooks never came (lost) WHEN the operator syncs it by its Webshipper id THEN it is
    queued and becomes one Rackbeat order; AND a second sync, by either id, answers "already transferred" with the
    other system's number and sends nothing."""
    shop = connect(stack)
    order_id = shop.place()
    assert stack.webshipper.outbox.lose(shop.webshipper) >= 1

    queued = shop.sync(order_id)
    stack.settle()
    order = shop.only_order(order_id)
    again = shop.sync(order_id)
    by_number = shop.sync(f"rackbeat:{order['number']}")
    stack.settle()

    assert f"queued the transfer of Webshipper order {order_id}" in queued
    assert f"already transferred: Webshipper order {order_id} is Rackbeat order {order['number']}" in again
    assert f"already transferred: Rackbeat order {order['number']} is Webshipper order {order_id}" in by_number
    assert len(shop.rackbeat_orders(order_id)) == 1
    (synced,) = shop.events("orders/sync")
    assert synced["status"] == "done", synced


def test_an_order_sent_from_rackbeat_and_shipped_in_webshipper_is_shipped_in_rackbeat_without_looping(
    stack: LocalStack,
) -> None:
    """GIVEN an order booked in Rackbeat and sent to Webshipper (OUTBOUND) WHEN Webshipper ships it THEN the
    Rackbeat order is shipped by one shipment with the note line; Rackbeat's `order_shipment.shipped` that follows
    is skipped as shipped from Webshipper (nothing sent back), and no Rackbeat order is imported for the Webshipper
    order we made."""
    shop = connect(stack)
    seeded = stack.rackbeat.seed_customer(shop.account, 100, "Jensen Cykler ApS", contact_email="ind@jensen.dk")
    body = {
        "customer_id": seeded["number"],
        "delivery_terms": HOME_TERM,
        "delivery_address_name": "Anna Jensen",
        "delivery_address_street": "Vestergade 12",
        "delivery_address_zipcode": "8000",
        "delivery_address_city": "Aarhus C",
        "delivery_address_country": "DK",
        "lines": [{"item_id": "BELL-1", "quantity": 1, "line_price": "79.20"}],
    }
    response = httpx.post(
        f"{stack.base_url}/_sim/rackbeat/api/orders",
        json=body,
        headers={"Authorization": f"Bearer {shop.api_key}"},
        timeout=10,
    )
    number = response.json()["order"]["number"]
    stack.settle()
    (sent,) = [
        o for o in stack.webshipper.orders(shop.webshipper) if o["attributes"]["ext_ref"] == f"rackbeat-{number}"
    ]

    stack.webshipper.ship(shop.webshipper, int(sent["id"]), tracking_number="GLS-2001")
    stack.settle()

    order = stack.rackbeat.state(shop.account).orders[number]
    assert order["is_shipped"] and "GLS-2001" in order["note"]
    assert len(shop.shipments(number)) == 1
    (shipped,) = shop.events("shipment/created")
    assert shipped["status"] == "done", shipped
    (echo,) = shop.events("order_shipment.shipped")
    assert echo["status"] == "skipped" and "shipped from Webshipper" in echo["reason"], echo
    assert shop.rackbeat_orders(str(sent["id"])) == []
