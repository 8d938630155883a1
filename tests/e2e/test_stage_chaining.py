"""An order's stages run one after another in one invocation of the workflow's first state, which ends the
execution (Standard workflows are billed per transition: one), and a stage that fails for a passing reason is handed
back (the `Handback` error, its cause the order state) to its own workflow state, which retries it."""

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


def _failures(stack: LocalStack, merchant: Any) -> list[tuple[str, str]]:
    """(state, error) of every task failure in the merchant's order-workflow executions, in order."""
    sfn = boto3.client("stepfunctions", region_name=stack.aws.region)
    arn = stack.aws.state_machine_arn("OrderStateMachine")
    failures = []
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        if not execution["name"].startswith(merchant.connection.connection_id):
            continue
        state = ""
        for event in sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]:
            if "stateEnteredEventDetails" in event:
                state = event["stateEnteredEventDetails"]["name"]
            details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails")
            if details:
                failures.append((state, details["error"]))
    return failures


def test_an_order_to_invoiced_and_shipped_enters_one_state(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection whose orders go to invoiced_and_shipped
    merchant = merchant_with(orders=TARGET)
    # WHEN a paid order goes through and nothing fails
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    # THEN its workflow entered exactly one state (the first task ran every stage and ended the execution)
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    assert _states_entered(stack, merchant) == [["Run"]]
    assert _failures(stack, merchant) == []


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
    assert _states_entered(stack, merchant) == [["Run", "Unwrap", "Restore", "Route", "Book", "Route", "Done"]]
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    assert [e["status"] for e in merchant.events() if e["topic"] == "orders/create"] == ["done"]


def test_a_429_without_retry_after_in_book_goes_through_books_retry_policy(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN Rackbeat answers an order's first two bookings 429 without a Retry-After (no hint: no Wait state)
    merchant = merchant_with(orders=TARGET)
    rackbeat = stack.rackbeat
    original = type(rackbeat)._handle_locked
    refused: list[str] = []

    def rate_limited_twice(self: Any, request: SimRequest) -> SimResponse:
        if request.method == "POST" and request.path.endswith("/book") and len(refused) < 2:
            refused.append(request.path)
            return SimResponse(429, b'{"message": "Too Many Attempts."}')
        return original(self, request)

    # WHEN a paid order goes through
    with mock.patch.object(type(rackbeat), "_handle_locked", rate_limited_twice):
        placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
        stack.settle()
    # THEN Run handed the booking back, Book failed RateLimited once and its Retry policy ran it again, and the
    # order ended once, complete
    assert len(refused) == 2
    assert _states_entered(stack, merchant) == [["Run", "Unwrap", "Restore", "Route", "Book", "Route", "Done"]]
    assert _failures(stack, merchant) == [("Run", "Handback"), ("Book", "RateLimited")]
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "invoiced_and_shipped"
    assert [e["status"] for e in merchant.events() if e["topic"] == "orders/create"] == ["done"]
