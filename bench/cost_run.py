"""What the cost benches share (issue 18): a window of work on the metered embedded stack, priced and printed.

A cost bench (`cost_per_order.py`, `cost_shopbox.py`, `cost_webshipper.py`, `cost_peakwms.py`) sets its
integration up on a `metered_stack`, then runs its orders inside `Metered.window`: what the stack did in between
(`Window`) is priced with `cost_model` per service and billed item, in units per order and dollars per 1,000
orders. Beside it, `idle_runs` measures what a connection costs per day whatever its orders: each of its poll
schedules (as its settings made them, in the template's `PollScheduleGroup`) fired twice on a quiet stack,
each run metered, the cheaper (a run that found nothing) times the runs a day its rate expression makes.
`Measured.table` prints both, and the total at a stated order rate (`ORDERS_PER_DAY`, the issue's paper
merchant). The bench's audit (the demo's, against the
simulators' own state) is in `Measured.problems`; `finish` prints them and returns the exit status (1 on any).

How each line is metered: `crossdock_local.aws.usage` (DynamoDB units from item sizes, SQS 64 KB chunks, Step
Functions transitions from the execution histories, Lambda billed milliseconds of the in-process handlers). Log
bytes are what the functions write to stdout (their JSON logs and EMF metrics) plus Lambda's own
START/END/REPORT lines.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import boto3
from cost_model import PRICES, CostLine, PriceTable, Usage, cost_lines, total_per_1000_orders, unpriced
from functions_log import log_path

from crossdock_local.aws.scheduler import rate_seconds
from crossdock_local.aws.template import load_template
from crossdock_local.aws.usage import item_size
from crossdock_local.stack import LocalStack

T = TypeVar("T")
PROJECT = Path(__file__).resolve().parents[1]
ORDERS_PER_DAY = 100  # the paper merchant: 100 orders a day on each integration
QUIET_SECONDS = 2 * 3600  # before the idle runs: longer than any stream's overlap, so a run finds nothing
DAY = 86400
SIMULATORS = ("rackbeat", "shopify", "shopbox", "webshipper", "peakwms")
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


@cache
def template_default(parameter: str) -> str:
    """A parameter's default in template.yaml: what a deployment gets unless it overrides it."""
    return str(load_template(PROJECT / "template.yaml")["Parameters"][parameter]["Default"])


@dataclass
class Snapshot:
    usage: dict[str, Any]
    log_bytes: int
    stored_bytes: int
    calls: dict[str, int]  # API requests each simulator answered


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

    def grouped(self, *path: str) -> dict[str, float]:
        """Deltas of every counter under `path` (e.g. api_calls.kms → {operation: n})."""
        keys = set(_tree(self.after.usage, path)) | set(_tree(self.before.usage, path))
        return {key: self.delta(*path, key) for key in sorted(keys) if self.delta(*path, key)}

    def usage(self, orders: int) -> Usage:
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
            log_retention_months=int(template_default("LogRetentionDays")) / 30,
            # A trace starts where a request enters: API Gateway samples webhooks at the template's rate (its
            # sampling rule has no reservoir), and the queues, workflows and functions behind it join that trace
            # (functions trace PassThrough). Scheduled runs start none.
            xray_traces=round(self.delta("api_requests") * float(template_default("TraceSampleRate"))),
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
class Metered:
    """A stack whose AWS work is metered in billing units, and whose functions' logs are counted."""

    stack: LocalStack
    meter: LogMeter
    log: Path
    _table_reader: Any
    _schedule_reader: Any

    def snapshot(self) -> Snapshot:
        return Snapshot(
            usage=self.stack.aws.usage(),
            log_bytes=self.meter.bytes,
            stored_bytes=self._table_bytes(),
            calls={name: getattr(self.stack, name).calls for name in SIMULATORS},
        )

    def window(self, work: Callable[[], T]) -> tuple[T, Window]:
        """`work` run (it settles the stack itself), and what the stack did meanwhile."""
        started, before = time.perf_counter(), self.snapshot()
        done = work()
        return done, Window(before, self.snapshot(), time.perf_counter() - started)

    def _table_bytes(self) -> int:
        """What the table stores, as DynamoDB bills it: each item's size plus 100 bytes of index overhead."""
        stored = 0
        pages = self._table_reader.get_paginator("scan").paginate(TableName=self.stack.aws.table_name("Table"))
        for page in pages:
            stored += sum(item_size(item) + 100 for item in page["Items"])
        return stored


@contextlib.contextmanager
def metered_stack(bench: str, seed: int) -> Iterator[Metered]:
    """A LocalStack metering DynamoDB request units, the functions' stdout counted and kept in the bench's log
    file; the audits' reads (the stack's own table client, and the readers here) are not the stack's work."""
    path = log_path(bench)
    with (
        path.open("w", encoding="utf-8") as copy,
        contextlib.redirect_stdout(meter := LogMeter(copy)),
        LocalStack(seed=seed) as stack,
    ):
        stack.aws.meter_request_units()
        stack.aws.exclude_from_usage(stack.table.meta.client)
        region = stack.aws.region
        table_reader = stack.aws.exclude_from_usage(boto3.client("dynamodb", region_name=region))
        schedule_reader = stack.aws.exclude_from_usage(boto3.client("scheduler", region_name=region))
        yield Metered(stack, meter, path, table_reader, schedule_reader)


# -- the fixed cost of a connection: its poll schedules ----------------------------------------------------------


@dataclass(frozen=True)
class FixedRun:
    """One poll schedule of a connection: what one run costs when it finds nothing, and how often it runs."""

    connection: str  # the connection's label in the report
    name: str  # the schedule's: poll-<stream>-<connection id>
    stream: str
    expression: str
    windows: tuple[Window, ...]  # its runs on the quiet stack, metered one by one

    @property
    def runs_per_day(self) -> float:
        return DAY / (rate_seconds(self.expression) or DAY)

    def idle(self, prices: PriceTable) -> Window:
        """The cheapest of the runs: one that found nothing to do (a run may still finish what the one before
        found, such as a stock level it corrects)."""
        return min(self.windows, key=lambda window: _usd(window, prices))

    def usd_per_run(self, prices: PriceTable) -> Decimal:
        return _usd(self.idle(prices), prices)

    def usd_per_day(self, prices: PriceTable) -> Decimal:
        return self.usd_per_run(prices) * Decimal(str(self.runs_per_day))


def _usd(window: Window, prices: PriceTable) -> Decimal:
    return total_per_1000_orders(cost_lines(window.usage(1), prices)) / 1000


def idle_runs(metered: Metered, connections: dict[str, str], runs_each: int = 2) -> list[FixedRun]:
    """Each poll schedule of the `connections` (label → id) fired `runs_each` times on a quiet stack, each run
    metered. First the clock moves on `QUIET_SECONDS` and every due schedule runs once (catching up on the window),
    so that a run measured after it finds nothing new in its stream, overlap included."""
    stack, scheduler = metered.stack, metered.stack.aws.scheduler
    stack.aws.clock.advance(QUIET_SECONDS)
    stack.settle()
    runs = []
    for group, name in scheduler.scheduled():
        label = next((label for label, cid in connections.items() if name.endswith(cid)), None)
        if label is None or not name.startswith("poll-"):
            continue
        expression = metered._schedule_reader.get_schedule(Name=name, GroupName=group)["ScheduleExpression"]
        fire = functools.partial(_fire_and_settle, stack, group, name)
        windows = tuple(metered.window(fire)[1] for _ in range(runs_each))
        stream = name.removeprefix("poll-").removesuffix(connections[label]).rstrip("-")
        runs.append(FixedRun(label, name, stream, str(expression), windows))
    return sorted(runs, key=lambda run: (run.connection, run.stream))


def _fire_and_settle(stack: LocalStack, group: str, name: str) -> None:
    stack.aws.scheduler.fire(name, group)
    stack.settle()


# -- the report --------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """A cost bench's run: its window of orders, the fixed runs of its connections, what its audit found."""

    title: str  # "Rackbeat ⇄ Shopbox"
    unit: str  # what an order is here: "till sales"
    orders: int
    described: str  # what the run did, one line
    window: Window
    fixed: list[FixedRun]
    log: Path  # where the functions logged
    passed: str  # what the audit found when it found no problem
    schedule_runs_in_window: list[str] = field(default_factory=list)  # the schedules that fired in the window
    problems: list[str] = field(default_factory=list)

    def lines(self, prices: PriceTable) -> list[CostLine]:
        return cost_lines(self.window.usage(self.orders), prices)

    def per_1000(self, prices: PriceTable) -> Decimal:
        return total_per_1000_orders(self.lines(prices))

    def fixed_per_day(self, prices: PriceTable) -> Decimal:
        return sum((run.usd_per_day(prices) for run in self.fixed), Decimal(0))

    def at_rate_per_1000(self, prices: PriceTable, per_day: int = ORDERS_PER_DAY) -> Decimal:
        """The orders' cost and the connections' fixed cost together, per 1,000 orders at `per_day` a day."""
        return self.per_1000(prices) + self.fixed_per_day(prices) * 1000 / per_day

    def counted_twice(self, prices: PriceTable) -> Decimal:
        """The idle part of the schedule runs that fell in the window: in the per-order lines and the fixed cost."""
        by_name = {run.name: run.usd_per_run(prices) for run in self.fixed}
        twice = sum((by_name.get(name, Decimal(0)) for name in self.schedule_runs_in_window), Decimal(0))
        return twice / self.orders * 1000

    def table(self, prices: PriceTable, prices_path: Path) -> list[str]:
        lines = self.lines(prices)
        out = [
            f"AWS cost per 1,000 {self.unit}, {self.title}: {prices.region} list prices looked up {prices.looked_up} "
            f"({prices_path.name})",
            f"run: {self.described}; {self.window.seconds:.0f} s for the window",
            "",
            f"{'service':<22}{'billed item':<42}{'per order':>12}{'$ / 1,000 orders':>18}  price",
        ]
        for line in sorted(lines, key=lambda line: -(line.per_1000_orders or 0)):
            out.append(
                f"{line.service:<22}{line.item:<42}{units(line.per_order):>12}{money(line.per_1000_orders):>18}  "
                f"{_price_text(line)}"
            )
        out.append(f"{'total (priced lines)':<64}{money(self.per_1000(prices)):>18}  per 1,000 {self.unit}")
        if any(not line.price.eu_west_1 and line.price.usd is not None for line in lines):
            out.append(
                "* eu-west-1 price not found: the source gives US East's or no region's list price (the price table "
                "says which); Step Functions' is the only Ireland figure found."
            )
        for line in unpriced(lines):
            out.append(f"unpriced: {line.service} {line.item}: {units(line.per_order)} per order ({line.price.note})")
        return [*out, "", *self._fixed_lines(prices)]

    def _fixed_lines(self, prices: PriceTable) -> list[str]:
        out = ["fixed cost per connection per day (its poll schedules; a run on a quiet stack, the cheaper of two):"]
        for run in self.fixed:
            out.append(
                f"  {run.connection} {run.stream}, {run.expression}: {run.runs_per_day:.0f} runs a day x "
                f"${run.usd_per_run(prices):.7f} = ${run.usd_per_day(prices):.5f} a day ({_biggest(run, prices)})"
            )
        per_day = self.fixed_per_day(prices)
        out += [
            f"  total ${per_day:.5f} a day = ${per_day * 30:.4f} a month; at {ORDERS_PER_DAY} {self.unit} a day "
            f"that is ${per_day * 1000 / ORDERS_PER_DAY:.4f} per 1,000",
            f"per 1,000 {self.unit} at {ORDERS_PER_DAY} a day, orders and fixed: ${self.at_rate_per_1000(prices):.4f}",
        ]
        if self.schedule_runs_in_window:
            out.append(
                f"  ({len(self.schedule_runs_in_window)} scheduled runs fell in the window: counted with the orders "
                f"too, their idle part ${self.counted_twice(prices):.5f} per 1,000)"
            )
        return out


def _biggest(run: FixedRun, prices: PriceTable) -> str:
    """The priciest billed item of an idle run, in its units: where a lever on the fixed cost would be."""
    line = max(cost_lines(run.idle(prices).usage(1), prices), key=lambda line: line.per_1000_orders or 0)
    return f"most of it {line.service} {line.item.split(' (')[0]}: {units(line.per_order)}"


def details(window: Window, orders: int, wru_kinds: bool = False) -> list[str]:
    """Where the window's work went, per order: Lambda per function, DynamoDB per operation (and, with
    `wru_kinds`, its write units by item kind and index), SQS, KMS, Step Functions per state machine, and the
    simulators' API calls."""
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
        out.append(f"  DynamoDB {table} request units by operation: " + _per(by_operation, orders, ".1f"))
        if wru_kinds:
            kinds = window.grouped("dynamodb", table, "writes_by_kind")
            out.append(f"  DynamoDB {table} write units by item kind (per order, largest first):")
            out += [f"    {n / orders:7.2f}  {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])]
    for kind in ("standard", "fifo"):
        billed = window.grouped("sqs", kind, "billed")
        if billed:
            idle = window.delta("sqs", kind, "empty_receives")
            out.append(f"  SQS {kind}: {_per(billed, orders)} (+ {idle:.0f} empty receives, not priced)")
    out.append(f"  KMS: {_per(window.grouped('api_calls', 'kms'), orders) or 'none'}")
    for machine in sorted(window.after.usage["states"]):
        executions = window.delta("states", machine, "executions")
        if executions:
            transitions = window.delta("states", machine, "transitions")
            out.append(
                f"  Step Functions {machine}: {executions / orders:.2f} executions, "
                f"{transitions / executions:.1f} transitions each"
            )
    calls = {name: window.after.calls[name] - window.before.calls[name] for name in SIMULATORS}
    out.append("  external calls: " + (_per({k: v for k, v in calls.items() if v}, orders, ".1f") or "none"))
    return out


def _per(counts: dict[str, float], orders: int, spec: str = ".2f") -> str:
    return ", ".join(f"{name} {n / orders:{spec}}" for name, n in counts.items())


def money(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"{value:.4f}"


def units(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.2f}" if value >= 0.01 else f"{value:.2e}"


def _price_text(line: CostLine) -> str:
    price = line.price
    if price.usd is None:
        return "no price found"
    flag = "" if price.eu_west_1 else " *"
    return f"${price.usd} / {price.per:,}{flag}"


def schedule_runs_since(stack: LocalStack, count_before: int) -> list[str]:
    """The names of the schedules that fired since the scheduler had run `count_before` times."""
    return [run.schedule for run in stack.aws.schedule_runs[count_before:]]


def arguments(doc: str, default_orders: int, tables: bool = False) -> argparse.Namespace:
    """`--orders` (at least 1), `--seed`, `--prices`; `--tables` where `tables` (a run of several benches)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=default_orders, help=f"orders (default {default_orders})")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--prices", type=Path, default=PRICES, help="the price table (JSON)")
    parser.add_argument("--wru-kinds", action="store_true", help="DynamoDB write units by item kind and index")
    if tables:
        parser.add_argument("--tables", action="store_true", help="each bench's own table first")
    args = parser.parse_args()
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    return args


Extra = Callable[[Any, PriceTable], list[str]]  # a bench's own sections after the table, from its Measured


def main(doc: str, measure: Callable[[int, int], Measured], default_orders: int, extra: Extra | None = None) -> int:
    """A cost bench's command line: `--orders`, `--seed`, `--prices`; the run measured, its report printed (the
    table, where it goes, the bench's own sections), then the audit: exit status 1 on any problem."""
    args = arguments(doc, default_orders)
    prices = PriceTable.load(args.prices)
    measured = measure(args.orders, args.seed)
    report = [*measured.table(prices, args.prices), "", *details(measured.window, measured.orders, args.wru_kinds)]
    if extra is not None:
        report += ["", *extra(measured, prices)]
    return finish(measured, report)


def finish(measured: Measured, report: list[str]) -> int:
    """Prints the report and the log file's name; then the audit's problems to stderr (exit status 1), or what
    it passed."""
    print("\n".join(report))
    print(f"\nthe functions' logs: {measured.log}")
    if measured.problems:
        # The prices above are of this run; a run that did not do all of its job is reported, and fails.
        print(f"\nAUDIT FAILED: {len(measured.problems)} problem(s) in what the run did:", file=sys.stderr)
        for problem in measured.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"audit: {measured.passed}")
    return 0
