"""An order's stages run one after another in one invocation (Standard workflows are billed per transition), and
a stage that fails for a passing reason is handed back to its own workflow state, which retries it."""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.stack import LocalStack

TARGET = {"rackbeat_status": "invoiced_and_shipped"}


def _states_entered(stack: LocalStack, merchant: Any) -> list[list[str]]:
    """The states each of the merchant's order-workflow executions entered, in order."""
    sfn = boto3.client("stepfunctions", region_name=stack.aws.region)
    arn = stack.aws.state_machine_arn("OrderStateMachine")
    runs = []
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        if not execution["name"].startswith(merchant.connection.connection_id):
            continue
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        runs.append([e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e])
    return runs


def test_an_order_to_invoiced_and_shipped_passes_four_states(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders=TARGET)
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    assert _states_entered(stack, merchant) == [["Begin", "Transfer", "Route", "Done"]]


def test_a_stage_failing_for_a_passing_reason_is_retried_by_its_own_state(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN Rackbeat answers the first booking of an order with a 503
    merchant = merchant_with(orders=TARGET)
    rackbeat = stack.rackbeat
    original = type(rackbeat)._handle_locked
    refused: list[str] = []

    def once_unavailable(self: Any, request: SimRequest) -> SimResponse:
        if request.method == "POST" and request.path.endswith("/book") and not refused:
            refused.append(request.path)
            return SimResponse(503, b'{"message": "Service Unavailable"}')
        return original(self, request)

    # WHEN a paid order goes through
    with mock.patch.object(type(rackbeat), "_handle_locked", once_unavailable):
        placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
        stack.settle()
    # THEN the booking was handed to the Book state, which retried it, and the order still ended once, complete
    assert refused
    assert _states_entered(stack, merchant) == [["Begin", "Transfer", "Route", "Book", "Route", "Done"]]
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    assert [e["status"] for e in merchant.events() if e["topic"] == "orders/create"] == ["done"]
