"""Shopbox sales → Rackbeat orders end to end (issue 14, items 6 and 7), on the embedded stack with the Shopbox and
Rackbeat simulators: a sale rung up at the till, the connection's `sales#baskets` run of the poll function,
dispatch, the order workflow to its target; a poll repeated over the same window, a cancellation at the till, and
the operator's manual sync of a basket, both ways."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopbox.sales_order import basket_reference
from crossdock.integrations.rackbeat_shopbox.sales_stream import STREAM
from crossdock.operations import onboarding, order_sync
from crossdock.store import events
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack

_tills = itertools.count(1)
UID_FIELD, VARIANT_FIELD = 71, 72
PASSWORD = "kaffe-og-kage-2026"


@dataclass
class Till:
    """A Shopbox client with two branches on a Rackbeat account of its own, connected through Crossdock."""

    stack: LocalStack
    connection_id: str
    account: int
    client: int
    branches: list[tuple[int, int]]  # (branch uid, its register's uid)
    mug: int  # the Shopbox product uid of the mug (Rackbeat item MUG-1)

    def sell(self, quantity: int = 1, *, branch: int = 0, **sale: Any) -> str:
        uid, register = self.branches[branch]
        line = {"product": self.mug, "quantity": quantity}
        basket = self.stack.shopbox.sell(self.client, uid, register, [line], **sale)
        return str(basket["uid"])

    def poll(self) -> dict[str, Any]:
        """A run of the stream a few seconds on (as its schedule would), and everything it queued worked off."""
        self.stack.aws.clock.advance(5 * 60)
        result = self.stack.aws.invoke("PollFunction", poll_event(self.connection_id, STREAM))
        assert result.error is None, result.error
        self.stack.settle()
        payload: dict[str, Any] = result.payload
        return payload

    def orders(self, basket: str) -> list[dict[str, Any]]:
        reference = basket_reference(basket, str(self.client))
        found = self.stack.rackbeat.state(self.account).orders.values()
        return [order for order in found if order.get("other_reference") == reference]

    def only_order(self, basket: str) -> dict[str, Any]:
        (order,) = self.orders(basket)
        return order

    def events(self) -> list[dict[str, Any]]:
        return events.list_events(self.stack.table, self.connection_id)


@pytest.fixture
def till(stack: LocalStack) -> Till:
    return connected_till(stack)


def connected_till(stack: LocalStack) -> Till:
    """A café's Shopbox client and Rackbeat account, connected and active (other modules' `till` fixture too)."""
    number = next(_tills)
    account, api_key = stack.new_rackbeat_account()
    rackbeat = stack.rackbeat
    rackbeat.seed_location(account, "L2", "Butik Aarhus")
    rackbeat.seed_customer(account, 900, "Butikssalg")
    rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    rackbeat.seed_product(account, "MUG-1", "Krus", "63.20", location_stock={"L1": 50, "L2": 50})
    username = f"ejer{number}@kaffebaren.dk"
    seeded = stack.shopbox.seed_client(
        f"Kaffebaren {number} ApS",
        username=username,
        password=PASSWORD,
        branches={"Strøget": ["Kasse 1"], "Aarhus C": ["Kasse 1"]},
    )
    client = int(seeded["uid"])
    branches = [(int(b["uid"]), int(b["cash_registers"][0]["uid"])) for b in seeded["branches"]]
    mug = stack.shopbox.upsert_product(
        client, {"uid": None, "name": "Krus", "selling_price": 7900, "sku_code": "MUG-1"}
    )
    rackbeat.set_field_value(account, "MUG-1", UID_FIELD, str(mug["uid"]), emit=False)
    created = onboarding.create_shopbox_connection(
        stack.operator,
        rackbeat_api_key=api_key,
        shopbox=ShopboxCredentials(username=username, password=PASSWORD),
        settings={
            "uid_field_id": str(UID_FIELD),
            "variant_field_id": str(VARIANT_FIELD),
            "locations": {str(branches[0][0]): "L1", str(branches[1][0]): "L2"},
            "sales": {"customer_number": 900},
        },
    )
    assert created.state == "active", created.missing_references
    return Till(stack, created.connection_id, account, client, branches, int(mug["uid"]))


def test_a_sale_at_the_till_becomes_one_rackbeat_order_at_its_target_however_often_it_is_polled(till: Till) -> None:
    # GIVEN two mugs sold at the Aarhus till
    basket = till.sell(2, branch=1)
    # WHEN the sales stream runs
    run = till.poll()
    # THEN the basket is one Rackbeat order: the POS customer, the branch's location, invoiced and shipped, 158.00
    assert run["sold_enqueued"] == [basket] and run["failure"] is None
    order = till.only_order(basket)
    assert order["customer_id"] == 900 and [line["location_id"] for line in order["lines"]] == ["L2"]
    assert order["is_booked"] and order["is_shipped"] and order["is_invoiced"]
    assert Decimal(str(order["total"])) == Decimal("158.00")
    # AND a second run over the same window (its overlap reaches back past the sale) leaves it at one order
    again = till.poll()
    assert again["sold_enqueued"] == [] and len(till.orders(basket)) == 1
    # (the connection's own schedule may have run too while the clock moved: a repeat it sent was refused by name)
    sold = [e for e in till.events() if e["topic"] == "baskets/sold"]
    assert [e["status"] for e in sold].count("done") == 1
    assert all("already being transferred" in e["reason"] for e in sold if e["status"] != "done")


def test_a_basket_cancelled_at_the_till_credits_its_invoiced_order(till: Till) -> None:
    # GIVEN a sale polled into Rackbeat (invoiced and shipped: drawn from L1)
    basket = till.sell(1)
    till.poll()
    order = till.only_order(basket)
    # WHEN the sale is cancelled at the till and the stream runs
    till.stack.shopbox.cancel_basket(int(basket))
    run = till.poll()
    # THEN the cancellation went to Rackbeat as one booked credit note of the order's invoice
    assert run["cancellations_enqueued"] == [basket]
    notes = till.stack.rackbeat.credit_notes(till.account)
    assert len(notes) == 1 and notes[0]["is_booked"] and Decimal(str(notes[0]["total"])) == Decimal("79.00")
    cancelled = [e for e in till.events() if e["topic"] == "baskets/canceled" and e["status"] == "done"]
    assert len(cancelled) == 1 and f"Rackbeat order {order['number']} credited" in cancelled[0]["reason"]


def test_a_manual_sync_transfers_a_missed_basket_and_answers_already_transferred_after(till: Till) -> None:
    # GIVEN a sale made two days ago, behind every window the stream reads (the poll missed it)
    stack = till.stack
    basket = till.sell(1, made_at=stack.shopbox.unix_now - 2 * 86_400)
    run = till.poll()
    assert run["sold_enqueued"] == [] and till.orders(basket) == []
    # WHEN the operator syncs it by its uid (`crossdock orders sync <connection> <basket>`)
    output = io.StringIO()
    assert operator_cli.run(["orders", "sync", till.connection_id, basket], stack.operator, output) == 0
    stack.settle()
    # THEN it was queued and is now one Rackbeat order
    assert f"queued the transfer of Shopbox basket {basket}" in output.getvalue()
    order = till.only_order(basket)
    # AND a second sync answers "already transferred" with the order's number, and sends nothing
    answer = order_sync.sync_order(stack.operator, till.connection_id, basket)
    assert answer.already_transferred and answer.event_id is None
    assert answer.transferred_as == f"Rackbeat order {order['number']} (done)"
    output = io.StringIO()
    assert operator_cli.run(["orders", "sync", till.connection_id, basket], stack.operator, output) == 0
    assert f"already transferred: Shopbox basket {basket} is Rackbeat order {order['number']}" in output.getvalue()
    stack.settle()
    assert len(till.orders(basket)) == 1


def test_a_sale_to_a_known_customer_is_their_order_and_a_stranger_s_the_till_s(till: Till) -> None:
    # GIVEN Rackbeat knows Mette by her e-mail and Søren by his phone
    till.stack.rackbeat.seed_customer(till.account, 1042, "Mette Jensen", contact_email="mette@example.dk")
    till.stack.rackbeat.seed_customer(till.account, 1043, "Søren Hansen", contact_phone="20 30 40 50")
    # WHEN each of them, and a stranger, buys a mug at the till, and the sales stream runs
    mette = till.sell(customer={"name": "Mette Jensen", "email": "mette@example.dk"})
    soren = till.sell(customer={"name": "Søren Hansen", "phone": "+45 20304050"})
    stranger = till.sell(customer={"name": "Anne Lund", "email": "anne@example.dk"})
    till.poll()
    # THEN Mette's and Søren's orders are theirs, the stranger's is the till customer's (sales.customer_number)
    assert till.only_order(mette)["customer_id"] == 1042
    assert till.only_order(soren)["customer_id"] == 1043
    assert till.only_order(stranger)["customer_id"] == 900


def test_a_mug_returned_at_the_till_against_its_receipt_is_credited_on_the_sale_s_invoice(till: Till) -> None:
    # GIVEN two mugs sold and polled into Rackbeat (invoiced and shipped)
    sale = till.sell(2)
    till.poll()
    order = till.only_order(sale)
    # WHEN one is brought back against the receipt (a basket of -1, naming the sale: a guess of the shape)
    uid, register = till.branches[0]
    line = {"product": till.mug, "quantity": -1}
    returned = str(till.stack.shopbox.sell(till.client, uid, register, [line], return_of=int(sale))["uid"])
    run = till.poll()
    # THEN the return becomes one booked credit note of the sale's invoice for one mug, not an order
    assert returned in run["sold_enqueued"]
    (note,) = till.stack.rackbeat.credit_notes(till.account)
    assert note["is_booked"] and note["order_number"] == order["number"]
    assert Decimal(str(note["total"])) == Decimal("79.00")
    assert till.orders(returned) == []
    (event,) = [e for e in till.events() if e["status"] == "done" and "return basket" in str(e.get("reason"))]
    assert event["reason"].startswith(f"Shopbox return basket {returned} credited on Rackbeat order {order['number']}")
    # AND the next run does not send it again
    assert till.poll()["sold_enqueued"] == []
