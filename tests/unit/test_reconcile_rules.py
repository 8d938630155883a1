"""The sweep's own rules, without AWS: which orders it asks dispatch to look at again, how the schedules of its
streams follow the connection's state and settings, and how its messages are packed into SQS batches."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from crossdock.aws.queues import BATCH_BYTES, BATCH_ENTRIES, batches
from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.order_query import OrderSummary
from crossdock.connectors.shopify.orders import parse_order
from crossdock.flows.poll_schedules import PollSchedules, schedule_name
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.inbound import transfer_reason
from crossdock.integrations.rackbeat_shopify.reconciliation import (
    ORDER_STREAM,
    STOCK_STREAM,
    awaits_transfer,
)
from crossdock.integrations.rackbeat_shopify.settings import TransferWhen
from crossdock.ports import StreamSchedule
from crossdock.registry import poll_streams

FINANCIAL = [None, "pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"]
FULFILLMENT = [None, "partial", "fulfilled", "restocked"]


@pytest.mark.parametrize("when", list(TransferWhen))
def test_the_sweep_sends_exactly_the_orders_dispatch_would_transfer(when: TransferWhen) -> None:
    for financial, fulfillment, cancelled in itertools.product(FINANCIAL, FULFILLMENT, (False, True)):
        summary = OrderSummary("1", "#1001", "2026-01-01T00:00:00Z", financial, fulfillment, cancelled)
        order = parse_order(
            {
                "id": 1,
                "name": "#1001",
                "currency": "DKK",
                "line_items": [{"id": 1, "quantity": 1, "price": "0"}],  # an order has lines (order_values)
                "total_price": "0",
                "financial_status": financial,
                "fulfillment_status": fulfillment,
                "cancelled_at": "2026-01-01T00:00:00Z" if cancelled else None,
            }
        )
        # Dispatch skips a cancelled order before its transfer rule; the sweep sends what it would transfer.
        dispatch_transfers = not order.cancelled_at and transfer_reason(when, "orders/updated", order) is None
        assert awaits_transfer(when, summary) == dispatch_transfers, (financial, fulfillment, cancelled)


class FakeSchedules:
    def __init__(self) -> None:
        self.schedules: dict[str, tuple[str, dict[str, Any]]] = {}

    def put(self, name: str, expression: str, event: dict[str, Any], description: str) -> str:
        existed = name in self.schedules
        self.schedules[name] = (expression, event)
        return "updated" if existed else "created"

    def delete(self, name: str) -> bool:
        return self.schedules.pop(name, None) is not None


class FakeTable:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_item(self, Key: dict[str, str]) -> None:
        self.deleted.append(Key["sk"])


def _connection(
    state: ConnectionState = ConnectionState.ACTIVE, stock: bool = False, **reconciliation: Any
) -> RackbeatShopifyConnection:
    settings = {
        "shipping_product_number": "FRAGT",
        "reconciliation": reconciliation,
        "stock_sync": {"enabled": stock},
    }
    return RackbeatShopifyConnection.model_validate(
        {
            "id": "c-1",
            "state": state,
            "accounts": {"shopify": {"shop_domain": "acme.myshopify.com"}},
            "settings": settings,
        }
    )


ORDERS = "poll-reconcile-orders-c-1"
STOCK = "poll-reconcile-stock-c-1"
CURSORS = [f"CUR#{ORDER_STREAM}", f"CUR#{STOCK_STREAM}"]


def _schedules(table: FakeTable, fake: FakeSchedules) -> PollSchedules:
    return PollSchedules(table, fake, poll_streams)


def test_an_activated_connection_gets_a_schedule_per_stream_and_starts_afresh() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)

    followed = schedules.follow(_connection(ConnectionState.INSTALLING, stock=True), activating=True)

    assert followed == {ORDER_STREAM: "created", STOCK_STREAM: "created"}
    assert fake.schedules == {
        ORDERS: ("rate(15 minutes)", {"connection_id": "c-1", "stream": ORDER_STREAM}),
        STOCK: ("rate(15 minutes)", {"connection_id": "c-1", "stream": STOCK_STREAM}),
    }
    assert table.deleted == CURSORS


def test_the_stock_stream_has_a_schedule_only_with_stock_sync() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)
    schedules.follow(_connection(stock=True), activating=True)
    table.deleted.clear()

    assert schedules.follow(_connection(stock=False)) == {ORDER_STREAM: "updated", STOCK_STREAM: "removed"}

    assert list(fake.schedules) == [ORDERS]
    assert table.deleted == [f"CUR#{STOCK_STREAM}"]


def test_a_settings_save_follows_the_interval_and_keeps_the_cursors() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)
    schedules.follow(_connection(stock=True), activating=True)
    table.deleted.clear()

    assert schedules.follow(_connection(stock=True, interval_minutes=60)) == {
        ORDER_STREAM: "updated",
        STOCK_STREAM: "updated",
    }

    assert fake.schedules[ORDERS][0] == fake.schedules[STOCK][0] == "rate(60 minutes)"
    assert table.deleted == []


@pytest.mark.parametrize(
    "connection",
    [
        _connection(stock=True, enabled=False),
        _connection(ConnectionState.UNINSTALLED, stock=True),
        _connection(ConnectionState.INSTALLING, stock=True),
    ],
    ids=["disabled", "uninstalled", "installing"],
)
def test_no_schedule_without_an_active_connection_that_wants_one(connection: RackbeatShopifyConnection) -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)
    fake.put(ORDERS, "rate(15 minutes)", {}, "left over")

    assert schedules.follow(connection) == {ORDER_STREAM: "removed", STOCK_STREAM: "absent"}
    assert schedules.follow(connection) == {ORDER_STREAM: "absent", STOCK_STREAM: "absent"}

    assert fake.schedules == {}
    assert table.deleted == CURSORS * 2


def test_an_uninstall_stops_every_stream_and_forgets_its_cursors() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)
    schedules.follow(_connection(stock=True), activating=True)
    table.deleted.clear()

    assert schedules.stop(_connection(ConnectionState.UNINSTALLED)) is True

    assert fake.schedules == {} and table.deleted == CURSORS


def test_a_paused_connection_keeps_its_schedules_and_its_cursors() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = _schedules(table, fake)
    schedules.follow(_connection(stock=True), activating=True)
    table.deleted.clear()

    assert schedules.follow(_connection(ConnectionState.PAUSED, stock=True)) == {
        ORDER_STREAM: "updated",
        STOCK_STREAM: "updated",
    }

    assert set(fake.schedules) == {ORDERS, STOCK} and table.deleted == []


def test_schedule_names_and_rates_are_what_eventbridge_takes() -> None:
    connection_id = "5e585af9-8434-456b-bcc7-7271d18a0911"
    for stream in (ORDER_STREAM, STOCK_STREAM):
        name = schedule_name(stream, connection_id)
        assert len(name) <= 64 and re.fullmatch(r"[0-9A-Za-z_.-]+", name), name
    assert schedule_name(ORDER_STREAM, connection_id) == f"poll-reconcile-orders-{connection_id}"
    with pytest.raises(ValueError, match="longer than 64"):
        schedule_name("a-stream-name-far-too-long-for-it", connection_id)
    every = [StreamSchedule.every(minutes, "").expression for minutes in (1, 15, 1440)]
    assert every == ["rate(1 minute)", "rate(15 minutes)", "rate(1440 minutes)"]


def test_messages_are_sent_ten_to_a_batch_and_under_the_size_limit() -> None:
    small = [json.dumps({"n": n}) for n in range(25)]
    assert [len(group) for group in batches(small)] == [BATCH_ENTRIES, BATCH_ENTRIES, 5]
    big = ["x" * (BATCH_BYTES // 3)] * 7
    grouped = batches(big)
    assert [len(group) for group in grouped] == [3, 3, 1]
    assert all(sum(len(body) for body in group) <= BATCH_BYTES for group in grouped)
    assert batches([]) == []
