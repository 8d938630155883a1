"""AWS cost per 1,000 orders (DESIGN §8, issue 5): what the embedded stack metered, priced with a dated price table.

Runs `--orders` varied Shopify orders through the embedded stack the way `crossdock demo` does: two shops on one
Rackbeat account with products and stock sync on, every paid order processed to invoice, about a tenth of the paid
orders refunded as credit notes and a tenth of the unpaid cancelled. Only what happens from the first order to the
last settle is priced (not setting up connections and the catalog), per service and item, in units per order and
dollars per 1,000 orders, with the target (< $0.30 all-in); then the costs that are per month rather than per
order; then what the same order workflows would cost as Express workflows, and why they are Standard.

How each line is metered: `crossdock_local.aws_usage` (DynamoDB units from item sizes, SQS 64 KB chunks, Step
Functions transitions from the execution histories, Lambda billed milliseconds of the in-process handlers). Log
bytes are what the functions write to stdout (their JSON logs and EMF metrics) plus Lambda's own START/END/REPORT
lines. The run is audited against the simulators afterwards (as the demo audits): problems are listed after the
prices, and make the run exit non-zero.

Run: .venv/bin/python bench/cost_per_order.py [--orders 200] [--seed 2026]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cost_model import (
    EXPRESS_MAX_SECONDS,
    PRICES,
    CostLine,
    PriceTable,
    Usage,
    cost_lines,
    express_execution_usd,
    retry_waits,
    total_per_1000_orders,
    unpriced,
)

PROJECT = Path(__file__).resolve().parents[1]
LOG_PATH = Path(tempfile.gettempdir()) / "crossdock-cost-per-order.log"
TARGET_PER_1000 = Decimal("0.30")
ORDER_MACHINE = "OrderStateMachine"
ORDER_TASKS = ("Transfer", "Book", "Ship", "Invoice")  # the states an order to invoice passes through
EXPRESS_MEMORY_MB = 64  # the workflow's state is a few KB of order references and settings: the smallest chunk
# Lambda's own lines per invocation (text log format), sized with typical values: they are ingested too.
_PLATFORM_LINES = (
    "START RequestId: 00000000-0000-0000-0000-000000000000 Version: $LATEST\n",
    "END RequestId: 00000000-0000-0000-0000-000000000000\n",
    "REPORT RequestId: 00000000-0000-0000-0000-000000000000\tDuration: 123.45 ms\tBilled Duration: 124 ms\t"
    "Memory Size: 256 MB\tMax Memory Used: 98 MB\t\n",
    "XRAY TraceId: 1-00000000-000000000000000000000000\tSegmentId: 0000000000000000\tSampled: true\t\n",
)
PLATFORM_BYTES_PER_INVOCATION = sum(len(line) for line in _PLATFORM_LINES)


class LogMeter(io.TextIOBase):
    """Stands in for stdout while the stack runs: counts the bytes the functions log (as CloudWatch would ingest
    them) and the distinct EMF metrics, and keeps the lines in a file for reading later."""

    def __init__(self, copy_to: io.TextIOBase) -> None:
        self.bytes = 0
        self.metrics: set[tuple[str, str, tuple[str, ...]]] = set()
        self._copy = copy_to
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self._copy.write(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if line.startswith('{"_aws"'):
                self._note_metrics(line)
        return len(text)

    def _note_metrics(self, line: str) -> None:
        """Each metric name with each dimension set is a custom metric CloudWatch bills per month."""
        with contextlib.suppress(ValueError, KeyError, TypeError):
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                for dimensions in directive.get("Dimensions", [[]]):
                    for metric in directive["Metrics"]:
                        self.metrics.add((directive["Namespace"], metric["Name"], tuple(dimensions)))


@dataclass
class Snapshot:
    usage: dict[str, Any]
    log_bytes: int
    stored_bytes: int
    rackbeat_calls: int
    shopify_calls: int


@dataclass
class Window:
    """The difference between two snapshots: what the stack did in between."""

    before: Snapshot
    after: Snapshot
    seconds: float

    def delta(self, *path: str) -> float:
        return _number(self.after.usage, path) - _number(self.before.usage, path)

    def lambda_total(self, name: str) -> float:
        return sum(self.delta("lambda", function, name) for function in self.after.usage["lambda"])

    def by_source(self, source: str) -> float:
        return sum(self.delta("lambda", function, "by_source", source) for function in self.after.usage["lambda"])

    def grouped(self, *path: str) -> dict[str, float]:
        """Deltas of every counter under `path` (e.g. api_calls.kms → {operation: n})."""
        keys = set(_tree(self.after.usage, path)) | set(_tree(self.before.usage, path))
        return {key: self.delta(*path, key) for key in sorted(keys) if self.delta(*path, key)}

    def usage(self, orders: int, log_retention_days: int, trace_sample_rate: float) -> Usage:
        sqs = {kind: sum(self.grouped("sqs", kind, "billed").values()) for kind in ("standard", "fifo")}
        invocations = int(self.lambda_total("invocations"))
        return Usage(
            orders=orders,
            api_gateway_requests=int(self.delta("api_requests")),
            lambda_invocations=invocations,
            lambda_gb_seconds=self.lambda_total("gb_seconds"),
            sqs_standard_requests=int(sqs["standard"]),
            sqs_fifo_requests=int(sqs["fifo"]),
            dynamodb_write_units=sum(self.delta("dynamodb", t, "write_units") for t in self.after.usage["dynamodb"]),
            dynamodb_read_units=sum(self.delta("dynamodb", t, "read_units") for t in self.after.usage["dynamodb"]),
            dynamodb_stored_bytes=max(0, self.after.stored_bytes - self.before.stored_bytes),
            state_transitions=int(sum(self.delta("states", m, "transitions") for m in self.after.usage["states"])),
            kms_requests=int(sum(self.grouped("api_calls", "kms").values())),
            scheduler_invocations=int(self.delta("scheduler", "invocations")),
            log_bytes=self.after.log_bytes - self.before.log_bytes + invocations * PLATFORM_BYTES_PER_INVOCATION,
            log_retention_months=log_retention_days / 30,
            # A trace starts where a request enters: API Gateway samples webhooks at the template's rate (its
            # sampling rule has no reservoir), and the queues, workflows and functions behind it join that trace
            # (functions trace PassThrough). Scheduled runs start none.
            xray_traces=round(self.delta("api_requests") * trace_sample_rate),
        )


def _tree(usage: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node: Any = usage
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _number(usage: dict[str, Any], path: tuple[str, ...]) -> float:
    node: Any = usage
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return 0.0
        node = node[key]
    return float(node)


@dataclass
class Run:
    orders: int
    paid: int
    refunds: int
    cancelled: int
    window: Window
    self_check: Window
    connections: int
    metrics: set[tuple[str, str, tuple[str, ...]]]
    problems: list[str] = field(default_factory=list)


def run(order_count: int, seed: int) -> Run:
    """The demo's orders through the stack, metered from the first order to the last settle, then audited."""
    meter = LogMeter(LOG_PATH.open("w", encoding="utf-8"))
    # The functions' Powertools loggers bind to stdout when their modules are first imported: swap it first.
    with contextlib.redirect_stdout(meter):
        import boto3

        from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
        from crossdock_local.scenarios import demo, demo_catalog, demo_orders
        from crossdock_local.sims.shopify.order_generator import varied_orders
        from crossdock_local.stack import LocalStack

        target = RackbeatStatus.INVOICED_AND_SHIPPED
        with LocalStack(seed=seed) as stack:
            stack.aws.meter_request_units()
            stack.aws.exclude_from_usage(stack.table.meta.client)  # the audits' reads are not the stack's work
            table_reader = stack.aws.exclude_from_usage(boto3.client("dynamodb", region_name=stack.aws.region))
            settings = {**demo.demo_settings(target), **demo_catalog.catalog_settings()}
            settings["orders"] = {**settings["orders"], "refunds_as_credit_notes": True}
            connection = stack.create_connection(settings, rackbeat_seed=demo_catalog.seed_reference_data)
            stack.create_connection(settings, shop_domain=demo_catalog.OUTLET_DOMAIN, rackbeat_account=connection)
            demo_catalog.publish_catalog(stack, connection, demo.DEMO_SKUS, stock=10_000)
            stack.settle()

            def snapshot() -> Snapshot:
                return Snapshot(
                    usage=stack.aws.usage(),
                    log_bytes=meter.bytes,
                    stored_bytes=_table_bytes(table_reader, stack.aws.table_name("Table")),
                    rackbeat_calls=stack.rackbeat.calls,
                    shopify_calls=stack.shopify.calls,
                )

            started = time.perf_counter()
            before = snapshot()
            plans = varied_orders(order_count, seed, demo.DEMO_SKUS)
            created = [(plan, plan.create(stack.shopify, connection.shop_domain)) for plan in plans]
            stack.settle()
            for plan, order in created:
                plan.pay(stack.shopify, connection.shop_domain, int(order["id"]))
            stack.settle()
            after_sales = demo_orders.refund_and_cancel(stack, connection, seed)
            after = snapshot()
            window = Window(before, after, time.perf_counter() - started)
            audit = demo.audit(
                stack, connection.rackbeat_account_id, connection.shop_domain, connection.connection_id, target
            )
            check_started = time.perf_counter()
            stack.aws.fire_schedule("SelfCheckSchedule")
            self_check = Window(after, snapshot(), time.perf_counter() - check_started)
    problems = [f"missing in Rackbeat: {reference}" for reference in audit.missing]
    problems += [f"in Rackbeat twice: {reference}" for reference in audit.duplicated]
    problems += [f"in Rackbeat but never paid: {reference}" for reference in audit.unexpected]
    problems += [f"wrong stage: {order}" for order in audit.wrong_stage]
    problems += [f"total differs: {order}" for order in audit.total_mismatch]
    problems += [f"needs attention ({n}x): {reason}" for reason, n in audit.needs_attention.items()]
    problems += after_sales.problems
    return Run(
        orders=audit.orders_received,
        paid=audit.expected_in_rackbeat,
        refunds=after_sales.refunds,
        cancelled=after_sales.cancelled,
        window=window,
        self_check=self_check,
        connections=2,
        metrics=set(meter.metrics),
        problems=problems,
    )


def template_default(parameter: str) -> str:
    """A parameter's default in template.yaml: what a deployment gets unless it overrides it."""
    from crossdock_local.aws.template import load_template

    return str(load_template(PROJECT / "template.yaml")["Parameters"][parameter]["Default"])


def _table_bytes(reader: Any, table: str) -> int:
    """What the table stores, as DynamoDB bills it: each item's size plus 100 bytes of index overhead."""
    from crossdock_local.aws.usage import item_size

    stored = 0
    for page in reader.get_paginator("scan").paginate(TableName=table):
        stored += sum(item_size(item) + 100 for item in page["Items"])
    return stored


# -- the report --------------------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"{value:.4f}"


def _units(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.2f}" if value >= 0.01 else f"{value:.2e}"


def _price_text(line: CostLine) -> str:
    price = line.price
    if price.usd is None:
        return "no price found"
    flag = "" if price.eu_west_1 else " *"
    return f"${price.usd} / {price.per:,}{flag}"


def report(result: Run, prices: PriceTable, prices_path: Path, order_count: int) -> str:
    retention = int(template_default("LogRetentionDays"))
    usage = result.window.usage(result.orders, retention, float(template_default("TraceSampleRate")))
    lines = cost_lines(usage, prices)
    total = total_per_1000_orders(lines)
    per_paid = total * result.orders / result.paid if result.paid else None
    out = [
        f"AWS cost per 1,000 orders: {prices.region} list prices looked up {prices.looked_up} ({prices_path.name})",
        f"run: {result.orders} Shopify orders ({result.paid} paid, processed to invoice; {result.refunds} refunds as "
        f"credit notes; {result.cancelled} unpaid cancelled), {result.connections} shops on one Rackbeat account, "
        f"stock sync on; {result.window.seconds:.0f} s for the orders",
        "",
        f"{'service':<22}{'billed item':<42}{'per order':>12}{'$ / 1,000 orders':>18}  price",
    ]
    for line in lines:
        out.append(
            f"{line.service:<22}{line.item:<42}{_units(line.per_order):>12}{_money(line.per_1000_orders):>18}  "
            f"{_price_text(line)}"
        )
    verdict = "within target" if per_paid is not None and per_paid < TARGET_PER_1000 else "OVER TARGET"
    out += [
        f"{'total (priced lines)':<64}{_money(total):>18}  per 1,000 orders received",
        f"{'':<64}{_money(per_paid):>18}  per 1,000 paid orders (target < ${TARGET_PER_1000}: {verdict})",
        "",
    ]
    if any(not line.price.eu_west_1 and line.price.usd is not None for line in lines):
        out.append(
            "* eu-west-1 price not found: the source gives US East's or no region's list price (the price table "
            "says which); Step Functions' is the only Ireland figure found."
        )
    for line in unpriced(lines):
        out.append(f"unpriced: {line.service} {line.item}: {_units(line.per_order)} per order ({line.price.note})")
    out += ["", *_details(result), "", *_monthly(result, prices), "", *_express(result, prices, lines)]
    if result.orders != order_count:
        out.append(f"note: {order_count} orders were asked for, Shopify holds {result.orders}")
    return "\n".join(out)


def _details(result: Run) -> list[str]:
    window, orders = result.window, result.orders
    out = ["where it goes (per order):"]
    for function in sorted(window.after.usage["lambda"]):
        invocations = window.delta("lambda", function, "invocations")
        if invocations:
            out.append(
                f"  Lambda {function}: {invocations / orders:.2f} invocations, "
                f"{window.delta('lambda', function, 'billed_ms') / invocations:.0f} ms each (in-process), "
                f"{window.delta('lambda', function, 'gb_seconds') / orders:.3f} GB-s"
            )
    for table in sorted(window.after.usage["dynamodb"]):
        by_operation = window.grouped("dynamodb", table, "by_operation")
        units = ", ".join(f"{op} {n / orders:.1f}" for op, n in by_operation.items())
        out.append(f"  DynamoDB {table} request units by operation: {units}")
    for kind in ("standard", "fifo"):
        billed = window.grouped("sqs", kind, "billed")
        if billed:
            ops = ", ".join(f"{op} {n / orders:.2f}" for op, n in billed.items())
            idle = window.delta("sqs", kind, "empty_receives")
            out.append(f"  SQS {kind}: {ops} (+ {idle:.0f} empty receives of the embedded poller, not priced)")
    kms = window.grouped("api_calls", "kms")
    out.append(f"  KMS: {', '.join(f'{op} {n / orders:.2f}' for op, n in kms.items()) or 'none'}")
    for machine in sorted(window.after.usage["states"]):
        executions = window.delta("states", machine, "executions")
        if executions:
            transitions = window.delta("states", machine, "transitions")
            out.append(
                f"  Step Functions {machine}: {executions / orders:.2f} executions, "
                f"{transitions / executions:.1f} transitions each"
            )
    out.append(
        f"  external calls: Rackbeat {(window.after.rackbeat_calls - window.before.rackbeat_calls) / orders:.1f}, "
        f"Shopify {(window.after.shopify_calls - window.before.shopify_calls) / orders:.1f}"
    )
    return out


def _monthly(result: Run, prices: PriceTable) -> list[str]:
    """Costs that come per month, not per order."""
    from crossdock_local.aws.scheduler import rate_seconds

    rate = template_default("SelfCheckRate")
    runs_per_month = 30 * 86400 / (rate_seconds(rate) or 3600)
    check_usage = result.self_check.usage(
        orders=1,
        log_retention_days=int(template_default("LogRetentionDays")),
        trace_sample_rate=float(template_default("TraceSampleRate")),
    )
    per_run = total_per_1000_orders(cost_lines(check_usage, prices)) / 1000
    metrics = prices["custom_metric_month"].cost(len(result.metrics))
    key = prices["kms_key_month"].cost(1)
    return [
        "per month, whatever the orders:",
        f"  webhook self-check, {rate}: ${per_run:.6f} a run with {result.connections} shops "
        f"= ${per_run * Decimal(str(runs_per_month)):.4f} a month",
        f"  custom metrics (EMF): {len(result.metrics)} metric/dimension combinations seen = ${_money(metrics)} a "
        "month (billed per metric-month, not per order)",
        f"  KMS key: ${_money(key)} a month, plus one key-month per automatic yearly rotation",
        "  SQS event source mappings poll idle queues with long polls: empty receives cost per month, set by the "
        "pollers AWS runs, not by orders (not priced)",
        "  Step Functions logs errors only (Level ERROR: a failed task, a retry) to vended log groups: not metered",
    ]


def _express(result: Run, prices: PriceTable, lines: list[CostLine]) -> list[str]:
    window, orders = result.window, result.orders
    executions = window.delta("states", ORDER_MACHINE, "executions")
    if not executions:
        return ["no order workflow ran: nothing to compare with Express"]
    task_seconds = window.delta("lambda", "OrderStepsFunction", "billed_ms") / 1000 / executions
    wait_seconds = window.delta("states_waited_seconds") / executions
    seconds = task_seconds + wait_seconds
    express = express_execution_usd(seconds, EXPRESS_MEMORY_MB, prices) * Decimal(str(executions))
    express_per_1000 = express / orders * 1000
    per_extra_second = (
        express_execution_usd(seconds + 1, EXPRESS_MEMORY_MB, prices)
        - express_execution_usd(seconds, EXPRESS_MEMORY_MB, prices)
    ) * Decimal(str(executions / orders * 1000))
    standard = prices["stepfunctions_standard_transitions"].cost(
        window.delta("states", ORDER_MACHINE, "transitions") / orders * 1000
    )
    definition = json.loads((PROJECT / "statemachines" / "order.asl.json").read_text(encoding="utf-8"))
    waits = [wait for wait in retry_waits(definition) if wait.state in ORDER_TASKS]
    rate_limited = max((w for w in waits if "RateLimited" in w.errors), key=lambda w: w.longest_seconds, default=None)
    longest = max(waits, key=lambda w: w.longest_seconds, default=None)
    out = [
        "Express instead of Standard, for the order workflows:",
        f"  Standard: {window.delta('states', ORDER_MACHINE, 'transitions') / executions:.1f} transitions per "
        f"execution = ${_money(standard)} per 1,000 orders",
        f"  Express: {executions / orders:.2f} executions per order x (${prices['stepfunctions_express_requests'].usd}"
        f" per million + {seconds:.2f} s x {EXPRESS_MEMORY_MB} MB: {task_seconds:.2f} s of tasks in-process, "
        f"{wait_seconds:.2f} s of retry waits) = ${_money(express_per_1000)} per 1,000 orders; each second more "
        f"an execution waits (Rackbeat's real response times, backoff) adds ${per_extra_second:.4f}",
    ]
    if rate_limited is not None and longest is not None:
        path = rate_limited.longest_seconds * len(ORDER_TASKS)
        reasoning = (
            f"Standard is the right type although Express would cost less here. An Express execution is stopped "
            f"after {EXPRESS_MAX_SECONDS // 60} minutes, and an order workflow waits on Rackbeat: one stage "
            f"backing off on 429s may wait {rate_limited.longest_seconds:.0f} s ({rate_limited.attempts} attempts "
            f"from {definition['States'][rate_limited.state]['Retry'][0].get('IntervalSeconds', 1)} s up to the "
            f"one-minute window; {rate_limited.expected_seconds:.0f} s on average with full jitter), an order "
            f"passes up to {len(ORDER_TASKS)} such stages ({path:.0f} s), and a Rackbeat outage is retried for up "
            f"to {longest.longest_seconds / 60:.0f} minutes on one stage; an Express order stopped mid-way would "
            f"be left half-transferred. Express runs at least once and does not dedupe starts: Crossdock names "
            f"every execution <connection>-order-<order id> and relies on Standard refusing a name already used "
            f"(for the 90 days it keeps executions) to drop repeated and reordered webhooks, so under Express "
            f"duplicates would run concurrently. Refund and cancellation workflows also ask for the order's "
            f"execution (DescribeExecution), which Express does not keep. Standard's price is per transition, not "
            f"per second, so backoff costs nothing extra; keeping the workflow short (one Choice between stages) "
            f"keeps that price down."
        )
        out += ["", *textwrap.wrap(reasoning, width=118)]
    total = total_per_1000_orders(lines)
    if standard is not None:
        out.append(
            f"  all-in with Express instead: ${total - standard + express_per_1000:.4f} per 1,000 orders received "
            "(before the waits above)"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders to place (default 200; ~1 order/s)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--prices", type=Path, default=PRICES, help="the price table (JSON)")
    args = parser.parse_args()
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    prices = PriceTable.load(args.prices)
    result = run(args.orders, args.seed)
    print(report(result, prices, args.prices, args.orders))
    print(f"\nthe functions' logs: {LOG_PATH}")
    if result.problems:
        # The prices above are of this run; a run that did not do all of its job is reported, and fails.
        print(f"\nAUDIT FAILED: {len(result.problems)} problem(s) in what the run did:", file=sys.stderr)
        for problem in result.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("audit: every paid order reached its target once with Shopify's total; every refund credited once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
