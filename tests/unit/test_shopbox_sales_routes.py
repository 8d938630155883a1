"""The routes of Shopbox sales (integrations/rackbeat_shopbox/sales_inbound.py): which workflow a basket message
starts, under which name, and what is skipped or refused before anything starts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from shopbox_sales_fakes import Clients, PagedBaskets, connection, wire_basket

from crossdock.integrations.rackbeat_shopbox import sales_inbound
from crossdock.integrations.rackbeat_shopbox.integration import INTEGRATION
from crossdock.ports import InboundEvent
from crossdock.store import events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome

T0 = 1_796_205_600


@dataclass
class Dispatch:
    """What dispatch offers a route's handler: the table, the clients, and Step Functions' start (a name once)."""

    table: Any
    clients: Any
    started: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)

    def start_workflow(
        self, connection_id: str, name: str, workflow_input: dict[str, Any], repeat: str, redrive: str | None
    ) -> Outcome:
        if any(started == name for started, _, _ in self.started):
            return Outcome.skipped(f"{repeat} (workflow {name})")
        self.started.append((name, workflow_input, redrive))
        return Outcome(EventStatus.RECEIVED, f"workflow {name} started")


@pytest.fixture
def shopbox() -> PagedBaskets:
    return PagedBaskets()


@pytest.fixture
def ports(table: Any, shopbox: PagedBaskets) -> Dispatch:
    return Dispatch(table, Clients(shopbox_client=shopbox))


def deliver(ports: Dispatch, source: str, topic: str, payload: dict[str, Any], **settings: Any) -> Outcome:
    """The message through the kind's route table, as dispatch routes it."""
    conn = connection(**settings)
    route = INTEGRATION.route(source, topic)
    assert route is not None
    event = InboundEvent(conn, source, topic, json.dumps(payload), "EVT#1", "-", None)
    return route.handle(event, ports)  # type: ignore[arg-type]


def test_a_sold_basket_starts_the_order_workflow_named_after_it_with_the_sales_target(
    ports: Dispatch, shopbox: PagedBaskets
) -> None:
    # GIVEN a connection whose sales go to Rackbeat as booked orders, and basket 991 in Shopbox
    shopbox.add(wire_basket(991, T0))
    settings = {"sales": {"customer_number": 900, "rackbeat_status": "booked"}}
    # WHEN the poll's message for basket 991 arrives twice
    first = deliver(ports, "shopbox", "baskets/sold", {"uid": "991"}, **settings)
    again = deliver(ports, "shopbox", "baskets/sold", {"uid": "991"}, **settings)
    # THEN one workflow started, `<connection>-order-991`, for the basket with the target; the repeat is skipped
    assert first.status is EventStatus.RECEIVED and again.status is EventStatus.SKIPPED
    ((name, workflow_input, redrive),) = ports.started
    assert name == "c-shopbox-order-991" and redrive is None
    assert workflow_input["kind"] == "order" and workflow_input["order_id"] == "991"
    assert workflow_input["target"] == "booked"
    # AND the event now holds the basket's detail (its lines), which the workflow's transfer reads
    stored = events.load_event(ports.table, "c-shopbox", "EVT#1")
    assert stored is not None and json.loads(stored["payload"])["lines"][0]["sku_code"] == "MUG-1"


def test_a_basket_already_in_rackbeat_is_skipped_naming_its_order(ports: Dispatch) -> None:
    # GIVEN basket 992 done as Rackbeat order 5002
    mappings.put_mapping(ports.table, "c-shopbox", "order", "shopbox", "992", "5002", status="done")
    # WHEN its message arrives again
    outcome = deliver(ports, "shopbox", "baskets/sold", {"uid": 992})
    # THEN nothing starts, and the reason names the order
    assert outcome.status is EventStatus.SKIPPED and "Rackbeat order 5002" in outcome.reason
    assert ports.started == []


def test_a_cancelled_basket_starts_its_cancellation_workflow(ports: Dispatch) -> None:
    # WHEN the poll's cancellation of basket 993 arrives
    deliver(ports, "shopbox", "baskets/canceled", {"uid": "993"})
    # THEN the cancellation's own workflow starts
    assert [(name, wi["kind"]) for name, wi, _ in ports.started] == [("c-shopbox-cancel-993", "cancel")]


def test_a_message_without_a_basket_uid_needs_attention_naming_it(ports: Dispatch) -> None:
    # WHEN a message arrives whose uid is not a Shopbox uid
    outcome = deliver(ports, "shopbox", "baskets/sold", {"uid": "9x1"})
    # THEN it needs attention, naming the field
    assert outcome.status is EventStatus.NEEDS_ATTENTION and "basket uid" in outcome.reason
    assert ports.started == []


def test_a_manual_sync_transfers_a_missed_basket_as_an_operators_redrive(
    ports: Dispatch, shopbox: PagedBaskets
) -> None:
    # GIVEN a basket Shopbox has, never transferred
    shopbox.add(wire_basket(994, T0))
    # WHEN an operator's sync of it arrives
    outcome = deliver(ports, "crossdock", "baskets/sync", {"basket_uid": "994"})
    # THEN its order workflow starts as an operator's redrive (the next attempt, should an earlier one have failed)
    assert outcome.status is EventStatus.RECEIVED
    assert [(name, redrive) for name, _, redrive in ports.started] == [("c-shopbox-order-994", "operator")]


@pytest.mark.parametrize(
    ("basket", "reason"),
    [(None, "Shopbox has no basket 995"), (wire_basket(995, T0, canceled=True), "is cancelled")],
    ids=["unknown basket", "cancelled basket"],
)
def test_a_manual_sync_of_a_basket_that_is_not_to_be_transferred_is_skipped(
    ports: Dispatch, shopbox: PagedBaskets, basket: dict[str, Any] | None, reason: str
) -> None:
    # GIVEN a uid Shopbox does not know, or a basket cancelled at the till
    if basket is not None:
        shopbox.add(basket)
    # WHEN an operator syncs it
    outcome = deliver(ports, "crossdock", "baskets/sync", {"basket_uid": "995"})
    # THEN nothing starts, and the reason says why
    assert outcome.status is EventStatus.SKIPPED and reason in outcome.reason
    assert ports.started == []


def test_sales_without_a_pos_customer_need_attention_naming_the_setting(ports: Dispatch) -> None:
    # GIVEN sales switched off (so no customer is required), and an operator syncing a basket anyway
    outcome = deliver(ports, "shopbox", "baskets/sold", {"uid": "996"}, sales={"enabled": False})
    # THEN it needs attention naming sales.customer_number
    assert outcome.status is EventStatus.NEEDS_ATTENTION and "sales.customer_number" in outcome.reason


def test_a_basket_uid_is_read_as_shopbox_sends_it() -> None:
    # GIVEN uids as the API sends them (numbers) or an operator types them
    # THEN digits are a uid; anything else is refused naming the field
    assert sales_inbound.parse_basket_uid(991) == "991" and sales_inbound.parse_basket_uid(" 0991 ") == "991"
    for wrong in ("", "#991", "9.5", None):
        with pytest.raises(ValueError, match="basket uid"):
            sales_inbound.parse_basket_uid(wrong)
