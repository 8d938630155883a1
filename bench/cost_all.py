"""AWS cost per 1,000 orders for a merchant running all four integrations (issue 18), against the target $0.15.

Runs the four cost benches one after the other, each on its own metered stack and audited as it is alone:
`cost_per_order.py` (Rackbeat ⇄ Shopify: Shopify orders to invoice, two shops), `cost_shopbox.py` (till sales),
`cost_webshipper.py` (Webshipper orders both ways, tracking to the shop) and `cost_peakwms.py` (Shopify orders
through PeakWMS, packed and captured). Prints each integration's line — dollars per 1,000 of its orders, its
connections' fixed cost per day, and both together at `cost_run.ORDERS_PER_DAY` orders a day — then the all-in
total: the four lines added up, what 1,000 orders cost when each passes every integration once (a Shopify order
into Rackbeat, shipped through Webshipper, and as many till sales and PeakWMS orders), itemized by service and
billed item, and the biggest lines (integration and item) with their share, which are where the next levers are.
Exits 1 when any bench's audit found a problem.

With `--tables`, each integration's own table (as its bench prints it) comes first.

Run: .venv/bin/python bench/cost_all.py [--orders 150] [--seed 2026] [--tables]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from decimal import Decimal

import cost_peakwms
import cost_per_order
import cost_run
import cost_shopbox
import cost_webshipper
from cost_model import PriceTable
from cost_run import ORDERS_PER_DAY, Measured, money

TARGET_PER_1000 = Decimal("0.15")  # issue 18
BENCHES = (cost_per_order.run, cost_shopbox.measure, cost_webshipper.measure, cost_peakwms.measure)
BIGGEST = 8


def report(runs: list[Measured], prices: PriceTable) -> list[str]:
    out = [
        f"AWS cost per 1,000 orders, a merchant running all four integrations: {prices.region} list prices looked up "
        f"{prices.looked_up}; fixed costs at {ORDERS_PER_DAY} orders a day on each integration",
        "",
        f"{'integration':<24}{'orders':>8}{'$ / 1,000':>12}{'fixed $ / day':>15}{'$ / 1,000 at rate':>19}  audit",
    ]
    for run in runs:
        out.append(
            f"{run.title:<24}{run.orders:>8}{money(run.per_1000(prices)):>12}{run.fixed_per_day(prices):>15.5f}"
            f"{money(run.at_rate_per_1000(prices)):>19}  {'FAILED' if run.problems else 'OK'}"
        )
    total = sum((run.per_1000(prices) for run in runs), Decimal(0))
    fixed = sum((run.fixed_per_day(prices) for run in runs), Decimal(0))
    at_rate = sum((run.at_rate_per_1000(prices) for run in runs), Decimal(0))
    verdict = "within target" if total < TARGET_PER_1000 else "OVER TARGET"
    out += [
        f"{'all-in (each order once':<24}{'':>8}{money(total):>12}{fixed:>15.5f}{money(at_rate):>19}",
        f"{' through all four)':<24}   target < ${TARGET_PER_1000} per 1,000 orders: {verdict} "
        f"(x {total / TARGET_PER_1000:.2f}; at {ORDERS_PER_DAY} a day with the fixed costs x "
        f"{at_rate / TARGET_PER_1000:.2f})",
        "",
        *_by_service(runs, prices, total),
        "",
        *_biggest(runs, prices, at_rate),
    ]
    return out


def _by_service(runs: list[Measured], prices: PriceTable, total: Decimal) -> list[str]:
    """The all-in total by service and billed item, the four integrations' lines added up."""
    items: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for run in runs:
        for line in run.lines(prices):
            items[(line.service, line.item)] += line.per_1000_orders or Decimal(0)
    out = ["all-in by service (per 1,000 orders through all four):"]
    for (service, item), usd in sorted(items.items(), key=lambda entry: -entry[1]):
        if usd:
            out.append(f"  {service:<22}{item:<42}{money(usd):>10}  {usd / total:>6.1%}")
    return out


def _biggest(runs: list[Measured], prices: PriceTable, at_rate: Decimal) -> list[str]:
    """The priciest lines, each an integration's billed item or its connections' fixed cost: the next levers."""
    lines: list[tuple[Decimal, str]] = []
    for run in runs:
        for line in run.lines(prices):
            lines.append((line.per_1000_orders or Decimal(0), f"{run.title}: {line.service} {line.item}"))
        fixed = run.fixed_per_day(prices) * 1000 / ORDERS_PER_DAY
        lines.append((fixed, f"{run.title}: fixed (poll schedules) at {ORDERS_PER_DAY} orders a day"))
    out = [f"the biggest lines (per 1,000 orders at {ORDERS_PER_DAY} a day; share of ${at_rate:.4f}):"]
    for usd, label in sorted(lines, reverse=True)[:BIGGEST]:
        out.append(f"  {money(usd):>8}  {usd / at_rate:>6.1%}  {label}")
    return out


def main() -> int:
    args = cost_run.arguments(__doc__, 150, tables=True)
    prices = PriceTable.load(args.prices)
    runs = [measure(args.orders, args.seed) for measure in BENCHES]
    for run in runs if args.tables else []:
        print(
            "\n".join(
                [*run.table(prices, args.prices), "", *cost_run.details(run.window, run.orders, args.wru_kinds), "", ""]
            )
        )
    print("\n".join(report(runs, prices)))
    print("\nthe functions' logs: " + ", ".join(str(run.log) for run in runs))
    failed = [run for run in runs if run.problems]
    for run in failed:
        print(f"\nAUDIT FAILED, {run.title}: {len(run.problems)} problem(s):", file=sys.stderr)
        for problem in run.problems[:10]:
            print(f"  {problem}", file=sys.stderr)
    if not failed:
        print("audit: " + "; ".join(f"{run.title}: {run.passed}" for run in runs))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
