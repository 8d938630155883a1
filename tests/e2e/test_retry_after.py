"""`Retry-After` decides the wait everywhere (issue 13): an order stage Rackbeat throttled waits in the workflow's
Wait state exactly as long as Rackbeat asked, and a stock push Shopify kept throttling goes back on the queue
when Shopify's bucket has room again, not after the queue's 720 s visibility timeout."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3

from crossdock.connectors.shopify.graphql import THROTTLED_ATTEMPTS
from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.stack import LocalStack

RACKBEAT_RETRY_AFTER = 47
SKU = "SKU-001"


def _order_runs(stack: LocalStack, merchant: Any) -> list[list[dict[str, Any]]]:
    """The history events of each of the merchant's order-workflow executions."""
    sfn = boto3.client("stepfunctions", region_name=stack.aws.region)
    arn = stack.aws.state_machine_arn("OrderStateMachine")
    return [
        sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
        for run in sfn.list_executions(stateMachineArn=arn)["executions"]
        if run["name"].startswith(merchant.connection.connection_id)
    ]


def test_a_throttled_order_stage_waits_as_long_as_rackbeat_asked(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN Rackbeat answers the first booking of an order 429 with Retry-After 47 (not on the old 10 s schedule)
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    rackbeat = stack.rackbeat
    original = type(rackbeat)._handle_locked
    bookings: list[tuple[float, int]] = []

    def throttled_once(self: Any, request: SimRequest) -> SimResponse:
        if request.method == "POST" and request.path.endswith("/book"):
            if not bookings:
                bookings.append((self.clock(), 429))
                body = json.dumps({"message": "Too Many Attempts."}).encode()
                return SimResponse(429, body, {"Retry-After": str(RACKBEAT_RETRY_AFTER)})
            bookings.append((self.clock(), 200))
        return original(self, request)

    # WHEN a paid order goes through
    with mock.patch.object(type(rackbeat), "_handle_locked", throttled_once):
        placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
        stack.settle()
    # THEN the workflow waited in its Wait state for exactly Rackbeat's 47 s, then booked once, with no stage failure
    (history,) = _order_runs(stack, merchant)
    entered = [e["stateEnteredEventDetails"] for e in history if "stateEnteredEventDetails" in e]
    assert [state["name"] for state in entered] == [
        "Run", "Unwrap", "Restore", "Route", "WaitForTarget", "Resume", "Book", "Route", "Done",
    ]  # fmt: skip
    (wait,) = [json.loads(state["input"]) for state in entered if state["name"] == "WaitForTarget"]
    assert wait["wait_seconds"] == RACKBEAT_RETRY_AFTER and wait["next"] == "book"
    failed = [e for e in history if e["type"] in ("LambdaFunctionFailed", "TaskFailed")]
    # the one task "failure" is Run handing the wait back (the Handback error), not a stage failing
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["Handback"]
    (refused_at, _), (booked_at, status) = bookings
    assert status == 200 and RACKBEAT_RETRY_AFTER <= booked_at - refused_at < RACKBEAT_RETRY_AFTER + 5
    assert merchant.stage_of(merchant.only_rackbeat_order(placed)) == "booked"


def test_a_push_shopify_kept_throttling_returns_when_the_bucket_allows(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN Shopify answers a shop's stock mutation THROTTLED as often as the client repeats it in place, each time
    # reporting an empty bucket refilling at 50 points a second (500 points: 10 s away)
    merchant = merchant_with(stock_sync={"enabled": True})
    merchant.shop_product(SKU, available=3)
    shopify = stack.shopify
    original = type(shopify)._run
    answers: list[tuple[float, str]] = []

    def bucket_empty(self: Any, shop: Any, document: Any, operation: Any, *call: Any) -> SimResponse:
        if "inventorySetQuantities" in {field.name.value for field in operation.selection_set.selections}:
            if len([a for a in answers if a[1] == "THROTTLED"]) < THROTTLED_ATTEMPTS:
                answers.append((self.clock(), "THROTTLED"))
                status = {"maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": 50.0}
                cost = {"requestedQueryCost": 500, "actualQueryCost": None, "throttleStatus": status}
                body = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
                return SimResponse(200, json.dumps({**body, "extensions": {"cost": cost}}).encode())
            answers.append((self.clock(), "applied"))
        return original(self, shop, document, operation, *call)

    # WHEN the warehouse counts the item to 42
    with mock.patch.object(type(shopify), "_run", bucket_empty):
        stack.rackbeat.set_stock(merchant.account, SKU, 42, "L1")
        stack.settle()
    # THEN the push failed once (six answers), came back about 10 s after the last THROTTLED answer — far sooner
    # than the 720 s visibility timeout — and set the quantity
    throttled = [at for at, what in answers if what == "THROTTLED"]
    applied = [at for at, what in answers if what == "applied"]
    assert len(throttled) == THROTTLED_ATTEMPTS and applied
    assert 10 <= applied[0] - throttled[-1] < 60
    assert merchant.shop_quantities(SKU, "available") == [42]
