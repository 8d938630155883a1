"""The chaos run (issue 5, SPEC §5): thousands of orders, refunds and stock changes under injected faults, then an
audit of both sides once the faults stop and the queues drain.

Faults, at the configured rates: Shopify delivers webhooks twice and out of order; Rackbeat answers 5xx, 429 with
`Retry-After`, hangs past the client's timeout, commits writes whose answer is lost, and is down altogether for a
stretch of the run; Lambda processes die between workflow stages (their answer lost), between a Rackbeat write and
the mapping write that follows it, and while dispatching a batch of queued events.

What must hold afterwards: every paid Shopify order is in Rackbeat exactly once with the same total and at the
target stage; every refund has exactly one booked credit note of the refunded amount; each shop shows Rackbeat's
stock; every event ended `done`, `skipped` or `needs_attention` with a reason; nothing is left in flight; no secret
appears in any log line the functions wrote. The figures are printed whatever happens, so a failure shows its size.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
from crossdock.store import events
from crossdock_local.aws.log_capture import capture_function_logs
from crossdock_local.scenarios import demo_catalog
from crossdock_local.scenarios.demo import DEMO_SKUS, audit, demo_settings
from crossdock_local.sims.base import Faults
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalConnection, LocalStack

TARGET = RackbeatStatus.INVOICED_AND_SHIPPED
STOCK = 100_000  # units per SKU, so that thousands of orders never run a SKU out


@dataclass
class ChaosConfig:
    orders: int = 2000
    shops: int = 2
    seed: int = 2026
    wave: int = 100  # orders placed between two drains of the stack
    duplicate_rate: float = 0.30
    reorder: bool = True
    server_error_rate: float = 0.10
    throttle_rate: float = 0.05
    timeout_rate: float = 0.01
    drop_response_rate: float = 0.02
    crash_between_stages_rate: float = 0.03
    crash_after_write_rate: float = 0.02
    crash_dispatch_rate: float = 0.01
    outage_seconds: float = 300.0  # of the stack's clock, starting a third of the way through
    refund_share: float = 0.05
    stock_changes_per_wave: int = 10
    rounds_per_wave: int = 40  # drain rounds a wave gets before the next one is placed
    # The functions' Rackbeat read timeout, and how long a hung request hangs: longer than the timeout, so the client
    # gives up first, as it must. A hang costs the run this timeout in real time (the invocation holds the runtime's
    # lock on the socket), so it is short; 0.2 s is still far above a loopback answer, even with the machine at load
    # 6: 7 hangs gave 7 client timeouts in 200 orders, no more (docs/measurements.md, issue 12).
    client_timeout_seconds: float = 0.2
    hang_seconds: float = 0.3


@dataclass
class ChaosFigures:
    orders_placed: int = 0
    expected_in_rackbeat: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    refunds: int = 0
    credit_notes: int = 0
    stock_changes: int = 0
    events: Counter[str] = field(default_factory=Counter)
    unfinished: list[str] = field(default_factory=list)
    needs_attention: Counter[str] = field(default_factory=Counter)
    leaked_secrets: list[str] = field(default_factory=list)
    log_lines: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    converge_clock_seconds: float = 0.0
    converge_wall_seconds: float = 0.0
    wall_seconds: float = 0.0
    # The process's CPU time: on a shared machine wall time moves with the others' load, this much less.
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatched or self.unfinished or self.leaked_secrets)


@dataclass
class _Shop:
    connection: LocalConnection
    refunds: list[dict[str, Any]] = field(default_factory=list)


WORK_QUEUES = ("InboundQueue", "ShopifyOutboundQueue")
DEAD_LETTER_QUEUES = ("InboundDeadLetterQueue", "ShopifyOutboundDeadLetterQueue")
DRAIN_STRETCH_ROUNDS = 200  # drain rounds between two progress lines once the faults have stopped


def run_chaos(config: ChaosConfig, log: io.TextIOBase | None = None) -> ChaosFigures:
    """Runs the chaos scenario on a fresh embedded stack; the functions' log lines go to `log` (kept in memory when
    None) and are searched for secrets at the end."""
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = ChaosFigures()
    sink = log if log is not None else io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        LocalStack(seed=config.seed) as stack,
        capture_function_logs(stack.aws) as logs,
    ):
        shops = _open_shops(stack, config)
        for function in ("OrderStepsFunction", "DispatchFunction", "ShopifyPushFunction"):
            stack.aws.update_function_environment(
                function, {"RACKBEAT_TIMEOUT_SECONDS": str(config.client_timeout_seconds)}
            )
        rng = random.Random(config.seed)
        plans = varied_orders(config.orders, config.seed, DEMO_SKUS)
        _faults_on(stack, config)
        placed: list[tuple[_Shop, dict[str, Any]]] = []
        waves = range(0, len(plans), config.wave)
        for number, first in enumerate(waves):
            if number == len(waves) // 3:
                stack.rackbeat.faults.outage_until = stack.rackbeat.clock() + config.outage_seconds
            for plan in plans[first : first + config.wave]:
                shop = shops[rng.randrange(len(shops))]
                order = plan.create(stack.shopify, shop.connection.shop_domain)
                plan.pay(stack.shopify, shop.connection.shop_domain, int(order["id"]))
                placed.append((shop, order))
            figures.stock_changes += _change_stock(stack, shops[0].connection, rng, config.stock_changes_per_wave)
            # Refunds of the previous wave's orders: Shopify refunds what was paid, whatever Crossdock did so far.
            for shop, order in placed[max(0, first - config.wave) : first]:
                if rng.random() < config.refund_share:
                    _refund(stack, shop, order, rng)
            _work_a_while(stack, config.rounds_per_wave)
            # stdout carries the functions' logs here; a long run reports that it is alive on stderr
            print(
                f"chaos: wave {number + 1}/{len(waves)} placed, {len(placed)} orders, "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        _count_faults(stack, figures)
        _faults_off(stack)
        converging, converging_clock = time.perf_counter(), stack.aws.clock.time()
        _converge(stack, started, converging_clock)
        figures.converge_wall_seconds = time.perf_counter() - converging
        figures.converge_clock_seconds = stack.aws.clock.time() - converging_clock
        _audit(stack, shops, figures)
    figures.log_lines = len(logs.lines)
    figures.leaked_secrets = [str(leak) for leak in logs.leaks(_secrets(shops))]
    figures.wall_seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu_started
    return figures


def _work_a_while(stack: LocalStack, rounds: int) -> None:
    """Deliver what is pending and let the stack work for a bounded number of rounds: work still in flight (retries
    waiting on backoff, messages invisible after a crash) carries over into the next wave and past the faults."""
    stack.shopify.deliver()
    stack.deliver_rackbeat_webhooks()
    with contextlib.suppress(RuntimeError):  # "did not settle within N rounds" is the point here
        stack.aws.drain(max_rounds=rounds, execution_timeout=600)
    stack.deliver_rackbeat_webhooks()


def _converge(stack: LocalStack, started: float, clock_at_start: float) -> None:
    """Drain in stretches, saying on stderr how much is still queued (the 2,000-order run drains for many minutes),
    then settle: every webhook delivered, every queue empty, every workflow ended."""
    # Not the dead-letter queues: they keep what they hold.
    while _in_flight(stack, WORK_QUEUES) or stack.webhooks_waiting():
        _work_a_while(stack, DRAIN_STRETCH_ROUNDS)
        backlog = [*_in_flight(stack, WORK_QUEUES), f"webhooks not yet sent: {stack.webhooks_waiting()}"]
        print(
            f"chaos: draining, {'; '.join(backlog)}, stack clock +{stack.aws.clock.time() - clock_at_start:.0f} s, "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    stack.settle(execution_timeout=600, max_rounds=100_000)


def _open_shops(stack: LocalStack, config: ChaosConfig) -> list[_Shop]:
    settings = {**demo_settings(TARGET), **demo_catalog.catalog_settings()}
    settings["orders"] = {**settings["orders"], "refunds_as_credit_notes": True}
    first = stack.create_connection(settings, rackbeat_seed=demo_catalog.seed_reference_data)
    shops = [_Shop(first)]
    for index in range(1, config.shops):
        domain = f"chaos-{index}.myshopify.com"
        shops.append(_Shop(stack.create_connection(settings, shop_domain=domain, rackbeat_account=first)))
    demo_catalog.publish_catalog(stack, first, DEMO_SKUS, stock=STOCK)
    stack.settle()
    return shops


def _faults_on(stack: LocalStack, config: ChaosConfig) -> None:
    stack.shopify.delivery_faults.duplicate_rate = config.duplicate_rate
    stack.shopify.delivery_faults.reorder = config.reorder
    stack.rackbeat.faults = Faults(
        server_error_rate=config.server_error_rate,
        throttle_rate=config.throttle_rate,
        timeout_rate=config.timeout_rate,
        hang_seconds=config.hang_seconds,
        drop_response_rate=config.drop_response_rate,
        crash_after_write_rate=config.crash_after_write_rate,
        on_committed_write=stack.aws.lambdas.arm_crash,
        seed=config.seed,
    )
    crashes = stack.aws.lambdas.crash_faults
    crashes.after_rate = {
        "OrderStepsFunction": config.crash_between_stages_rate,
        "DispatchFunction": config.crash_dispatch_rate,
    }
    crashes._rng.seed(config.seed)


def _faults_off(stack: LocalStack) -> None:
    stack.shopify.delivery_faults.duplicate_rate = 0.0
    stack.shopify.delivery_faults.reorder = False
    stack.rackbeat.faults = Faults()
    stack.aws.lambdas.crash_faults.after_rate = {}


def _count_faults(stack: LocalStack, figures: ChaosFigures) -> None:
    by_status = stack.rackbeat.calls_by_status
    figures.faults["Rackbeat 5xx"] = sum(n for status, n in by_status.items() if status >= 500)
    figures.faults["Rackbeat 429"] = by_status.get(429, 0)
    figures.faults["Lambda crashes"] = stack.aws.lambdas.crash_faults.crashes
    figures.faults["Shopify deliveries"] = len(stack.shopify.delivery_log)
    figures.faults["Shopify repeated deliveries"] = len(stack.shopify.delivery_log) - len(
        {attempt.event_id for attempt in stack.shopify.delivery_log}
    )


def _change_stock(stack: LocalStack, connection: LocalConnection, rng: random.Random, count: int) -> int:
    """A warehouse counts and receives goods while orders flow: each adjustment sends Rackbeat's stock webhook."""
    for _ in range(count):
        sku = DEMO_SKUS[rng.randrange(len(DEMO_SKUS))]
        stack.rackbeat.adjust_stock(connection.rackbeat_account_id, sku, rng.choice((-3, -1, 2, 5, 12)), "L1")
    return count


def _refund(stack: LocalStack, shop: _Shop, order: dict[str, Any], rng: random.Random) -> None:
    current = stack.shopify.shop(shop.connection.shop_domain).orders[int(order["id"])]
    lines = [line for line in current["line_items"] if line.get("sku")]
    if current.get("financial_status") != "paid" or not lines:
        return
    domain = shop.connection.shop_domain
    if rng.random() < 0.5:
        picked = [(line["id"], line["quantity"]) for line in lines]
        shop.refunds.append(stack.shopify.refund(domain, current["id"], picked, shipping=True))
    else:
        shop.refunds.append(stack.shopify.refund(domain, current["id"], [(lines[0]["id"], 1)]))


def _audit(stack: LocalStack, shops: list[_Shop], figures: ChaosFigures) -> None:
    for shop in shops:
        connection = shop.connection
        found = audit(stack, connection.rackbeat_account_id, connection.shop_domain, connection.connection_id, TARGET)
        figures.orders_placed += found.orders_received
        figures.expected_in_rackbeat += found.expected_in_rackbeat
        figures.lost += found.missing
        figures.duplicated += found.duplicated
        figures.mismatched += found.unexpected + found.wrong_stage + found.total_mismatch
        _audit_refunds(stack, shop, figures)
        for event in events.list_events(stack.table, connection.connection_id):
            figures.events[str(event["status"])] += 1
            if event["status"] not in ("done", "skipped", "needs_attention") or not event.get("reason"):
                figures.unfinished.append(f"{event['topic']} {event['sk']}: {event['status']}")
            if event["status"] == "needs_attention":
                figures.needs_attention[f"{event.get('failure_class')}: {str(event.get('reason'))[:90]}"] += 1
    _audit_rackbeat_effects(stack, shops[0].connection.rackbeat_account_id, figures)
    stock = demo_catalog.CatalogAudit()
    demo_catalog.audit_shops(stack, [shop.connection for shop in shops], DEMO_SKUS, stock)
    figures.mismatched += stock.stock_wrong + stock.products_wrong
    figures.unfinished += _in_flight(stack)
    figures.retries["Rackbeat calls answered 5xx/429 (retried)"] = (
        figures.faults["Rackbeat 5xx"] + figures.faults["Rackbeat 429"]
    )
    figures.retries["function errors (retried by SQS or the workflow)"] = sum(
        s.errors for s in stack.aws.lambdas.stats.values()
    )


def _audit_refunds(stack: LocalStack, shop: _Shop, figures: ChaosFigures) -> None:
    notes = stack.rackbeat.credit_notes(shop.connection.rackbeat_account_id)
    figures.refunds += len(shop.refunds)
    for refund in shop.refunds:
        matching = [n for n in notes if f"Shopify refund {refund['id']} " in str(n.get("other_reference"))]
        figures.credit_notes += min(1, len(matching))
        refunded = sum((Decimal(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund"), Decimal(0))
        if not matching:
            figures.lost.append(f"credit note for refund {refund['id']}")
        elif len(matching) > 1:
            figures.duplicated.append(f"credit note for refund {refund['id']} ×{len(matching)}")
        elif not matching[0]["is_booked"] or Decimal(str(matching[0]["total"])) != refunded:
            figures.mismatched.append(f"credit note {matching[0]['number']}: {matching[0]['total']} vs {refunded}")


def _audit_rackbeat_effects(stack: LocalStack, account: int, figures: ChaosFigures) -> None:
    """Each Rackbeat order shipped once and invoiced once; no customer created twice."""
    state = stack.rackbeat.state(account)
    shipments = Counter(s["order_number"] for s in state.shipments.values())
    invoices = Counter(i["order_number"] for i in state.invoices.values())
    figures.duplicated += [f"Rackbeat order {n}: {c} shipments" for n, c in shipments.items() if c > 1]
    figures.duplicated += [f"Rackbeat order {n}: {c} invoices" for n, c in invoices.items() if c > 1]
    emails = Counter(str(c.get("contact_email")) for c in state.customers.values() if c.get("contact_email"))
    figures.duplicated += [f"customer {email} ×{c}" for email, c in emails.items() if c > 1]


def _in_flight(stack: LocalStack, queues: tuple[str, ...] = WORK_QUEUES + DEAD_LETTER_QUEUES) -> list[str]:
    left = []
    for logical_id in queues:
        waiting = stack.aws.queue_depth(logical_id)
        if waiting:
            left.append(f"{logical_id}: {waiting} messages")
    return left


def _secrets(shops: list[_Shop]) -> dict[str, str]:
    """Every credential of the run, by a label that can be printed."""
    found: dict[str, str] = {}
    for index, shop in enumerate(shops):
        connection = shop.connection
        found[f"shop {index} Rackbeat API key"] = connection.rackbeat_api_key
        found[f"shop {index} app secret"] = connection.app_secret
        found[f"shop {index} Shopify access token"] = connection.shopify_access_token
    return found


def render(config: ChaosConfig, figures: ChaosFigures) -> str:
    rows: list[tuple[str, str]] = [
        ("Shopify orders placed", str(figures.orders_placed)),
        ("paid (expected in Rackbeat)", str(figures.expected_in_rackbeat)),
        ("refunds / credit notes", f"{figures.refunds} / {figures.credit_notes}"),
        ("Rackbeat stock changes", str(figures.stock_changes)),
        ("lost", str(len(figures.lost))),
        ("duplicated", str(len(figures.duplicated))),
        ("mismatched", str(len(figures.mismatched))),
        ("events unfinished or left in flight", str(len(figures.unfinished))),
        ("secrets found in log lines", f"{len(figures.leaked_secrets)} (of {figures.log_lines} lines searched)"),
        *[(f"events {status}", str(n)) for status, n in sorted(figures.events.items())],
        *[(f"fault: {name}", str(n)) for name, n in figures.faults.items()],
        *[(f"retries: {name}", str(n)) for name, n in figures.retries.items()],
        ("time to converge (stack clock)", f"{figures.converge_clock_seconds:.0f} s"),
        ("time to converge (wall)", f"{figures.converge_wall_seconds:.1f} s"),
        ("wall time", f"{figures.wall_seconds:.0f} s"),
        ("CPU time (this process)", f"{figures.cpu_seconds:.0f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    out = [f"Chaos run: {config.orders} orders over {config.shops} shops, seed {config.seed}"]
    out += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    for title, items in (
        ("lost", figures.lost),
        ("duplicated", figures.duplicated),
        ("mismatched", figures.mismatched),
        ("unfinished", figures.unfinished),
        ("leaks", figures.leaked_secrets),
    ):
        out += [f"  {title}: {item}" for item in items[:20]]
    out += [f"  needs_attention ×{n}: {reason}" for reason, n in figures.needs_attention.most_common(10)]
    out.append("RESULT: " + ("all promises kept" if figures.ok else "PROMISES BROKEN"))
    return "\n".join(out)


def add_command(commands: Any) -> None:
    """`crossdock chaos`: the run `make chaos` starts; exit 1 when a promise was broken."""
    chaos = commands.add_parser("chaos", help="run orders, refunds and stock changes under faults and audit them")
    defaults = ChaosConfig()
    chaos.add_argument("--orders", type=int, default=defaults.orders)
    chaos.add_argument("--shops", type=int, default=defaults.shops)
    chaos.add_argument("--seed", type=int, default=defaults.seed)
    chaos.add_argument("--wave", type=int, default=defaults.wave, help="orders placed between two drains")
    chaos.add_argument("--outage-seconds", type=float, default=defaults.outage_seconds)
    chaos.add_argument("--log", default="chaos-functions.log", help="where the functions' log lines go")
    chaos.set_defaults(run=_run_command)


def _run_command(args: Any) -> int:
    config = ChaosConfig(
        orders=args.orders, shops=args.shops, seed=args.seed, wave=args.wave, outage_seconds=args.outage_seconds
    )
    buffer = io.StringIO()
    figures = run_chaos(config, buffer)
    with open(args.log, "w") as log:
        log.write(buffer.getvalue())
    print(render(config, figures))
    print(f"function logs: {args.log}")
    return 0 if figures.ok else 1
