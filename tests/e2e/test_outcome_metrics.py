"""One metric record per finished event (SPEC §5: done, skipped or needs_attention), whichever flow finished it:
dispatch, an order, refund or cancellation workflow, a stock push. Read back from what the functions wrote."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from crossdock.aws.observability import FAILURE_CLASS_DIMENSION, OUTCOME_METRICS
from crossdock.store.events import FINAL
from crossdock_local.demo import DEMO_SKUS
from crossdock_local.log_capture import FunctionLogs, capture_function_logs
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
