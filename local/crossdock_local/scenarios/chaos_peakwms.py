"""`crossdock chaos-peakwms`: Shopify orders through a PeakWMS ⇄ Shopify connection under faults, then audited.

The shop and warehouse are the demo's (local/crossdock_local/scenarios/demo_peakwms.py): a custom app connected
to a PeakWMS customer, the guided setup run to the end before the faults start. Then, in waves, the shop takes
authorised orders (some asking for goods the warehouse does not hold: PeakWMS holds them), the warehouse receives
what the waiting orders want (held orders released), packs what is released — every seventh order in two pick
orders — ships it, corrects a few shelves by a count and refunds part of every tenth order shipped (and, with
`refund_in_flight`, of every tenth other order right after packing, its 102 still on its way). The faults:
- PeakWMS: 5xx, 429s with `Retry-After` on top of its 240 a minute, writes that commit and then lose their answer,
  writes that commit and kill the invocation that made them; its webhooks duplicated, reordered and held back, and
  an older stock total re-sent after the newer one (its `stale_stock_replay_rate` rule);
- Shopify: 5xx, calls (fulfilments, captures, refunds, stock; GraphQL reads too, all being POSTs) that commit and
  then lose their answer or kill the invocation that made them, its webhooks duplicated;
- lost webhooks on both sides (chaos_peakwms_losses.py): a share of the orders lose every Shopify order webhook,
  a share of the pick orders their PeakWMS 102; only the sweeps (`shopify#orders` every 10 minutes,
  `peakwms#orders` every 15) bring them back, so the virtual clock moves on between the scenario's steps and their
  schedules fire. `sweeps=False` removes both schedules: that run shows what they are for (it breaks the promise).
The warehouse's own actions (receiving, packing, shipping, counting, refunding: the simulator's control API) are not
faulted: the promise is about Crossdock's calls. After the faults stop the stack settles; the warehouse then
receives, packs and ships whatever was still on its way, and the audit runs.
The promise (the demo's audit): every Shopify order exactly one PeakWMS sales order, each fulfilled with one
fulfilment per pick order carrying its tracking, captured exactly once and never above the authorisation, every
refund made once with PeakWMS's amount, every SKU's available in the shop equal to PeakWMS's unreserved stock
(0 lost / 0 duplicated / 0 mismatched), nothing left in flight, nothing needing attention, no secret in a log line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock_local.aws.log_capture import capture_function_logs
from crossdock_local.scenarios import demo_peakwms
from crossdock_local.scenarios.chaos_peakwms_losses import (
    WebhookLosses,
    audit_recovered_packs,
    let_time_pass,
    remove_sweeps,
)
from crossdock_local.scenarios.chaos_verdict import (
    ChaosVerdict,
    count_failures,
    render_verdict,
    run_command,
    verdict_rows,
    work_in_flight,
)
from crossdock_local.scenarios.demo_peakwms import PeakwmsAudit, PeakwmsShop
from crossdock_local.sims.base.faults import Faults
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

CHAOS_PEAKWMS_HELP = "run Shopify orders through PeakWMS ⇄ Shopify under faults and audit them"


@dataclass
class PeakwmsChaosConfig:
    orders: int = 200
    wave: int = 25  # orders taken between two rounds of the warehouse's work
    seed: int = 16
    split_every: int = 7  # every n-th order packed in two pick orders
    refund_every: int = 10  # every n-th order partly refunded by PeakWMS
    # Also every n-th order (offset by half) refunded while its pack (102) is still in flight: packed, not shipped,
    # its 104 as likely to be handled before the capture as after: one before is parked and made by the 102 (or the
    # PeakWMS sweep's, when that 102 was lost) after the capture and once the refunded line is fulfilled — an order
    # packed in two pick orders whose second 102 comes first keeps a refund of the first pick order's piece parked
    # until that pick order's 102 (docs/peakwms.md "Messages to the shop").
    refund_in_flight: bool = True
    peakwms_server_error_rate: float = 0.05
    peakwms_throttle_rate: float = 0.03
    peakwms_drop_response_rate: float = 0.05
    crash_after_write_rate: float = 0.05  # PeakWMS writes
    shopify_crash_after_write_rate: float = 0.02  # Shopify: every GraphQL call is a POST, reads too
    stale_stock_replay_rate: float = 0.3
    webhook_duplicate_rate: float = 0.3
    webhook_delay_rate: float = 0.2
    shopify_server_error_rate: float = 0.03
    shopify_drop_response_rate: float = 0.03
    shopify_webhook_lose_share: float = 0.1  # of the orders: every order webhook of theirs lost
    peakwms_webhook_lose_share: float = 0.1  # of the pick orders: their 102 lost
    sweeps: bool = True  # False: both sweeps' schedules removed after the setup (the run then breaks the promise)
    minutes_per_round: float = 10.0  # virtual time between two rounds of work (the sweeps run every 10 and 15)
    rounds_per_wave: int = 200


@dataclass
class PeakwmsChaosFigures(ChaosVerdict):
    audit: PeakwmsAudit = field(default_factory=PeakwmsAudit)
    losses: WebhookLosses = field(default_factory=lambda: WebhookLosses.of(0.0, 0.0, 0))
    recovered_packs: int = 0  # orders whose lost 102 the PeakWMS sweep fulfilled and captured

    @property
    def lost(self) -> list[str]:
        return self.audit.missing

    @property
    def duplicated(self) -> list[str]:
        return self.audit.duplicated

    @property
    def mismatched(self) -> list[str]:
        attention = [f"needs attention: {reason}" for reason in self.audit.needs_attention]
        return [*self.audit.mismatched, *attention]

    @property
    def ok(self) -> bool:
        a = self.audit
        made = a.orders > 0 and a.fulfilled == a.orders and a.refunds > 0
        quiet = not self.lost and not self.duplicated and not self.mismatched
        return made and quiet and not self.unfinished and not self.leaked_secrets


@dataclass
class _Refunds:
    """The refunds PeakWMS made, by order id (the demo's shop records only one)."""

    made: dict[str, Decimal] = field(default_factory=dict)
    shipped: set[str] = field(default_factory=set)  # shipped in an earlier round, to be refunded in the next


def run_chaos_peakwms(config: PeakwmsChaosConfig, log: io.TextIOBase | None = None) -> PeakwmsChaosFigures:
    """Runs the scenario on a fresh embedded stack; the functions' log lines go to `log` and are searched for the
    run's credentials at the end."""
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = PeakwmsChaosFigures()
    figures.losses = losses = WebhookLosses.of(
        config.shopify_webhook_lose_share, config.peakwms_webhook_lose_share, config.seed
    )
    refunds = _Refunds()
    sink = log if log is not None else io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        LocalStack(seed=config.seed) as stack,
        capture_function_logs(stack.aws) as logs,
    ):
        shop = demo_peakwms.connect(stack)
        stocked = demo_peakwms.SKUS[:-2]

        def before(step: str) -> None:
            if step == "stock_and_history":
                demo_peakwms.first_stock(stack, shop, stocked)

        demo_peakwms.run_setup(stack, shop, figures.audit, before, show=False)
        if not config.sweeps:
            remove_sweeps(stack, shop.connection_id)
        _faults_on(stack, config)
        waves = range(0, config.orders, config.wave)
        for number, first in enumerate(waves):
            count = min(config.wave, config.orders - first)
            demo_peakwms.place_orders(stack, shop, count, config.seed * 1000 + number)
            losses.after_orders_placed(stack, shop)
            _work_a_while(stack, config)
            figures.audit.held_at_first += demo_peakwms.held(stack, shop)
            _warehouse_round(stack, shop, config, refunds, losses)
            _work_a_while(stack, config)
            print(f"chaos-peakwms: wave {number + 1}/{len(waves)}", file=sys.stderr, flush=True)
        _count_faults(stack, figures)
        _faults_off(stack)
        stack.settle(execution_timeout=600, max_rounds=100_000)
        # What was still on its way when the faults stopped: the last waves' lost webhooks (the sweeps' next runs),
        # then received, packed, shipped; then the last refunds.
        _time_for_the_sweeps(stack, config)
        for _ in range(2):
            _warehouse_round(stack, shop, config, refunds, None)
            stack.settle(execution_timeout=600, max_rounds=100_000)
            _time_for_the_sweeps(stack, config)
        _audit(stack, shop, refunds, figures.audit)
        figures.recovered_packs = audit_recovered_packs(stack, shop, losses, figures.audit)
        figures.unfinished = work_in_flight(stack)
    figures.log_lines = len(logs.lines)
    figures.leaked_secrets = [str(leak) for leak in logs.leaks(shop.secrets)]
    figures.wall_seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu_started
    return figures


def _warehouse_round(
    stack: LocalStack,
    shop: PeakwmsShop,
    config: PeakwmsChaosConfig,
    refunds: _Refunds,
    losses: WebhookLosses | None,
) -> None:
    """The warehouse's work on what has reached it: refunds of every `refund_every`-th order shipped in an earlier
    round (a parcel comes back after it left, not while its packing is still being told to the shop), goods for the
    waiting orders, packing (every `split_every`-th order in two pick orders; a share of their 102s lost while
    `losses` is given), shipping, a count of three shelves."""
    for order in shop.placed:
        order_id = str(order["id"])
        if order_id not in refunds.shipped or order_id in refunds.made:
            continue
        _refund_one_piece(stack, shop, order, refunds)
    demo_peakwms.receive_for_orders(stack, shop, spare=1)
    demo_peakwms.pack_all(stack, shop, shop.placed, split_every=config.split_every)
    if losses is not None:
        losses.after_packing(stack, shop)
    if config.refund_in_flight:
        # Refunded the moment it is packed, before its 102 has reached the shop (webhooks go out as the stack runs).
        for index, order in enumerate(shop.placed):
            in_flight = index % config.refund_every == config.refund_every // 2 and str(order["id"]) not in refunds.made
            if in_flight and (stack.peakwms.sales_order(shop.account, str(order["id"])) or {}).get("state") == 3:
                _refund_one_piece(stack, shop, order, refunds)
    demo_peakwms.ship_packed(stack, shop)
    wave = len(shop.placed) // max(1, config.wave)
    skus = demo_peakwms.SKUS
    demo_peakwms.count_stock(stack, shop, {skus[(wave + n * 5) % len(skus)]: (-1) ** n for n in range(3)})
    for index, order in enumerate(shop.placed):
        sales_order = stack.peakwms.sales_order(shop.account, str(order["id"])) or {}
        if index % config.refund_every == 0 and sales_order.get("state") == 4:
            refunds.shipped.add(str(order["id"]))


def _refund_one_piece(stack: LocalStack, shop: PeakwmsShop, order: dict[str, Any], refunds: _Refunds) -> None:
    """PeakWMS refunds the first line's piece at its price — no more than the order's `totalSalesPrice`, which a
    discount can bring below one piece's price (PeakWMS refuses a refund above it)."""
    line = order["line_items"][0]
    amount = Decimal(str(line["price"])).quantize(Decimal("0.01"))
    total = (stack.peakwms.sales_order(shop.account, str(order["id"])) or {}).get("totalSalesPrice")
    if total is not None:
        amount = min(amount, Decimal(str(total)).quantize(Decimal("0.01")))
    if amount <= 0:
        return  # nothing PeakWMS could refund
    stack.peakwms.refund(shop.account, str(order["id"]), str(amount), {str(line["id"]): 1})
    refunds.made[str(order["id"])] = amount


def _audit(stack: LocalStack, shop: PeakwmsShop, refunds: _Refunds, result: PeakwmsAudit) -> None:
    """The demo's audit, with this run's refunds (several orders) in place of the demo's one."""
    shop.refunded = None
    demo_peakwms.audit(stack, shop, result)
    result.duplicated = [d for d in result.duplicated if "refunds, none made" not in d]
    result.refunds = 0
    for order_id, amount in refunds.made.items():
        shown = (stack.shopify.get_order(shop.domain, order_id) or {}).get("refunds") or []
        amounts = [Decimal(str(t["amount"])) for r in shown for t in r.get("transactions") or []]
        if amounts == [amount]:
            result.refunds += 1
        elif len(amounts) > 1:
            result.duplicated.append(f"Shopify order {order_id}: refunds {amounts}, PeakWMS one of {amount}")
        else:
            result.missing.append(f"Shopify order {order_id}: refunds {amounts}, PeakWMS {amount}")
    for order in shop.placed:
        if str(order["id"]) not in refunds.made and (stack.shopify.get_order(shop.domain, order["id"]) or {}).get(
            "refunds"
        ):
            result.duplicated.append(f"Shopify order {order['id']}: refunded, PeakWMS made none")


def _work_a_while(stack: LocalStack, config: PeakwmsChaosConfig) -> None:
    """Three rounds of work, `minutes_per_round` of the virtual clock each (the sweeps' schedules fire meanwhile)."""
    let_time_pass(stack, 3 * config.minutes_per_round, config.minutes_per_round, max_rounds=config.rounds_per_wave)


def _time_for_the_sweeps(stack: LocalStack, config: PeakwmsChaosConfig) -> None:
    """Long enough for `peakwms#orders` to send a lost 102 (first seen, then 30 minutes on: up to 45 minutes at its
    15) and for `shopify#orders` to send a lost order (10), worked off."""
    let_time_pass(stack, 60, config.minutes_per_round)
    stack.settle(execution_timeout=600, max_rounds=100_000)


def _faults_on(stack: LocalStack, config: PeakwmsChaosConfig) -> None:
    stack.peakwms.faults = Faults(
        server_error_rate=config.peakwms_server_error_rate,
        throttle_rate=config.peakwms_throttle_rate,
        drop_response_rate=config.peakwms_drop_response_rate,
        crash_after_write_rate=config.crash_after_write_rate,
        on_committed_write=stack.aws.lambdas.arm_crash,
        max_retry_after=2,
        seed=config.seed,
    )
    stack.peakwms.delivery_faults = DeliveryFaults(
        duplicate_rate=config.webhook_duplicate_rate, reorder=True, delay_rate=config.webhook_delay_rate
    )
    stack.peakwms.rules = dataclasses.replace(
        stack.peakwms.rules, stale_stock_replay_rate=config.stale_stock_replay_rate
    )
    stack.shopify.faults = Faults(
        server_error_rate=config.shopify_server_error_rate,
        drop_response_rate=config.shopify_drop_response_rate,
        crash_after_write_rate=config.shopify_crash_after_write_rate,
        on_committed_write=stack.aws.lambdas.arm_crash,
        seed=config.seed + 1,
    )
    stack.shopify.delivery_faults = DeliveryFaults(duplicate_rate=config.webhook_duplicate_rate)


def _faults_off(stack: LocalStack) -> None:
    stack.peakwms.faults = Faults()
    stack.peakwms.delivery_faults = DeliveryFaults()
    stack.peakwms.rules = dataclasses.replace(stack.peakwms.rules, stale_stock_replay_rate=0.0)
    stack.shopify.faults = Faults()
    stack.shopify.delivery_faults = DeliveryFaults()


def _count_faults(stack: LocalStack, figures: PeakwmsChaosFigures) -> None:
    count_failures(figures, "PeakWMS", stack.peakwms.calls_by_status)
    figures.faults["PeakWMS webhook deliveries"] = len(stack.peakwms.delivery_log)
    count_failures(figures, "Shopify", stack.shopify.calls_by_status)
    figures.faults["Shopify webhook deliveries"] = len(stack.shopify.delivery_log)
    figures.faults["Lambda crashes"] = stack.aws.lambdas.crash_faults.crashes
    figures.faults["Shopify webhooks lost"] = figures.losses.shopify_webhooks
    figures.faults["PeakWMS webhooks lost"] = figures.losses.peakwms_webhooks


def render(config: PeakwmsChaosConfig, figures: PeakwmsChaosFigures) -> str:
    a = figures.audit
    rows: list[tuple[str, str]] = [
        ("Shopify orders (authorised) / in PeakWMS", f"{a.orders} / {a.in_peakwms}"),
        ("held when the warehouse looked / released", f"{a.held_at_first} / {a.released}"),
        ("pick orders / orders fulfilled with tracking", f"{a.pick_orders} / {a.fulfilled}"),
        ("captured once (≤ authorised) / refunds made once", f"{a.captured} / {a.refunds}"),
        ("SKUs / stock equal in both", f"{a.stock_checked} / {a.stock_equal}"),
        ("webhooks lost", figures.losses.summary),
        ("orders with a lost 102 fulfilled by the sweep", f"{figures.recovered_packs} of {len(figures.losses.packs)}"),
        ("sweeps", "on" if config.sweeps else "schedules removed"),
        *verdict_rows(figures),
        ("needs attention", str(sum(a.needs_attention.values()))),
        ("API calls: peakwms", str(a.peakwms_calls)),
    ]
    title = f"PeakWMS chaos run: {config.orders} orders, seed {config.seed}"
    return render_verdict(title, rows, figures, [*figures.lost, *figures.duplicated, *figures.mismatched], figures.ok)


def add_command(commands: Any) -> None:
    """`crossdock chaos-peakwms`: the run `make chaos` starts after Webshipper's; exit 1 when a promise broke."""
    parser = commands.add_parser("chaos-peakwms", help=CHAOS_PEAKWMS_HELP)
    defaults = PeakwmsChaosConfig()
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--wave", type=int, default=defaults.wave, help="orders taken between two warehouse rounds")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--refund-in-flight",
        action=argparse.BooleanOptionalAction,
        default=defaults.refund_in_flight,
        help="also refund every tenth order (offset 5) right after packing, its 102 still on its way to the shop"
        " (on by default; --no-refund-in-flight leaves those out)",
    )
    parser.add_argument(
        "--webhook-lose-share",
        type=float,
        default=defaults.shopify_webhook_lose_share,
        help="share of the orders losing their Shopify order webhooks, and of the pick orders losing their 102",
    )
    parser.add_argument(
        "--no-sweeps",
        dest="sweeps",
        action="store_false",
        help="remove both sweeps' schedules after the setup (what the lost webhooks carried then stays lost)",
    )
    parser.add_argument("--log", default="chaos-peakwms-functions.log", help="where the functions' log lines go")
    parser.set_defaults(run=_run_command)


def _run_command(args: Any) -> int:
    if not 0 <= args.webhook_lose_share <= 1:
        raise SystemExit("--webhook-lose-share must be between 0 and 1")
    config = PeakwmsChaosConfig(
        orders=args.orders,
        wave=args.wave,
        seed=args.seed,
        refund_in_flight=args.refund_in_flight,
        shopify_webhook_lose_share=args.webhook_lose_share,
        peakwms_webhook_lose_share=args.webhook_lose_share,
        sweeps=args.sweeps,
    )
    return run_command(config, run_chaos_peakwms, render, lambda figures: figures.ok, args.log)
