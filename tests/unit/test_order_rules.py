"""Which Shopify events transfer an order (orders.transfer_when) and which stages each target runs (SPEC §1.5)."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock.connectors.shopify.orders import parse_order
from crossdock.integrations.rackbeat_shopify.inbound import transfer_reason
from crossdock.integrations.rackbeat_shopify.order_workflow import next_stage
from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus, TransferWhen
from crossdock.workflow_names import attempt_name, execution_name


@pytest.mark.parametrize(
    ("when", "topic", "financial", "fulfillment", "transfers"),
    [
        (TransferWhen.CREATED, "orders/create", "pending", None, True),
        (TransferWhen.PAID, "orders/create", "pending", None, False),
        (TransferWhen.PAID, "orders/create", "paid", None, True),
        (TransferWhen.PAID, "orders/paid", "pending", None, True),
        (TransferWhen.FULFILLED, "orders/paid", "paid", None, False),
        (TransferWhen.FULFILLED, "orders/fulfilled", "paid", None, True),
        (TransferWhen.FULFILLED, "orders/updated", "paid", "fulfilled", True),
        (TransferWhen.NEVER, "orders/paid", "paid", "fulfilled", False),
    ],
)
def test_transfer_when(
    fixture_order: dict[str, Any],
    when: TransferWhen,
    topic: str,
    financial: str,
    fulfillment: str | None,
    transfers: bool,
) -> None:
    fixture_order.update(financial_status=financial, fulfillment_status=fulfillment)
    assert (transfer_reason(when, topic, parse_order(fixture_order)) is None) is transfers


def walk(target: RackbeatStatus) -> list[str]:
    stages, stage = ["transfer"], "transfer"
    while (stage := next_stage(target, stage)) != "done":
        stages.append(stage)
    return stages


@pytest.mark.parametrize(
    ("target", "stages"),
    [
        (RackbeatStatus.DRAFT, ["transfer"]),
        (RackbeatStatus.BOOKED, ["transfer", "book"]),
        (RackbeatStatus.READY_TO_SHIP, ["transfer", "book", "ship"]),
        (RackbeatStatus.SHIPPED, ["transfer", "book", "ship"]),
        (RackbeatStatus.READY_TO_INVOICE, ["transfer", "book", "invoice"]),
        (RackbeatStatus.INVOICED, ["transfer", "book", "invoice"]),
        (RackbeatStatus.INVOICED_AND_SHIPPED, ["transfer", "book", "ship", "invoice"]),
        (RackbeatStatus.INVOICED_READY_TO_SHIP, ["transfer", "book", "ship", "invoice"]),
    ],
)
def test_stage_plan_per_target(target: RackbeatStatus, stages: list[str]) -> None:
    assert walk(target) == stages


def test_execution_name_is_deterministic_and_valid() -> None:
    name = execution_name("c0ffee-1", "450789469")
    assert name == execution_name("c0ffee-1", "450789469") == "c0ffee-1-order-450789469"
    assert len(execution_name("x" * 100, "1")) == 76
    assert len(attempt_name(execution_name("x" * 100, "1"), 99)) == 80
    assert attempt_name(name, 0) == name and attempt_name(name, 2) == name + "-r2"
