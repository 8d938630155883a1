"""`crossdock chaos-shopbox`: till sales at two Shopbox branches polled into Rackbeat under faults, then audited.

The faults are Shopbox's as the fact sheet and S3 describe them, and the crashes a poller must survive:
- Shopbox: sporadic 500s (and `page=1` answering 500 more often still, seen S3), 429s with `Retry-After`, baskets
  listed only some time after the sale, and every login token expiring in the middle of the run;
- the poll function dying between reading a basket and queuing it (its next AWS call never happens: no event
  queued, no cursor saved), or after it finished (its answer lost);
- Rackbeat: 5xx, 429s, and writes that commit and then lose their answer, or kill the invocation that made them
  before it records the mapping.
After the faults stop the stream runs on (its overlap reaches back past every fault) and the stack settles. The
promise: every sale exactly once in Rackbeat, at its target, from its branch's location, with the basket's total
(0 lost / 0 duplicated / 0 mismatched), stock equal per branch, nothing left in flight, and no secret in a log line.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.rackbeat_shopbox.sales_stream import STREAM
from crossdock_local.aws.log_capture import capture_function_logs
from crossdock_local.scenarios import demo_shopbox
from crossdock_local.scenarios.chaos_verdict import (
    ChaosVerdict,
    count_failures,
    render_verdict,
    run_command,
    verdict_rows,
    work_in_flight,
)
from crossdock_local.scenarios.demo import rackbeat_stage
from crossdock_local.scenarios.demo_shopbox import Cafe, ShopboxAudit
from crossdock_local.sims.base.faults import Faults
from crossdock_local.sims.base.http import SimRequest, SimResponse
from crossdock_local.stack import LocalStack

SKUS = [f"SB-{n:03d}" for n in range(1, 16)]
PRODUCT_GROUP = 1
CHAOS_SHOPBOX_HELP = "run Shopbox till sales into Rackbeat under faults and audit them"


@dataclass
class ShopboxChaosConfig:
    sales: int = 400
    wave: int = 40  # sales rung up between two poll runs
    seed: int = 14
    shopbox_server_error_rate: float = 0.05
    shopbox_first_page_error_rate: float = 0.3
    shopbox_throttle_rate: float = 0.05
    listing_delay_seconds: float = 90.0
    poll_crash_rate: float = 0.05  # per basket read inside the poll function: dies before queuing it
    poll_lost_answer_rate: float = 0.1
    rackbeat_server_error_rate: float = 0.03
    rackbeat_throttle_rate: float = 0.03
    drop_response_rate: float = 0.03
    crash_after_write_rate: float = 0.02
    rounds_per_wave: int = 200


@dataclass
class ShopboxChaosFigures(ChaosVerdict):
    audit: ShopboxAudit = field(default_factory=ShopboxAudit)
    polls: int = 0
    failed_polls: int = 0

    @property
    def lost(self) -> list[str]:
        return self.audit.missing

    @property
    def duplicated(self) -> list[str]:
        return self.audit.duplicated

    @property
    def mismatched(self) -> list[str]:
        a = self.audit
        return [*a.wrong_stage, *a.wrong_location, *a.total_mismatch, *a.stock_wrong]

    @property
    def ok(self) -> bool:
        quiet = not self.lost and not self.duplicated and not self.mismatched
        return self.audit.sales > 0 and quiet and not self.unfinished and not self.leaked_secrets


def run_chaos_shopbox(config: ShopboxChaosConfig, log: io.TextIOBase | None = None) -> ShopboxChaosFigures:
    """Runs the scenario on a fresh embedded stack; the functions' log lines go to `log` and are searched for
    the run's credentials at the end."""
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = ShopboxChaosFigures()
    sink = log if log is not None else io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        LocalStack(seed=config.seed) as stack,
        capture_function_logs(stack.aws) as logs,
    ):
        account, api_key = stack.new_rackbeat_account()
        stack.rackbeat.seed_product_group(account, PRODUCT_GROUP, "Café")
        stack.seed_items(account, SKUS)
        cafe = demo_shopbox.set_up(stack, account, api_key, SKUS, PRODUCT_GROUP)
        _faults_on(stack, config, figures)
        waves = range(0, config.sales, config.wave)
        for number, first in enumerate(waves):
            if number == len(waves) // 2:
                figures.faults["Shopbox login tokens expired"] += stack.shopbox.expire_login_tokens()
            stack.shopbox.sell_varied(cafe.client, min(config.wave, config.sales - first))
            _poll(stack, cafe, figures)
            _work_a_while(stack, config.rounds_per_wave)
            print(f"chaos-shopbox: wave {number + 1}/{len(waves)}", file=sys.stderr, flush=True)
        _count_faults(stack, figures)
        _faults_off(stack)
        # Two quiet runs: the first reads back over its overlap past every fault, the second finds nothing new.
        for _ in range(2):
            _poll(stack, cafe, figures)
        stack.settle(execution_timeout=600, max_rounds=100_000)
        demo_shopbox.audit(stack, cafe, rackbeat_stage, figures.audit)
        figures.audit.polls = figures.polls
        figures.unfinished = work_in_flight(stack)
    figures.log_lines = len(logs.lines)
    secrets = {"Rackbeat API key": api_key, "Shopbox password": demo_shopbox.PASSWORD}
    figures.leaked_secrets = [str(leak) for leak in logs.leaks(secrets)]
    figures.wall_seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu_started
    return figures


def _poll(stack: LocalStack, cafe: Cafe, figures: ShopboxChaosFigures) -> None:
    """A scheduled run of the sales stream; under faults it may fail (the next run's overlap covers it)."""
    stack.aws.clock.advance(demo_shopbox.POLL_MINUTES * 60)
    result = stack.aws.invoke("PollFunction", poll_event(cafe.connection_id, STREAM))
    figures.polls += 1
    figures.failed_polls += result.error is not None or bool((result.payload or {}).get("failure"))


def _work_a_while(stack: LocalStack, rounds: int) -> None:
    stack.deliver_rackbeat_webhooks()
    with contextlib.suppress(RuntimeError):  # "did not settle within N rounds": the rest carries over
        stack.aws.drain(max_rounds=rounds, execution_timeout=600)
    stack.deliver_rackbeat_webhooks()


def _faults_on(stack: LocalStack, config: ShopboxChaosConfig, figures: ShopboxChaosFigures) -> None:
    shopbox = stack.shopbox
    shopbox.faults = Faults(
        server_error_rate=config.shopbox_server_error_rate,
        throttle_rate=config.shopbox_throttle_rate,
        seed=config.seed,
    )
    shopbox.rules.first_page_error_rate = config.shopbox_first_page_error_rate
    shopbox.rules.listing_delay_seconds = config.listing_delay_seconds
    stack.rackbeat.faults = Faults(
        server_error_rate=config.rackbeat_server_error_rate,
        throttle_rate=config.rackbeat_throttle_rate,
        drop_response_rate=config.drop_response_rate,
        crash_after_write_rate=config.crash_after_write_rate,
        on_committed_write=stack.aws.lambdas.arm_crash,
        seed=config.seed,
    )
    stack.aws.lambdas.crash_faults.after_rate = {"PollFunction": config.poll_lost_answer_rate}
    stack.aws.lambdas.crash_faults._rng.seed(config.seed)
    _crash_after_basket_reads(stack, config, figures)


def _crash_after_basket_reads(stack: LocalStack, config: ShopboxChaosConfig, figures: ShopboxChaosFigures) -> None:
    """A basket's detail read answered, and then the invocation that read it dies at its next AWS call (queuing
    the basket or saving the cursor): the crash between reading and queuing. Only inside a function (the audit's
    own reads are no crash), and only while `_faults_off` has not put the simulator's `handle` back."""
    sim = stack.shopbox
    rng = random.Random(f"poll-crash:{config.seed}")
    handle = type(sim).handle.__get__(sim)

    def handle_then_maybe_crash(request: SimRequest) -> SimResponse:
        answer: SimResponse = handle(request)
        detail = request.method == "GET" and "/baskets/" in request.path and answer.status == 200
        if detail and stack.aws.lambdas._invoking is not None and rng.random() < config.poll_crash_rate:
            figures.faults["poll crashed between reading and queuing"] += 1
            stack.aws.lambdas.arm_crash()
        return answer

    sim.handle = handle_then_maybe_crash  # type: ignore[method-assign]


def _faults_off(stack: LocalStack) -> None:
    stack.shopbox.faults = Faults()
    stack.shopbox.rules.first_page_error_rate = 0.0
    stack.shopbox.rules.listing_delay_seconds = 0.0
    stack.rackbeat.faults = Faults()
    stack.aws.lambdas.crash_faults.after_rate = {}
    with contextlib.suppress(AttributeError):
        del stack.shopbox.handle  # the class's own again


def _count_faults(stack: LocalStack, figures: ShopboxChaosFigures) -> None:
    count_failures(figures, "Rackbeat", stack.rackbeat.calls_by_status)
    count_failures(figures, "Shopbox", stack.shopbox.calls_by_status)
    figures.faults["Shopbox 401 (token expired)"] = stack.shopbox.calls_by_status.get(401, 0)
    figures.faults["Lambda crashes"] = stack.aws.lambdas.crash_faults.crashes


def render(config: ShopboxChaosConfig, figures: ShopboxChaosFigures) -> str:
    a = figures.audit
    rows: list[tuple[str, str]] = [
        ("Shopbox sales rung up", str(a.sales)),
        ("Rackbeat orders", str(a.rackbeat_orders)),
        ("stock compared (product × branch)", str(a.stock_compared)),
        *verdict_rows(figures),
        ("poll runs / failed or crashed", f"{figures.polls} / {figures.failed_polls}"),
        ("needs attention", str(sum(a.needs_attention.values()))),
    ]
    title = f"Shopbox chaos run: {config.sales} sales at two branches, seed {config.seed}"
    return render_verdict(title, rows, figures, a.problems, figures.ok)


def add_command(commands: Any) -> None:
    """`crossdock chaos-shopbox`: the run `make chaos` starts after the Shopify one; exit 1 when a promise broke."""
    parser = commands.add_parser("chaos-shopbox", help=CHAOS_SHOPBOX_HELP)
    defaults = ShopboxChaosConfig()
    parser.add_argument("--sales", type=int, default=defaults.sales)
    parser.add_argument("--wave", type=int, default=defaults.wave, help="sales rung up between two poll runs")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--log", default="chaos-shopbox-functions.log", help="where the functions' log lines go")
    parser.set_defaults(run=_run_command)


def _run_command(args: Any) -> int:
    config = ShopboxChaosConfig(sales=args.sales, wave=args.wave, seed=args.seed)
    return run_command(config, run_chaos_shopbox, render, lambda figures: figures.ok, args.log)
