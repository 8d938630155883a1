"""One metric record per finished event (SPEC §5: done, skipped or needs_attention), whichever flow finished it:
dispatch, an order, refund or cancellation workflow, a stock push. Read back from what the functions wrote."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from crossdock.aws.observability import FAILURE_CLASS_DIMENSION, OUTCOME_METRICS
from crossdock.store.events import FINAL
from crossdock_local.aws.lambda_runtime import CrashFaults
from crossdock_local.aws.log_capture import FunctionLogs, capture_function_logs
from crossdock_local.scenarios.demo import DEMO_SKUS
from crossdock_local.stack import LocalStack

STATUS_OF_METRIC = {metric: status for status, metric in OUTCOME_METRICS.items()}


def _outcome_records(logs: FunctionLogs) -> list[tuple[str, str | None]]:
    """(status, failure class) of every outcome metric record (EMF) the functions printed."""
    found = []
    for line in logs.lines:
        if not line.text.startswith("{") or '"_aws"' not in line.text:
            continue
        record: dict[str, Any] = json.loads(line.text)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] in STATUS_OF_METRIC:
                    found.append((STATUS_OF_METRIC[metric["Name"]], record.get(FAILURE_CLASS_DIMENSION)))
    return found


def test_every_finished_event_is_counted_once_by_outcome_and_failure_class(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop that syncs stock and sells the demo items, with webhooks delivered twice and out of order
    merchant = merchant_with(stock_sync={"enabled": True}, orders={"refunds_as_credit_notes": True})
    for sku in DEMO_SKUS[:5]:
        merchant.shop_product(sku, available=0)
    stack.shopify.delivery_faults.duplicate_rate = 0.5
    stack.shopify.delivery_faults.reorder = True
    with capture_function_logs(stack.aws) as logs:
        # WHEN orders come in: paid ones (transferred; their other webhooks skipped), one with a deleted product
        # (needs_attention, unmapped), one never paid, one cancelled before payment; stock follows the shipments
        for index in range(4):
            stack.shopify.create_order(merchant.domain, merchant.order(index), paid=True)
        broken = merchant.order(4)
        broken["line_items"][0] = {**broken["line_items"][0], "product_exists": False, "variant_id": None}
        stack.shopify.create_order(merchant.domain, broken, paid=True)
        stack.shopify.create_order(merchant.domain, merchant.order(5), paid=False)
        unpaid = stack.shopify.create_order(merchant.domain, merchant.order(6), paid=False)
        stack.shopify.cancel(merchant.domain, unpaid["id"])
        stack.settle()
    # THEN each finished event was counted exactly once, under its outcome and (for needs_attention) its class
    finished = [event for event in merchant.events() if event["status"] in FINAL]
    expected = Counter(
        (str(e["status"]), str(e["failure_class"]) if e["status"] == "needs_attention" else None) for e in finished
    )
    assert Counter(_outcome_records(logs)) == expected
    assert {status for status, _ in expected} == {"done", "skipped", "needs_attention"}
    assert ("needs_attention", "unmapped") in expected


class FirstAttemptsDie(CrashFaults):
    """Every workflow stage dies once, after its work is done; Step Functions retries it with the same input (it
    sees Lambda.Unknown), and that attempt lives."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def roll_after(self, function: str, event: Any) -> bool:
        attempt = json.dumps(event, sort_keys=True, default=str)
        if function != "OrderStepsFunction" or attempt in self.seen:
            return False
        self.seen.add(attempt)
        return True


def test_a_stage_retried_after_it_finished_the_event_does_not_count_it_again(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN workflow stages whose process dies after the stage's work is done: the retried stage finishes the same
    # event a second time
    merchant = merchant_with()
    stack.aws.lambdas.crash_faults = crashes = FirstAttemptsDie()
    try:
        with capture_function_logs(stack.aws) as logs:
            # WHEN paid orders go through (create + paid webhooks each)
            for index in range(4):
                stack.shopify.create_order(merchant.domain, merchant.order(index), paid=True)
            stack.settle()
    finally:
        stack.aws.lambdas.crash_faults = CrashFaults()
    # THEN stages were retried, and still every finished event was counted exactly once
    assert crashes.crashes > 0
    handled = Counter(str(event["status"]) for event in merchant.events())
    assert handled == {"done": 4, "skipped": 4}, [e.get("reason") for e in merchant.events()]
    assert Counter(status for status, _ in _outcome_records(logs)) == handled
