"""Rackbeat → Webshipper end to end (issue 15, items 3 and the second half of 5), on the embedded stack with the
Rackbeat and Webshipper simulators: an order booked in Rackbeat, Rackbeat's signed webhook through ingest and the
inbound queue, dispatch's route, the Webshipper order; the same under a duplicated webhook and a lost answer; an
excluded customer group; the order shipped in Rackbeat and its Webshipper order dispatched.

The connection is put in place the way activation leaves it (stored active, its secrets KMS-sealed, the Rackbeat
webhooks its settings need registered to its address with their tokens kept), so this test needs only the
routes under test and the platform below them."""

from __future__ import annotations

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
from crossdock.connectors.webshipper.secret_names import API_TOKEN
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.rackbeat_webhooks import rackbeat_events
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.store import connections, events
from crossdock_local.sims.base import Faults
from crossdock_local.stack import LocalStack

_accounts = itertools.count(1)
PICKUP_TERM = 10
STAFF = 2


@dataclass
class Shipper:
    """A Rackbeat account connected to a Webshipper account of its own."""

    stack: LocalStack
    connection_id: str
    account: int
    api_key: str
    webshipper: str  # the Webshipper account name
    channel: str
    rate: str

    def rackbeat_api(self, method: str, path: str, body: Any = None) -> Any:
        """Rackbeat's API as the merchant's own Rackbeat UI uses it."""
        response = httpx.request(
            method,
            f"{self.stack.base_url}/_sim/rackbeat/api/{path}",
            headers={"Authorization": f"Bearer {self.api_key}"},
            json=body,
            timeout=10,
        )
        assert response.status_code < 300, response.text
        return response.json()

    def book(self, customer: int = 100) -> int:
        body = {
            "customer_id": customer,
            "delivery_terms": PICKUP_TERM,
            "delivery_address_name": "Anna Jensen",
            "delivery_address_street": "Vestergade 12",
            "delivery_address_zipcode": "8000",
            "delivery_address_city": "Aarhus C",
            "delivery_address_country": "DK",
            "lines": [
                {"item_id": "BELL-1", "quantity": 2, "line_price": "79.20", "vat_percentage": "25"},
                {"item_id": "LAMP-2", "quantity": 1, "line_price": "249", "vat_percentage": "25"},
            ],
        }
        number: int = self.rackbeat_api("POST", "orders", body)["order"]["number"]
        return number

    def ship_in_rackbeat(self, number: int) -> None:
        shipment = self.rackbeat_api("POST", f"orders/{number}/create-shipment")["order_shipment"]
        self.rackbeat_api("POST", f"orders/shipments/{shipment['id']}/mark-shipped", {"pick": True})

    def orders_in_webshipper(self, ext_ref: str) -> list[dict[str, Any]]:
        found = self.stack.webshipper.orders(self.webshipper)
        return [order for order in found if order["attributes"]["ext_ref"] == ext_ref]

    def only_order(self, number: int) -> dict[str, Any]:
        (order,) = self.orders_in_webshipper(f"rackbeat-{number}")
        return order

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [e for e in events.list_events(self.stack.table, self.connection_id) if e["topic"] == topic]

    def calls(self) -> tuple[int, int]:
        return self.stack.rackbeat.calls, self.stack.webshipper.calls


def connect(stack: LocalStack, **settings: Any) -> Shipper:
    """A Rackbeat account with delivery terms, customers and items; a Webshipper account with a channel for
    Rackbeat's orders and a rate; the connection between them as activation leaves it."""
    account, api_key = stack.new_rackbeat_account()
    rackbeat = stack.rackbeat
    rackbeat.seed_delivery_terms(account, PICKUP_TERM, "GLS Pakkeshop")
    rackbeat.seed_customer_group(account, STAFF, "Personale")
    rackbeat.seed_customer(account, 100, "Jensen Cykler ApS", customer_group_id=1, contact_email="ind@jensen.dk")
    rackbeat.seed_customer(account, 200, "Kantinen", customer_group_id=STAFF)
    rackbeat.seed_product(account, "BELL-1", "Ringeklokke", "79.20", location_stock={"L1": 40})
    rackbeat.seed_product(account, "LAMP-2", "Forlygte", "249", location_stock={"L1": 40})
    name = f"cykelhuset{next(_accounts)}"
    seeded = stack.webshipper.seed_account(
        name,
        carriers=[{"name": "GLS", "alias": "gls"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[{"name": "GLS Pakkeshop", "carrier": "gls", "channel": "Rackbeat"}],
    )
    channel, rate = str(seeded["channels"]["Rackbeat"]), str(seeded["rates"]["GLS Pakkeshop"])
    chosen = RackbeatWebshipperSettings.model_validate(
        {"order_channel": channel, "delivery_term_rates": {str(PICKUP_TERM): rate}, **settings}
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
    stack.secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    stack.secrets.put(connection.id, API_TOKEN, stack.webshipper.add_api_token(name))
    shipper = Shipper(stack, connection.id, account, api_key, name, channel, rate)
    tokens = []
    for event in rackbeat_events(chosen):
        hook = {"event": event, "url": f"{stack.base_url}/webhooks/rackbeat/{connection.id}", "is_active": True}
        tokens.append(shipper.rackbeat_api("POST", "webhooks", hook)["webhook"]["token"])
    stack.secrets.put(connection.id, RACKBEAT_WEBHOOK_TOKENS, json.dumps(tokens))
    return shipper


@pytest.fixture(autouse=True)
def _calm_webshipper(stack: LocalStack) -> Any:
    yield
    stack.webshipper.faults = Faults()
    stack.rackbeat.delivery_faults.duplicate_rate = 0.0


def test_a_booked_order_becomes_one_webshipper_order_with_its_rate_lines_and_address(stack: LocalStack) -> None:
    """GIVEN a connection sending booked orders WHEN an order is booked in Rackbeat THEN exactly one Webshipper order
    `rackbeat-<number>` is in the Rackbeat channel, on the delivery term's rate, with both lines and the delivery
    address, and its event is done; 1 Rackbeat and 2 Webshipper calls made it."""
    shipper = connect(stack)
    number = shipper.book()
    before = shipper.calls()

    stack.settle()

    rackbeat_calls, webshipper_calls = (now - then for now, then in zip(shipper.calls(), before, strict=True))
    order = shipper.only_order(number)
    attributes = order["attributes"]
    assert (attributes["visible_ref"], attributes["status"]) == (str(number), "pending")
    assert str(attributes["order_channel_id"]) == shipper.channel
    assert str(attributes["shipping_rate_id"]) == shipper.rate
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in attributes["order_lines"]] == [
        ("BELL-1", 2, 79.2),
        ("LAMP-2", 1, 249.0),
    ]
    delivery = attributes["delivery_address"]
    assert (delivery["att_contact"], delivery["company_name"], delivery["zip"], delivery["country_code"]) == (
        "Anna Jensen",
        "Jensen Cykler ApS",
        "8000",
        "DK",
    )
    (booked,) = shipper.events("order.booked")
    assert booked["status"] == "done", booked
    assert (rackbeat_calls, webshipper_calls) == (1, 2)


def test_a_duplicated_webhook_and_a_lost_answer_still_make_one_order(stack: LocalStack) -> None:
    """GIVEN Rackbeat delivering every webhook twice and Webshipper losing the answer to every write after
    committing it WHEN an order is booked THEN the retry adopts the order the lost call made and the duplicate
    finds it sent: one Webshipper order."""
    shipper = connect(stack)
    stack.rackbeat.delivery_faults.duplicate_rate = 1.0
    stack.webshipper.faults = Faults(drop_response_rate=1.0, seed=3)
    number = shipper.book()
    before = shipper.calls()

    stack.settle()

    webshipper_calls = shipper.calls()[1] - before[1]
    assert len(shipper.orders_in_webshipper(f"rackbeat-{number}")) == 1
    # The two deliveries: one met the lost answer (look-up + create) and was retried; one adopted what the lost
    # create made (look-up); the retry found it bound and sent already. Never a second create.
    assert webshipper_calls == 3
    outcomes = sorted((event["status"], event["reason"]) for event in shipper.events("order.booked"))
    assert [status for status, _ in outcomes] == ["done", "skipped"], outcomes
    assert "adopted" in outcomes[0][1] and "was sent already" in outcomes[1][1]


def test_an_excluded_customer_group_sends_nothing(stack: LocalStack) -> None:
    shipper = connect(stack, excluded_customer_groups=[STAFF])
    number = shipper.book(customer=200)

    stack.settle()

    assert shipper.orders_in_webshipper(f"rackbeat-{number}") == []
    (skipped,) = shipper.events("order.booked")
    assert skipped["status"] == "skipped"
    assert f"customer 200 is in customer group {STAFF}" in skipped["reason"]


def test_shipped_in_rackbeat_marks_the_webshipper_order_dispatched(stack: LocalStack) -> None:
    """GIVEN an order sent to Webshipper WHEN it is shipped in Rackbeat THEN its Webshipper order is dispatched."""
    shipper = connect(stack)
    number = shipper.book()
    stack.settle()

    shipper.ship_in_rackbeat(number)
    stack.settle()

    assert shipper.only_order(number)["attributes"]["status"] == "dispatched"
    (shipped,) = shipper.events("order_shipment.shipped")
    assert shipped["status"] == "done", shipped
