"""A paper model (issue 18, item 4): what 1,000 merchants with 100 orders a day each cost on AWS, and which quota
binds first as the merchants grow.

Arithmetic only: nothing runs on the stack. Every input is a constant below with where it comes from — MEASURED
(a bench's printed figure, dated in docs/measurements.md), DERIVED (worked out from measured figures, the rule
said beside it) or ASSUMED (a choice of the model, to be replaced by a measurement) — and every table printed is
computed from them, so a reader can check any row by hand. docs/scale-model.md shows the output and discusses it.

Run: .venv/bin/python bench/scale_model.py [--merchants 1000] [--orders-per-day 100]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PRICES_FILE = Path(__file__).resolve().parent / "prices_eu_west_1.json"  # the cost bench's dated price table

# --- The merchant (ASSUMED) -------------------------------------------------------------------------------------
# A merchant runs all four integrations on one Rackbeat account: a Shopify web shop (rackbeat_shopify), a Shopbox
# till (rackbeat_shopbox), Webshipper shipping the web orders from Rackbeat (rackbeat_webshipper) and a PeakWMS
# warehouse packing the orders of a second Shopify shop (peakwms_shopify). Its 100 orders a day:
WEB_ORDERS = 0.45  # Shopify web orders into Rackbeat (the order workflow to invoice)
POS_SALES = 0.30  # Shopbox till sales, polled into Rackbeat orders (the same workflow)
PEAKWMS_ORDERS = 0.25  # orders of the PeakWMS shop: into PeakWMS, packed, fulfilled and captured in Shopify
# …and on top, not orders of their own:
WEBSHIPPER_SHIPMENTS = 0.25  # of the 100, the web orders Rackbeat exports to Webshipper, shipped, tracked in Shopify
PEAKWMS_HELD = 0.20  # PeakWMS orders held for stock first, released by a goods receipt
PEAKWMS_REFUNDED = 0.10  # PeakWMS orders refunded a piece after capture
PEAKWMS_STOCK_COUNTS_PER_DAY = 5  # shelf counts corrected in PeakWMS (one SKU each)
# Stock changes per order: the Shopify bench's 10 Rackbeat stock webhooks an order are 5 item changes × its 2
# shops on the account; this merchant's two followers of Rackbeat stock are its Shopify shop and its Shopbox
# client, so the bench's figure stands for a web order and a till sale (it sets the push requests a second).
ORDER_STOCK_WEBHOOKS = 10.0  # MEASURED in the Shopify bench (docs/measurements.md, "AWS cost per 1,000 orders")
STOCK_FOLLOWERS = 2  # ASSUMED: Shopify shop + Shopbox client

# --- Measured per-order units ------------------------------------------------------------------------------------
# bench/cost_all.py --orders 150 at 728c0c3 (2026-12-07, docs/measurements.md "Issue 18: cost per 1,000 orders, all
# four integrations"): billed units per order of each integration, each on its own stack. `log_usd` is its
# CloudWatch Logs line plus the "Logs storage, KMS, Scheduler" line, in $ per order. What an order is in each:
# rackbeat_shopify a Shopify order to invoice (two shops with stock sync, a tenth refunded or cancelled);
# rackbeat_shopbox a till sale at a two-branch café (a tenth cancelled and credited); rackbeat_webshipper a
# Webshipper order (a third each Shopify-born, Rackbeat-born and imported), shipped and tracked; peakwms_shopify a
# Shopify order into PeakWMS, a third held for stock, packed, fulfilled, captured, shipped, with shelf counts and
# a refund as the demo does.
MEASURED_UNITS = {
    "rackbeat_shopify": {
        "sfn_transitions": 3.92, "dynamodb_wru": 90.8, "dynamodb_rru": 23.5, "api_requests": 13.2,
        "lambda_invocations": 16.6, "lambda_gb_seconds": 0.40, "sqs_fifo_requests": 13.1,
        "sqs_standard_requests": 15.8, "xray_traces": 0.66, "log_usd": (0.0102 + 0.0008) / 1000,
    },
    "rackbeat_shopbox": {
        "sfn_transitions": 4.40, "dynamodb_wru": 45.6, "dynamodb_rru": 20.0, "api_requests": 5.16,
        "lambda_invocations": 7.51, "lambda_gb_seconds": 0.14, "sqs_fifo_requests": 5.61,
        "sqs_standard_requests": 6.95, "xray_traces": 0.26, "log_usd": (0.0051 + 0.0005) / 1000,
    },
    "rackbeat_webshipper": {
        "sfn_transitions": 0.0, "dynamodb_wru": 53.3, "dynamodb_rru": 14.4, "api_requests": 5.67,
        "lambda_invocations": 6.54, "lambda_gb_seconds": 0.10, "sqs_fifo_requests": 1.41,
        "sqs_standard_requests": 7.13, "xray_traces": 0.28, "log_usd": (0.0047 + 0.0005) / 1000,
    },
    "peakwms_shopify": {
        "sfn_transitions": 0.0, "dynamodb_wru": 74.9, "dynamodb_rru": 18.3, "api_requests": 8.47,
        "lambda_invocations": 9.35, "lambda_gb_seconds": 0.06, "sqs_fifo_requests": 0.0,
        "sqs_standard_requests": 10.7, "xray_traces": 0.43, "log_usd": (0.0057 + 0.0004) / 1000,
    },
}  # fmt: skip
# Workflow executions per order (StartExecution): a Shopify order 0.95 (cost_per_order.py, 2026-11-23), a till
# sale 1.10 with its cancellations (cost_all.py, measurements.md).
EXECUTIONS_PER_ORDER = {"rackbeat_shopify": 0.95, "rackbeat_shopbox": 1.10}
# Rackbeat calls per order (cost_all.py, measurements.md: 19.5 / 15.5 / 12.7).
RACKBEAT_CALLS = {"rackbeat_shopify": 19.5, "rackbeat_shopbox": 15.5, "rackbeat_webshipper": 12.7}
# The cost benches run each integration on its own stack, so a till sale's stock changes reach only its café,
# not this merchant's Shopify shop as well. DERIVED: the second follower's 5 stock webhooks a sale, each with a
# push (peakwms_calls.py's stock adjustment: a webhook in, a compare-and-set out, 8.1 AWS requests), priced as the
# Shopify order's units per AWS request.
STOCK_CHANGES_PER_ORDER = 5
STOCK_CHANGE_AWS_CALLS = 8.1
# AWS requests a Shopify order makes (functions 126.2 + the emulator's queue polling 6.8): issue 12's fourth round,
# 200 orders at fbf853c (docs/measurements.md); the per-request scaling divides the Shopify order's units by it.
SHOPIFY_ORDER_AWS_CALLS = 133.0
# AWS requests per order of the others, for Lambda's time on AWS (below): bench/shopbox_sales.py --sales 200
# (80.10 a sale, its polls included), webshipper_calls.py and peakwms_calls.py (--orders 10), all 2026-12-07.
SHOPBOX_SALE_AWS_CALLS = 80.10
# Platform calls other than Rackbeat's: a till sale 4.52 Shopbox calls (shopbox_sales.py --sales 200); a web
# order's stock pushes to its shop, ASSUMED one per stock change (5).
SHOPBOX_CALLS_PER_SALE = 4.52
SHOPIFY_CALLS_PER_WEB_ORDER = 5.0


@dataclass(frozen=True)
class Step:
    """One kind of work per order, as a bench printed it per order: AWS requests (api + the runtime's), webhooks
    received (each is one API Gateway request and one event), and calls to the platforms."""

    name: str
    aws_calls: float
    webhooks: float
    platform_calls: dict[str, float] = field(default_factory=dict)


# bench/webshipper_calls.py --orders 10 (2026-12-07, this session; the 20-order figures in measurements.md agree).
WEBSHIPPER_EXPORT = Step("exported (order.booked)", 18.0, 2.0, {"rackbeat": 1.0, "webshipper": 3.0})
WEBSHIPPER_SHIPMENT = Step(
    "shipment with tracking → Shopify", 60.4, 5.0, {"rackbeat": 9.0, "webshipper": 4.0, "shopify": 2.0}
)
# bench/peakwms_calls.py --orders 10 (2026-12-07, this session).
PEAKWMS_RECEIVED = Step("order received (released)", 22.0, 2.0, {"shopify": 1.0, "peakwms": 2.0})
PEAKWMS_HELD_STEP = Step("order held, released by a receipt", 9.9, 1.2, {"shopify": 0.4, "peakwms": 0.2})
PEAKWMS_PACKED = Step("packed + captured", 54.4, 5.1, {"shopify": 6.2, "peakwms": 1.0})
PEAKWMS_SHIPPED = Step("shipped", 7.7, 1.0)
# A refund of a line reads the fulfillment orders first (whether a pack of it is still coming): 3 Shopify calls, as
# bench/peakwms_calls.py --orders 20 measured at 1a54abe (3.00; PeakWMS 0.90, its line fulfilled before the refund).
PEAKWMS_REFUND = Step("refunded (one piece)", 28.1, 2.0, {"shopify": 3.0, "peakwms": 1.0})
PEAKWMS_STOCK_COUNT = Step("stock adjustment (per SKU)", 8.1, 1.0, {"shopify": 2.8, "peakwms": 1.0})

# --- Fixed work per connection (schedules) -----------------------------------------------------------------------
# Poll streams and their default intervals in minutes (the integrations' `StreamSchedule.every`, settings defaults;
# Shopbox's product stream runs only where products come from Shopbox, not here: Rackbeat is the source).
POLL_STREAMS = {
    "rackbeat_shopify": {"reconcile#orders": 15, "reconcile#stock": 15},
    "rackbeat_shopbox": {"sales#baskets": 5},
    "rackbeat_webshipper": {"webshipper#orders": 5},
    "peakwms_shopify": {"shopify#orders": 10, "peakwms#orders": 15},
}
# $ a run, each stream's run measured idle (cost_all.py at 728c0c3, measurements.md "Fixed cost per connection per
# day"): 1 Scheduler invocation, 1 Lambda invocation, its DynamoDB (3 WRU: lease, cursor, release; the stock
# sweep 44 WRU, a rate-limiter slot per Rackbeat call; the sales stream 27 RRU re-reading the day's baskets).
POLL_RUN_USD = {
    "reconcile#orders": 0.0000043,
    "reconcile#stock": 0.0000310,
    "sales#baskets": 0.0000075,
    "webshipper#orders": 0.0000040,
    "peakwms#orders": 0.0000050,
    "shopify#orders": 0.0000041,
}
POLL_RUN_SECONDS = 1.0  # ASSUMED on AWS (docs/poll.md: about 1 s at 256 MB), for the concurrency row
POLL_RUN_WRU = 3.0  # an idle run's lease, cursor and release (the stock sweep's 44 left out of the peak rate)
# The hourly self-check: $0.04 a month with two shops (MEASURED, cost_per_order.py); DERIVED per connection.
SELF_CHECK_USD_PER_CONNECTION_MONTH = 0.04 / 2
# Per stack, whatever the merchants: 16 EMF metric/dimension combinations ($4.80) and the KMS key ($1): MEASURED.
STACK_USD_PER_MONTH = 4.80 + 1.00
# The PeakWMS sweep Queries every order binding of its connection, closed ones too (docs/poll.md), so its reads
# grow with the orders ever bound. ASSUMED: 400 bytes a binding, eventually consistent (0.5 RRU per 4 KB).
BINDING_BYTES = 400
DAYS_OF_BINDINGS = 365  # a merchant one year in

# --- On AWS, not on the embedded stack (ASSUMED) -----------------------------------------------------------------
# The benches' Lambda milliseconds are in-process (moto's CPU, no network); on AWS a function also waits for the
# platforms. A platform call: 0.25 s (docs/rate-limits.md: 100–300 ms a Rackbeat answer); an AWS request: 10 ms.
PLATFORM_CALL_SECONDS = 0.25
AWS_CALL_SECONDS = 0.010
FUNCTION_GB = 0.25  # 256 MB (template.yaml Globals)
# The self-check (functions/self_check, issue 18): the schedule's run lists the connections (the Connections index,
# ASSUMED 2 KB a connection item: 500 to a 1 MB page) and queues one message each (SendMessageBatch, 10 to a
# request), one AWS request's time per page and per batch, within the function's timeout; the queue's consumers
# (an SQS event source, MaximumConcurrency containers) check each connection in ASSUMED 2 platform calls when
# nothing is missing, and must get through every connection within the schedule's hour.
SELF_CHECK_CALLS_PER_CONNECTION = 2
SELF_CHECK_TIMEOUT_SECONDS = 120  # template.yaml SelfCheckFunction: the schedule's run
SELF_CHECK_CONNECTIONS_PER_PAGE = 500
SELF_CHECK_LIST_SECONDS_PER_CONNECTION = AWS_CALL_SECONDS / SELF_CHECK_CONNECTIONS_PER_PAGE + AWS_CALL_SECONDS / 10
SELF_CHECK_CONCURRENCY = 20  # template.yaml SelfCheckFunction Events.Checks ScalingConfig.MaximumConcurrency
SELF_CHECK_PERIOD_SECONDS = 3600  # SelfCheckRate's default
# The open-events index's partition key is `<status>#<shard>`, the shard a hash of the connection id (issue 18):
# the fleet's index writes spread over 16 partitions (evenly, with many connections; ASSUMED even here).
OPEN_EVENTS_SHARDS = 16

# --- Peak (ASSUMED) ---------------------------------------------------------------------------------------------
PEAK_HOUR_SHARE = 0.10  # the busiest hour carries a tenth of the day's orders
BLACK_FRIDAY = 5  # and Black Friday five times an ordinary day
TRACE_SAMPLE_RATE = 0.05  # template.yaml TraceSampleRate (X-Ray traces start at the API)

DAY_SECONDS = 86400
MONTH_DAYS = 30


def per_call(units: dict[str, float], calls: float, webhooks: float, workflow: bool) -> dict[str, float]:
    """A step's billed units, DERIVED from the Shopify order's: what scales with AWS requests (DynamoDB, SQS,
    Lambda, logs) by the step's requests over the Shopify order's; API Gateway and X-Ray by its webhooks; Step
    Functions none unless the step runs the order workflow."""
    scale = calls / SHOPIFY_ORDER_AWS_CALLS
    derived = {key: value * scale for key, value in units.items()}
    derived["api_requests"] = webhooks
    derived["xray_traces"] = webhooks * TRACE_SAMPLE_RATE
    if not workflow:
        derived["sfn_transitions"] = derived["sfn_executions"] = 0.0
    return derived


@dataclass
class Integration:
    kind: str
    source: str  # how its per-order units were got
    orders_per_day: float  # per merchant
    units: dict[str, float]  # billed units per order
    aws_calls: float  # AWS requests per order
    webhooks: float  # API Gateway requests per order
    platform_calls: dict[str, float]  # per order
    events: float  # inbound events recorded per order (a webhook or a polled message each)
    fifo_sends: float  # SendMessage to one outbound FIFO queue per order


def weighted(steps: list[tuple[Step, float]]) -> Step:
    """Steps weighted per order (e.g. a refund for a tenth of the orders) summed into one."""
    calls: dict[str, float] = {}
    for step, weight in steps:
        for system, n in step.platform_calls.items():
            calls[system] = calls.get(system, 0.0) + n * weight
    return Step(
        " + ".join(step.name for step, _ in steps),
        sum(step.aws_calls * weight for step, weight in steps),
        sum(step.webhooks * weight for step, weight in steps),
        calls,
    )


def measured(kind: str) -> dict[str, float]:
    return {**MEASURED_UNITS[kind], "sfn_executions": EXECUTIONS_PER_ORDER.get(kind, 0.0)}


def integrations(orders_per_day: float) -> list[Integration]:
    stock_sends = ORDER_STOCK_WEBHOOKS / STOCK_FOLLOWERS  # one push request per stock change per follower queue
    web_units = measured("rackbeat_shopify")
    web_calls = {"rackbeat": RACKBEAT_CALLS["rackbeat_shopify"], "shopify": SHOPIFY_CALLS_PER_WEB_ORDER}
    web = Integration(
        "rackbeat_shopify", "MEASURED (cost_all.py)", orders_per_day * WEB_ORDERS, web_units, SHOPIFY_ORDER_AWS_CALLS,
        web_units["api_requests"], web_calls, web_units["api_requests"], stock_sends,
    )  # fmt: skip
    # A till sale as measured, plus what its stock changes cost at the merchant's second follower (its Shopify shop).
    second_calls = STOCK_CHANGES_PER_ORDER * STOCK_CHANGE_AWS_CALLS
    second = per_call(web_units, second_calls, STOCK_CHANGES_PER_ORDER, workflow=False)
    pos_units = {key: value + second.get(key, 0.0) for key, value in measured("rackbeat_shopbox").items()}
    pos = Integration(
        "rackbeat_shopbox", "MEASURED (cost_all.py) + the second follower's stock work (DERIVED)",
        orders_per_day * POS_SALES, pos_units, SHOPBOX_SALE_AWS_CALLS + second_calls, pos_units["api_requests"],
        {"rackbeat": RACKBEAT_CALLS["rackbeat_shopbox"], "shopbox": SHOPBOX_CALLS_PER_SALE},
        pos_units["api_requests"] + 1, stock_sends,
    )  # fmt: skip
    ship = weighted([(WEBSHIPPER_EXPORT, 1.0), (WEBSHIPPER_SHIPMENT, 1.0)])
    ship_units = measured("rackbeat_webshipper")
    ship_calls = {**ship.platform_calls, "rackbeat": RACKBEAT_CALLS["rackbeat_webshipper"]}
    shipments = Integration(
        "rackbeat_webshipper", "MEASURED (cost_all.py)", orders_per_day * WEBSHIPPER_SHIPMENTS, ship_units,
        ship.aws_calls, ship_units["api_requests"], ship_calls, ship_units["api_requests"], 0.0,
    )  # fmt: skip
    pack = weighted(
        [
            (PEAKWMS_RECEIVED, 1.0),
            (PEAKWMS_HELD_STEP, PEAKWMS_HELD),
            (PEAKWMS_PACKED, 1.0),
            (PEAKWMS_SHIPPED, 1.0),
            (PEAKWMS_REFUND, PEAKWMS_REFUNDED),
            # the day's shelf counts spread over its PeakWMS orders
            (PEAKWMS_STOCK_COUNT, PEAKWMS_STOCK_COUNTS_PER_DAY / (orders_per_day * PEAKWMS_ORDERS)),
        ]
    )
    pack_units = measured("peakwms_shopify")
    packs = Integration(
        "peakwms_shopify", "MEASURED (cost_all.py)", orders_per_day * PEAKWMS_ORDERS, pack_units, pack.aws_calls,
        pack_units["api_requests"], pack.platform_calls, pack_units["api_requests"], 0.0,
    )  # fmt: skip
    return [web, pos, shipments, packs]


@dataclass(frozen=True)
class Prices:
    """$ per billed unit, from bench/prices_eu_west_1.json (each entry's source and date are there)."""

    unit: dict[str, float]

    @staticmethod
    def load(path: Path = PRICES_FILE) -> Prices:
        table = json.loads(path.read_text(encoding="utf-8"))["prices"]

        def each(key: str) -> float:
            return float(table[key]["usd"]) / int(table[key]["per"])

        return Prices(
            {
                "sfn_transitions": each("stepfunctions_standard_transitions"),
                "sfn_executions": 0.0,  # Standard bills transitions only
                "dynamodb_wru": each("dynamodb_write_request_units"),
                "dynamodb_rru": each("dynamodb_read_request_units"),
                "api_requests": each("apigateway_rest_requests"),
                "lambda_invocations": each("lambda_requests"),
                "lambda_gb_seconds": each("lambda_gb_seconds_arm64"),
                "sqs_fifo_requests": each("sqs_fifo_requests"),
                "sqs_standard_requests": each("sqs_standard_requests"),
                "xray_traces": each("xray_traces_recorded"),
                "kms_requests": each("kms_requests"),
                "scheduler_invocations": each("scheduler_invocations"),
                "log_usd": 1.0,
            }
        )


SERVICE = {
    "sfn_transitions": "Step Functions",
    "sfn_executions": "Step Functions",
    "dynamodb_wru": "DynamoDB",
    "dynamodb_rru": "DynamoDB",
    "api_requests": "API Gateway",
    "lambda_invocations": "Lambda",
    "lambda_gb_seconds": "Lambda",
    "sqs_fifo_requests": "SQS",
    "sqs_standard_requests": "SQS",
    "xray_traces": "X-Ray",
    "kms_requests": "KMS",
    "scheduler_invocations": "EventBridge Scheduler",
    "log_usd": "CloudWatch Logs",
}


def usd(units: dict[str, float], prices: Prices) -> dict[str, float]:
    """$ per service for the units given."""
    out: dict[str, float] = {}
    for key, value in units.items():
        out[SERVICE[key]] = out.get(SERVICE[key], 0.0) + value * prices.unit[key]
    return out


def platform_wait_usd(kind: Integration, prices: Prices) -> float:
    """Lambda duration on AWS spent waiting for the platforms, per order (not in the benches' in-process ms)."""
    waiting = sum(kind.platform_calls.values()) * PLATFORM_CALL_SECONDS * FUNCTION_GB
    return waiting * prices.unit["lambda_gb_seconds"]


def poll_runs_per_day(kind: str) -> float:
    return sum(DAY_SECONDS / (minutes * 60) for minutes in POLL_STREAMS[kind].values())


def fixed_usd_per_month(kind: str, orders_per_day: float, prices: Prices) -> dict[str, float]:
    """A connection's month whatever its orders: its poll runs as measured (the Scheduler's invocation apart), its
    share of the self-check and, for PeakWMS, the sweep's Query over a year of bindings."""
    scheduler = prices.unit["scheduler_invocations"]
    out = {"EventBridge Scheduler": 0.0, "poll runs (Lambda, DynamoDB)": 0.0}
    for stream in POLL_STREAMS[kind]:
        out["EventBridge Scheduler"] += runs_of(stream) * scheduler
        out["poll runs (Lambda, DynamoDB)"] += runs_of(stream) * (POLL_RUN_USD[stream] - scheduler)
    out["self-check"] = SELF_CHECK_USD_PER_CONNECTION_MONTH
    if kind == "peakwms_shopify":
        out["DynamoDB"] = sweep_binding_rru(orders_per_day) * prices.unit["dynamodb_rru"] * runs_of("peakwms#orders")
    return out


def runs_of(stream: str) -> float:
    """A stream's runs a month."""
    minutes = next(streams[stream] for streams in POLL_STREAMS.values() if stream in streams)
    return DAY_SECONDS / (minutes * 60) * MONTH_DAYS


def sweep_binding_rru(orders_per_day: float) -> float:
    """Read units of one `peakwms#orders` run's Query over every binding ever made (a year's)."""
    bindings = DAYS_OF_BINDINGS * orders_per_day * PEAKWMS_ORDERS
    return bindings * BINDING_BYTES / 4096 * 0.5


@dataclass(frozen=True)
class Quota:
    """An AWS default quota (eu-west-1) against a fleet-wide rate, per merchant at the peak."""

    name: str
    limit: float
    unit: str
    per_merchant: float  # the rate one merchant adds at the peak
    source: str
    lift: str

    def binds_at(self) -> float:
        return self.limit / self.per_merchant if self.per_merchant else float("inf")


def peak_orders_per_second(orders_per_day: float) -> float:
    """One merchant's orders per second in the busiest hour of Black Friday."""
    return orders_per_day * BLACK_FRIDAY * PEAK_HOUR_SHARE / 3600


def lambda_seconds_per_order(kind: Integration) -> float:
    return kind.aws_calls * AWS_CALL_SECONDS + sum(kind.platform_calls.values()) * PLATFORM_CALL_SECONDS


def quotas(kinds: list[Integration], orders_per_day: float) -> list[Quota]:
    peak = peak_orders_per_second(orders_per_day)

    def rate(per_order: float, kind: Integration) -> float:
        return peak * (kind.orders_per_day / orders_per_day) * per_order

    def total(per_order: Callable[[Integration], float]) -> float:
        return sum(rate(per_order(kind), kind) for kind in kinds)

    runs_per_second = sum(poll_runs_per_day(kind) for kind in POLL_STREAMS) / DAY_SECONDS
    webhooks = total(lambda kind: kind.webhooks)
    starts = total(lambda kind: kind.units["sfn_executions"])
    transitions = total(lambda kind: kind.units["sfn_transitions"])
    concurrency = total(lambda_seconds_per_order) + runs_per_second * POLL_RUN_SECONDS
    writes = total(lambda kind: kind.units["dynamodb_wru"]) + runs_per_second * POLL_RUN_WRU
    open_events = total(lambda kind: 2 * kind.events)  # the event's index entry written, then removed
    fifo = sum(rate(kind.fifo_sends, kind) for kind in kinds if kind.fifo_sends)
    connections = len(POLL_STREAMS)
    self_check = connections * SELF_CHECK_CALLS_PER_CONNECTION * PLATFORM_CALL_SECONDS
    lambda_quotas = "https://docs.aws.amazon.com/lambda/latest/dg/limits.html"
    sfn_quotas = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
    ddb_partition = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html"
    sqs_quotas = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html"
    return [
        Quota(
            "self-check: the schedule's run queues every connection in one invocation",
            SELF_CHECK_TIMEOUT_SECONDS,
            "s a run",
            connections * SELF_CHECK_LIST_SECONDS_PER_CONNECTION,
            "template.yaml SelfCheckFunction Timeout 120; functions/self_check (an index page and a batch of 10 each)",
            "queue from several runs, each over a share of the Connections index; the timeout up to 900 s",
        ),
        Quota(
            "self-check: the queue's consumers check every connection within the hour",
            SELF_CHECK_CONCURRENCY * SELF_CHECK_PERIOD_SECONDS,
            "container-s an hour",
            self_check,
            "template.yaml SelfCheckFunction Events.Checks ScalingConfig MaximumConcurrency 20",
            "raise MaximumConcurrency (its containers count against Lambda's concurrency)",
        ),
        Quota(
            "API Gateway stage throttle (template.yaml WebhookThrottleRate)",
            200,
            "requests/s",
            webhooks,
            "template.yaml parameters WebhookThrottleRate 200, WebhookBurstLimit 500 (their defaults)",
            "raise WebhookThrottleRate (docs/deploying.md); one Rackbeat webhook per account (issue 18) cuts requests",
        ),
        Quota(
            "DynamoDB partitions: OpenEvents index key `received#<shard>`, 16 shards",
            1000 * OPEN_EVENTS_SHARDS,
            "WCU/s",
            open_events,
            ddb_partition + " (1,000 write units/s per partition); store/events.py OPEN_SHARDS",
            "more shards (OPEN_SHARDS; the readers Query each); spread evenly by the connection id's hash",
        ),
        Quota(
            "SQS FIFO SendMessage per queue (not high-throughput)",
            300,
            "TPS",
            fifo,
            sqs_quotas + " (300 TPS per API action)",
            "high-throughput FIFO: DeduplicationScope messageGroup + FifoThroughputLimit perMessageGroupId",
        ),
        Quota(
            "DynamoDB on-demand table, warm at creation (not a cap)",
            4000,
            "WRU/s",
            writes,
            ddb_partition + " (a new on-demand table: 4,000)",
            "scales itself to twice its previous peak; pre-warm (WarmThroughput) before a campaign",
        ),
        Quota(
            "DynamoDB on-demand table maximum (account default, per table)",
            40000,
            "WRU/s",
            writes,
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (40,000 per table)",
            "quota increase; or a table per Region group of merchants",
        ),
        Quota(
            "Step Functions StartExecution (Standard), refill",
            300,
            "/s",
            starts,
            sfn_quotas + " (Ireland: bucket 1,300, 300/s)",
            "quota increase (Service Quotas)",
        ),
        Quota(
            "Step Functions state transitions (Standard), refill",
            1500,
            "/s",
            transitions,
            sfn_quotas + " (Ireland: bucket 5,000, 1,500/s)",
            "quota increase; fewer transitions per order",
        ),
        Quota(
            "Lambda concurrent executions (account, Region)",
            1000,
            "concurrent",
            concurrency,
            lambda_quotas + " (1,000; lower on new accounts)",
            "quota increase to tens of thousands; reserved concurrency for ingest",
        ),
        Quota(
            "EventBridge Scheduler invocations",
            1000,
            "/s",
            runs_per_second,
            "https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html (1,000 TPS)",
            "quota increase; longer poll intervals",
        ),
        Quota(
            "API Gateway account throttle (all APIs, Region)",
            10000,
            "requests/s",
            webhooks,
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (10,000 RPS, burst 5,000)",
            "quota increase",
        ),
    ]


def hot_keys(kinds: list[Integration], orders_per_day: float) -> list[tuple[str, float, float, str]]:
    """(partition key, write units a second at the peak, orders a day on it at which 1,000 WCU/s binds, what writes
    it). Per connection and per account, so the merchant's own volume, not the fleet's, is what fills them."""
    peak = peak_orders_per_second(orders_per_day)
    rows = []
    for kind in kinds:
        wru = peak * kind.orders_per_day / orders_per_day * kind.units["dynamodb_wru"]
        binds = 1000 / (kind.units["dynamodb_wru"] * peak / orders_per_day)
        rows.append((f"CONN#<{kind.kind} connection>", wru, binds, "its events, mappings, stock markers, cursors"))
    rackbeat_per_minute = next(at for system, at, _, _ in platform_rows(kinds, orders_per_day) if system == "rackbeat")
    rows.append(
        ("RATE#rackbeat#<account>", rackbeat_per_minute / 60, float("inf"),
         "≤ 1 UpdateItem per Rackbeat call: at most 456/60 = 7.6 a second, whatever the orders")
    )  # fmt: skip
    return rows


# Per account, per merchant: docs/rate-limits.md and ../shared/reference/*.md (calls a minute).
PLATFORM_LIMITS = {
    "rackbeat": (456, "Crossdock's budget of Rackbeat's 480/min per account (RackbeatCallsPerMinute)"),
    "peakwms": (240, "PeakWMS 240/min per account (reference/peakwms.md)"),
    "shopbox": (300, "Shopbox unpublished; the simulator's guess 5/s per token (reference/shopbox.md)"),
    "webshipper": (120, "Webshipper unpublished; the simulator's guess 2/s per account (reference/webshipper.md)"),
    "shopify": (600, "Shopify GraphQL 100 points/s restore; ASSUMED ~10 points a call → 600 calls/min a shop"),
}
# Polls add their own calls, as (a minute whatever the orders, a minute per order a day): PeakWMS's sweep one GET
# per open order every 15 min (ASSUMED open for a day: a day's PeakWMS orders are open), Shopbox's one basket
# page per 5-minute run, Webshipper's one listing per 5-minute run.
POLL_CALLS_PER_MINUTE = {"peakwms": (0.0, PEAKWMS_ORDERS / 15), "shopbox": (1 / 5, 0.0), "webshipper": (1 / 5, 0.0)}


def platform_rows(kinds: list[Integration], orders_per_day: float) -> list[tuple[str, float, float, str]]:
    """(platform, calls a minute at the peak, orders a day at which its limit binds, source)."""
    peak_minute_per_order_a_day = peak_orders_per_second(1.0) * 60  # the peak minute's orders per order a day
    rows = []
    for system, (limit, source) in PLATFORM_LIMITS.items():
        per_order = sum(kind.platform_calls.get(system, 0.0) * kind.orders_per_day / orders_per_day for kind in kinds)
        fixed, per_order_a_day = POLL_CALLS_PER_MINUTE.get(system, (0.0, 0.0))
        slope = per_order * peak_minute_per_order_a_day + per_order_a_day  # calls a minute per order a day
        at_peak = fixed + slope * orders_per_day
        binds = (limit - fixed) / slope if slope else float("inf")
        rows.append((system, at_peak, binds, source))
    return rows


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def money(value: float) -> str:
    return f"{value:.4f}" if value < 1 else f"{value:,.2f}"


def report(merchants: int, orders_per_day: float) -> list[str]:
    prices = Prices.load()
    kinds = integrations(orders_per_day)
    out = [f"Scale model: {merchants:,} merchants × {orders_per_day:g} orders a day, all four integrations", ""]

    out.append("1. Per order, per integration ($ per 1,000 orders; Lambda's waits for the platforms apart)")
    services = ["Step Functions", "DynamoDB", "API Gateway", "Lambda", "SQS", "CloudWatch Logs", "X-Ray", "KMS"]
    rows = []
    for kind in kinds:
        cost = usd(kind.units, prices)
        rows.append(
            [kind.kind, f"{kind.orders_per_day:g}", *(money(cost.get(s, 0.0) * 1000) for s in services),
             money(sum(cost.values()) * 1000), money(platform_wait_usd(kind, prices) * 1000), kind.source]
        )  # fmt: skip
    out += table(["kind", "orders/day", *services, "total", "+ Lambda waiting", "units"], rows)

    out += ["", "2. Per merchant per month ($)"]
    month_rows = []
    per_service: dict[str, float] = {}
    grand = 0.0
    for kind in kinds:
        orders = kind.orders_per_day * MONTH_DAYS
        variable = {s: v * orders for s, v in usd(kind.units, prices).items()}
        variable["Lambda"] += platform_wait_usd(kind, prices) * orders
        fixed = fixed_usd_per_month(kind.kind, orders_per_day, prices)
        for source in (variable, fixed):
            for service, value in source.items():
                per_service[service] = per_service.get(service, 0.0) + value
        v, f = sum(variable.values()), sum(fixed.values())
        grand += v + f
        month_rows.append([kind.kind, f"{orders:,.0f}", money(v), f"{poll_runs_per_day(kind.kind) * MONTH_DAYS:,.0f}",
                           money(f), money(v + f)])  # fmt: skip
    stack_share = STACK_USD_PER_MONTH / merchants
    grand += stack_share
    month_rows.append(["the stack (metrics, KMS key) / merchants", "", "", "", money(stack_share), money(stack_share)])
    month_rows.append(["**merchant**", f"{orders_per_day * MONTH_DAYS:,.0f}", "", "", "", f"**{money(grand)}**"])
    out += table(["kind", "orders", "per order", "poll runs", "fixed", "total"], month_rows)
    out += [
        "",
        "   by service: " + ", ".join(f"{s} {money(v)}" for s, v in sorted(per_service.items(), key=lambda i: -i[1])),
    ]
    per_1000 = grand / (orders_per_day * MONTH_DAYS) * 1000
    out += [
        f"   all-in per 1,000 orders: ${per_1000:.4f}; fleet: ${grand * merchants:,.0f} a month "
        f"(${grand * merchants * 12:,.0f} a year) for {merchants:,} merchants",
    ]

    peak = peak_orders_per_second(orders_per_day)
    out += [
        "",
        f"3. Peak: {PEAK_HOUR_SHARE:.0%} of a day's orders in the busiest hour, Black Friday × {BLACK_FRIDAY}: "
        f"{orders_per_day * PEAK_HOUR_SHARE * BLACK_FRIDAY:g} orders an hour a merchant, "
        f"{peak * merchants:.1f} orders/s for {merchants:,}",
    ]
    rows = []
    for quota in quotas(kinds, orders_per_day):
        at = quota.per_merchant * merchants
        rows.append([quota.name, f"{at:,.1f}", f"{quota.limit:,.0f} {quota.unit}", f"{at / quota.limit:.0%}",
                     f"{quota.binds_at():,.0f}", quota.lift])  # fmt: skip
    rows.sort(key=lambda row: float(row[4].replace(",", "")))
    out += table(["limit", f"at {merchants:,}", "quota", "used", "binds at merchants", "lifted by"], rows)
    out += ["", "   the quotas' sources:"] + [
        f"   - {quota.name}: {quota.source}" for quota in quotas(kinds, orders_per_day)
    ]

    out += ["", "   Hot keys of one merchant (DynamoDB: 1,000 write units a second per partition)"]
    rows = [
        [key, f"{wru:.2f}", "never" if binds == float("inf") else f"{binds:,.0f}", what]
        for key, wru, binds, what in hot_keys(kinds, orders_per_day)
    ]
    out += table(["partition", "WRU/s at the peak", "binds at orders/day on it", "written by"], rows)

    out += ["", "4. Per merchant: the platforms' own limits at the peak (calls a minute)"]
    rows = [
        [system, f"{at_peak:.1f}", f"{PLATFORM_LIMITS[system][0]}", f"{binds:,.0f}", source]
        for system, at_peak, binds, source in platform_rows(kinds, orders_per_day)
    ]
    out += table(["platform", "at the peak", "limit", "binds at orders/day", "limit's source"], rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--merchants", type=int, default=1000)
    parser.add_argument("--orders-per-day", type=float, default=100)
    args = parser.parse_args()
    print("\n".join(report(args.merchants, args.orders_per_day)))


if __name__ == "__main__":
    main()
