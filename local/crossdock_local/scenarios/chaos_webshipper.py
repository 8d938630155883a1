"""`crossdock chaos-webshipper`: orders through a Rackbeat ⇄ Webshipper connection under faults, then audited.

The orders are the demo's three kinds (local/crossdock_local/scenarios/demo_webshipper.py), in waves: orders
booked in Rackbeat (sent by `order.booked`), orders of another channel placed in Webshipper (imported by
`order/created`), and a tenth of paid Shopify orders booked in Rackbeat and sent by `orders sync rackbeat:<n>`;
after each wave the warehouse ships every Webshipper order waiting, so shipments, tracking and fulfilments run
under the faults too. The faults:
- Webshipper: 5xx, 429s with `Retry-After` (and its own 2-a-second bucket), a little latency, writes that commit
  and then lose their answer, every grant token expiring in the middle of the run (the 401 renewal), and its
  webhooks duplicated, reordered, held back and lost on the way (what the poll, `webshipper#orders`, recovers);
- Rackbeat: 5xx, 429s, writes that commit and lose their answer or kill the invocation that made them;
- Shopify's webhooks duplicated.
The merchant's own actions (booking in Rackbeat, placing and shipping in Webshipper) are not faulted: the promise
is about Crossdock's calls. After the faults stop the stack settles and whatever was not shipped yet is shipped.
The promise: every Rackbeat order exactly one Webshipper order, every Webshipper-born order exactly one Rackbeat
order (none sent back), each shipped once in Rackbeat with its tracking, each Shopify-born order one fulfilment
with its shipment's tracking number (0 lost / 0 duplicated / 0 mismatched), nothing left in flight, and no secret
in a log line. A lost Webshipper webhook (an order of the other channel, a shipment) is brought in by the poll:
its schedule fires as the virtual clock moves during the run, and once the faults stop one more run covers the
last waves before whatever is left is shipped. The connection is on the shop's Rackbeat account from the start,
so each Shopify-born order is sent by its own `order.booked` (no delivery term: the rate its shipping line maps
to, else the default) and the operator's sync finds it sent; each must be on the rate its Shopify shipping line
calls for (a wrong one is mismatched).
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.rackbeat_webshipper import webshipper_stream
from crossdock_local.aws.log_capture import capture_function_logs
from crossdock_local.scenarios import demo_webshipper
from crossdock_local.scenarios.chaos_verdict import (
    ChaosVerdict,
    count_failures,
    render_verdict,
    run_command,
    verdict_rows,
    work_in_flight,
)
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.scenarios.demo_webshipper import Warehouse, WebshipperAudit
from crossdock_local.sims.base.faults import Faults
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

SKUS = [f"WS-{n:03d}" for n in range(1, 21)]
CHAOS_WEBSHIPPER_HELP = "run orders through Rackbeat ⇄ Webshipper under faults and audit them"


@dataclass
class WebshipperChaosConfig:
    orders: int = 400
    wave: int = 40  # orders made between two rounds of shipping
    seed: int = 15
    shopify_share: float = 0.1
    webshipper_server_error_rate: float = 0.05
    webshipper_throttle_rate: float = 0.05
    webshipper_latency_seconds: float = 0.002
    webshipper_drop_response_rate: float = 0.05
    webhook_duplicate_rate: float = 0.3
    webhook_delay_rate: float = 0.2
    webhook_lose_rate: float = 0.1  # Webshipper's only; the poll brings in what they carried
    rackbeat_server_error_rate: float = 0.03
    rackbeat_throttle_rate: float = 0.03
    rackbeat_drop_response_rate: float = 0.03
    crash_after_write_rate: float = 0.02
    rounds_per_wave: int = 200


@dataclass
class WebshipperChaosFigures(ChaosVerdict):
    audit: WebshipperAudit = field(default_factory=WebshipperAudit)

    @property
    def lost(self) -> list[str]:
        return self.audit.missing

    @property
    def duplicated(self) -> list[str]:
        return [*self.audit.duplicated, *self.audit.sent_back]

    @property
    def mismatched(self) -> list[str]:
        return [*self.audit.not_shipped, *self.audit.tracking_wrong, *self.audit.rate_wrong]

    @property
    def ok(self) -> bool:
        a = self.audit
        made = a.exported_expected > 0 and a.imported_expected > 0 and a.fulfilments_expected > 0
        quiet = not self.lost and not self.duplicated and not self.mismatched
        return made and quiet and not self.unfinished and not self.leaked_secrets


def run_chaos_webshipper(config: WebshipperChaosConfig, log: io.TextIOBase | None = None) -> WebshipperChaosFigures:
    """Runs the scenario on a fresh embedded stack; the functions' log lines go to `log` and are searched for
    the run's credentials at the end."""
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = WebshipperChaosFigures()
    sink = log if log is not None else io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        LocalStack(seed=config.seed) as stack,
        capture_function_logs(stack.aws) as logs,
    ):
        shop, warehouse = demo_webshipper.shop_and_warehouse(stack, demo_settings(), SKUS)
        figures.audit.connection_state = warehouse.state
        _faults_on(stack, config)
        waves = range(0, config.orders, config.wave)
        shop_waiting: list[dict[str, Any]] = []  # Shopify orders not seen in Rackbeat yet
        for number, first in enumerate(waves):
            if number == len(waves) // 2:
                figures.faults["Webshipper grant tokens expired"] += stack.webshipper.expire_tokens(warehouse.account)
            shop_waiting = _send_shop_orders(stack, warehouse, shop_waiting, settle=False)
            shop_waiting += _make_orders(stack, warehouse, config, min(config.wave, config.orders - first), number)
            _work_a_while(stack, config.rounds_per_wave)
            with _merchant_acting(stack):
                demo_webshipper.ship_waiting(stack, warehouse.account, settle=False)
            _work_a_while(stack, config.rounds_per_wave)
            print(f"chaos-webshipper: wave {number + 1}/{len(waves)}", file=sys.stderr, flush=True)
        _count_faults(stack, figures)
        _faults_off(stack)
        stack.settle(execution_timeout=600, max_rounds=100_000)
        # What lost webhooks of the last waves carried: the poll's next run after the faults stopped.
        _poll(stack, warehouse)
        # What was still in flight at the last wave: sent, settled, shipped.
        never_arrived = _send_shop_orders(stack, warehouse, shop_waiting, settle=True)
        demo_webshipper.ship_waiting(stack, warehouse.account)
        demo_webshipper.audit(stack, warehouse, figures.audit)
        figures.audit.missing += [f"Shopify order {order['id']} in Rackbeat" for order in never_arrived]
        figures.unfinished = work_in_flight(stack)
    figures.log_lines = len(logs.lines)
    secrets = {"Rackbeat API key": shop.rackbeat_api_key, "Webshipper password": demo_webshipper.PASSWORD}
    figures.leaked_secrets = [str(leak) for leak in logs.leaks(secrets)]
    figures.wall_seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu_started
    return figures


def _make_orders(
    stack: LocalStack, warehouse: Warehouse, config: WebshipperChaosConfig, count: int, wave: int
) -> list[dict[str, Any]]:
    """One wave: a share of paid Shopify orders (answered: they reach Rackbeat while the wave is worked off), then
    orders booked in Rackbeat and placed in Webshipper."""
    shopify = round(count * config.shopify_share)
    booked = (count - shopify) // 2
    seed = config.seed * 1000 + wave
    placed = demo_webshipper.create_shop_orders(stack, SKUS, shopify, seed)
    with _merchant_acting(stack):
        demo_webshipper.book_rackbeat_orders(stack, warehouse, SKUS, booked, seed, settle=False)
        demo_webshipper.place_portal_orders(stack, warehouse, SKUS, count - shopify - booked, seed, settle=False)
    return placed


def _send_shop_orders(
    stack: LocalStack, warehouse: Warehouse, waiting: list[dict[str, Any]], settle: bool
) -> list[dict[str, Any]]:
    """The Shopify orders that reached Rackbeat are sent (`orders sync rackbeat:<n>`; their own `order.booked` may
    have sent them already); answers those still on their way."""
    numbers = demo_webshipper.rackbeat_numbers(stack, warehouse.rackbeat_account, waiting)
    warehouse.shopify_born.update(numbers)
    with _merchant_acting(stack):
        demo_webshipper.send_waiting_orders(stack, warehouse, sorted(numbers), settle=False)
    if settle:
        stack.settle(execution_timeout=600, max_rounds=100_000)
    sent = set(numbers.values())
    return [order for order in waiting if int(order["id"]) not in sent]


@contextlib.contextmanager
def _merchant_acting(stack: LocalStack) -> Iterator[None]:
    """The merchant's own calls (booking in Rackbeat, the shop's orders settling in) see no Rackbeat or
    Webshipper fault; Crossdock's calls made meanwhile do not either, which only makes the run a little kinder."""
    saved = stack.rackbeat.faults, stack.webshipper.faults
    stack.rackbeat.faults, stack.webshipper.faults = Faults(), Faults()
    try:
        yield
    finally:
        stack.rackbeat.faults, stack.webshipper.faults = saved


def _work_a_while(stack: LocalStack, rounds: int) -> None:
    for _ in range(3):
        stack.shopify.deliver(), stack.rackbeat.deliver(), stack.webshipper.deliver()
        with contextlib.suppress(RuntimeError):  # "did not settle within N rounds": the rest carries over
            stack.aws.drain(max_rounds=rounds, execution_timeout=600)


def _poll(stack: LocalStack, warehouse: Warehouse) -> None:
    """One run of the connection's Webshipper poll, one interval on (as its schedule would), worked off."""
    stack.aws.clock.advance(webshipper_stream.POLL_MINUTES * 60)
    result = stack.aws.invoke("PollFunction", poll_event(warehouse.connection_id, webshipper_stream.STREAM))
    if result.error is not None:
        raise RuntimeError(f"the Webshipper poll failed: {result.error}")
    stack.settle(execution_timeout=600, max_rounds=100_000)


def _faults_on(stack: LocalStack, config: WebshipperChaosConfig) -> None:
    stack.webshipper.faults = Faults(
        server_error_rate=config.webshipper_server_error_rate,
        throttle_rate=config.webshipper_throttle_rate,
        latency_seconds=config.webshipper_latency_seconds,
        drop_response_rate=config.webshipper_drop_response_rate,
        max_retry_after=2,
        seed=config.seed,
    )
    stack.webshipper.delivery_faults = DeliveryFaults(
        duplicate_rate=config.webhook_duplicate_rate,
        reorder=True,
        delay_rate=config.webhook_delay_rate,
        lose_rate=config.webhook_lose_rate,
    )
    stack.shopify.delivery_faults = DeliveryFaults(duplicate_rate=config.webhook_duplicate_rate)
    stack.rackbeat.faults = Faults(
        server_error_rate=config.rackbeat_server_error_rate,
        throttle_rate=config.rackbeat_throttle_rate,
        drop_response_rate=config.rackbeat_drop_response_rate,
        crash_after_write_rate=config.crash_after_write_rate,
        on_committed_write=stack.aws.lambdas.arm_crash,
        seed=config.seed,
    )


def _faults_off(stack: LocalStack) -> None:
    stack.webshipper.faults = Faults()
    stack.webshipper.delivery_faults = DeliveryFaults()
    stack.shopify.delivery_faults = DeliveryFaults()
    stack.rackbeat.faults = Faults()


def _count_faults(stack: LocalStack, figures: WebshipperChaosFigures) -> None:
    count_failures(figures, "Webshipper", stack.webshipper.calls_by_status)
    figures.faults["Webshipper 401 (token expired)"] = stack.webshipper.calls_by_status.get(401, 0)
    figures.faults["Webshipper webhook deliveries"] = len(stack.webshipper.delivery_log)
    figures.faults["Webshipper webhooks lost"] = stack.webshipper.outbox.lost
    count_failures(figures, "Rackbeat", stack.rackbeat.calls_by_status)
    figures.faults["Lambda crashes"] = stack.aws.lambdas.crash_faults.crashes


def render(config: WebshipperChaosConfig, figures: WebshipperChaosFigures) -> str:
    a = figures.audit
    rows: list[tuple[str, str]] = [
        ("orders made (Rackbeat and Shopify / Webshipper)", f"{a.exported_expected} / {a.imported_expected}"),
        ("in the other system", f"{a.exported} / {a.imported}"),
        ("shipped in Webshipper / in Rackbeat", f"{a.shipped_in_webshipper} / {a.shipped_in_rackbeat}"),
        ("Shopify-born / fulfilled with tracking", f"{a.fulfilments_expected} / {a.fulfilments}"),
        *verdict_rows(figures),
        ("needs attention", str(sum(a.needs_attention.values()))),
        ("API calls: webshipper", str(a.webshipper_calls)),
    ]
    title = f"Webshipper chaos run: {config.orders} orders, seed {config.seed}"
    return render_verdict(title, rows, figures, a.problems, figures.ok)


def add_command(commands: Any) -> None:
    """`crossdock chaos-webshipper`: the run `make chaos` starts after Shopbox's; exit 1 when a promise broke."""
    parser = commands.add_parser("chaos-webshipper", help=CHAOS_WEBSHIPPER_HELP)
    defaults = WebshipperChaosConfig()
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--wave", type=int, default=defaults.wave, help="orders made between two shipping rounds")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--log", default="chaos-webshipper-functions.log", help="where the functions' log lines go")
    parser.set_defaults(run=_run_command)


def _run_command(args: Any) -> int:
    config = WebshipperChaosConfig(orders=args.orders, wave=args.wave, seed=args.seed)
    return run_command(config, run_chaos_webshipper, render, lambda figures: figures.ok, args.log)
