"""The sweep's own rules, without AWS: which orders it asks dispatch to look at again, how the connection's
schedule follows its state and settings, and how its messages are packed into SQS batches."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from crossdock.aws.queues import BATCH_BYTES, BATCH_ENTRIES, batches
from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.shopify.order_query import OrderSummary
from crossdock.connectors.shopify.orders import parse_order
from crossdock.flows.dispatch import transfer_reason
from crossdock.flows.reconcile_schedule import STREAMS, ReconcileSchedules, rate, schedule_name
from crossdock.integrations.rackbeat_shopify.reconciliation import awaits_transfer
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, TransferWhen

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
                "line_items": [],
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


def _connection(state: ConnectionState = ConnectionState.ACTIVE, **reconciliation: Any) -> Connection:
    settings = RackbeatShopifySettings.model_validate(
        {"shipping_product_number": "FRAGT", "reconciliation": reconciliation}
    )
    return Connection(id="c-1", state=state, shop_domain="acme.myshopify.com", settings=settings)


def test_an_activated_connection_gets_its_schedule_and_starts_afresh() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = ReconcileSchedules(table, fake)

    assert schedules.follow(_connection(ConnectionState.INSTALLING), activating=True) == "created"

    assert fake.schedules == {"reconcile-c-1": ("rate(15 minutes)", {"connection_id": "c-1"})}
    assert table.deleted == [f"CUR#{stream}" for stream in STREAMS]


def test_a_settings_save_follows_the_interval_and_keeps_the_cursors() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = ReconcileSchedules(table, fake)
    schedules.follow(_connection(), activating=True)
    table.deleted.clear()

    assert schedules.follow(_connection(interval_minutes=60)) == "updated"

    assert fake.schedules["reconcile-c-1"][0] == "rate(60 minutes)"
    assert table.deleted == []


@pytest.mark.parametrize(
    "connection",
    [
        _connection(enabled=False),
        _connection(ConnectionState.UNINSTALLED),
        _connection(ConnectionState.INSTALLING),
    ],
    ids=["disabled", "uninstalled", "installing"],
)
def test_no_schedule_without_an_active_connection_that_wants_one(connection: Connection) -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = ReconcileSchedules(table, fake)
    fake.put("reconcile-c-1", "rate(15 minutes)", {}, "left over")

    assert schedules.follow(connection) == "removed"
    assert schedules.follow(connection) == "absent"

    assert fake.schedules == {}
    assert table.deleted == [f"CUR#{stream}" for stream in STREAMS] * 2


def test_a_paused_connection_keeps_its_schedule_and_its_cursors() -> None:
    fake, table = FakeSchedules(), FakeTable()
    schedules = ReconcileSchedules(table, fake)
    schedules.follow(_connection(), activating=True)
    table.deleted.clear()

    assert schedules.follow(_connection(ConnectionState.PAUSED)) == "updated"

    assert "reconcile-c-1" in fake.schedules and table.deleted == []


def test_schedule_names_and_rates_are_what_eventbridge_takes() -> None:
    assert len(schedule_name("5e585af9-8434-456b-bcc7-7271d18a0911")) <= 64
    assert (rate(1), rate(15), rate(1440)) == ("rate(1 minute)", "rate(15 minutes)", "rate(1440 minutes)")


def test_messages_are_sent_ten_to_a_batch_and_under_the_size_limit() -> None:
    small = [json.dumps({"n": n}) for n in range(25)]
    assert [len(group) for group in batches(small)] == [BATCH_ENTRIES, BATCH_ENTRIES, 5]
    big = ["x" * (BATCH_BYTES // 3)] * 7
    grouped = batches(big)
    assert [len(group) for group in grouped] == [3, 3, 1]
    assert all(sum(len(body) for body in group) <= BATCH_BYTES for group in grouped)
    assert batches([]) == []
