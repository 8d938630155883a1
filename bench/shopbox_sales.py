"""Shopbox till sales into Rackbeat (issue 14): how long a sale waits, and what each one costs in API calls.

A café with two branches (the demo's set-up, scenarios/demo_shopbox.py: onboarded through the operations, a
location per branch, target invoiced_and_shipped) rings sales up at both tills spread evenly over the virtual clock,
and the `sales#baskets` stream runs every `poll_minutes` as its schedule would. After each run the bench notes which
baskets became Rackbeat orders. Prints, from one run:
- the sale-to-Rackbeat delay in virtual time, p50 and p99, as a ratio of the poll interval: a poller's floor is a
  uniform wait over one interval (p50 ≈ 0.5, p99 ≈ 1.0); a listing delay (`--listing-delay`) adds to it;
- Shopbox calls per sale (the list pages, the basket's detail read, the login) and Rackbeat calls per sale (item
  look-ups, the order, its booking, shipment and invoice), both as ratios.

Run: .venv/bin/python bench/shopbox_sales.py [--sales 600] [--per-step 2] [--listing-delay 0]
"""

from __future__ import annotations

import argparse
import time

from functions_log import functions_log_file

from crossdock.integrations.rackbeat_shopbox.sales_order import basket_reference
from crossdock_local.scenarios import demo_shopbox
from crossdock_local.scenarios.demo import rackbeat_stage
from crossdock_local.stack import LocalStack

SKUS = [f"SB-{n:03d}" for n in range(1, 21)]
STEPS_PER_INTERVAL = 10  # sales are rung up at this many instants in each poll interval


def aws_requests(stack: LocalStack) -> int:
    """Every AWS request the application and the embedded runtime (the queue pollers) made, as AWS bills them."""
    usage = stack.aws.usage()
    return sum(sum(ops.values()) for kind in ("api_calls", "runtime_calls") for ops in usage[kind].values())


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (no interpolation: with few sales it names a delay that happened)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=600)
    parser.add_argument("--per-step", type=int, default=2, help="sales rung up at each instant")
    parser.add_argument("--listing-delay", type=float, default=0.0, help="seconds before Shopbox lists a sale")
    args = parser.parse_args()
    interval = demo_shopbox.POLL_MINUTES * 60
    step = interval / STEPS_PER_INTERVAL
    with functions_log_file("shopbox-sales") as log:
        started = time.perf_counter()
        with LocalStack(seed=14) as stack:
            account, api_key = stack.new_rackbeat_account()
            stack.rackbeat.seed_product_group(account, 1, "Café")
            stack.seed_items(account, SKUS)
            cafe = demo_shopbox.set_up(stack, account, api_key, SKUS, 1)
            stack.shopbox.rules.listing_delay_seconds = args.listing_delay
            shopbox_before, rackbeat_before = stack.shopbox.calls, stack.rackbeat.calls
            aws_before = aws_requests(stack)
            made_at: dict[str, int] = {}  # Rackbeat reference → the sale's Unix time
            delays: list[float] = []
            arrived: set[str] = set()
            while len(made_at) < args.sales or len(delays) < len(made_at):
                for instant in range(STEPS_PER_INTERVAL):
                    if instant:
                        stack.aws.clock.advance(step)
                    for basket in stack.shopbox.sell_varied(cafe.client, min(args.per_step, args.sales - len(made_at))):
                        made_at[basket_reference(str(basket["uid"]), str(cafe.client))] = int(basket["crdate"])
                # The stream's run at the interval's end, as its schedule makes it.
                demo_shopbox.poll(stack, cafe, advance_seconds=step)
                now = stack.shopbox.unix_now
                orders = {str(o.get("other_reference")) for o in stack.rackbeat.state(account).orders.values()}
                for reference in orders & made_at.keys() - arrived:
                    arrived.add(reference)
                    delays.append(now - made_at[reference])
            shopbox_calls = stack.shopbox.calls - shopbox_before
            rackbeat_calls = stack.rackbeat.calls - rackbeat_before
            aws_calls = aws_requests(stack) - aws_before
            audit = demo_shopbox.audit(stack, cafe, rackbeat_stage, demo_shopbox.ShopboxAudit())
        wall = time.perf_counter() - started
    sales = len(made_at)
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    print(
        f"Shopbox sales: {sales} at two branches, poll every {interval / 60:.0f} min, listing delay "
        f"{args.listing_delay:.0f} s; audit: {'OK' if audit.ok else 'FAILED ' + '; '.join(audit.problems[:5])}"
    )
    print(f"sale-to-Rackbeat delay p50 / poll interval: {p50:.0f} s / {interval:.0f} s = {p50 / interval:.2f}")
    print(f"sale-to-Rackbeat delay p99 / poll interval: {p99:.0f} s / {interval:.0f} s = {p99 / interval:.2f}")
    print(f"Shopbox calls per sale:  {shopbox_calls:,} / {sales} = {shopbox_calls / sales:.2f}")
    print(f"Rackbeat calls per sale: {rackbeat_calls:,} / {sales} = {rackbeat_calls / sales:.2f}")
    print(f"AWS requests per sale:   {aws_calls:,} / {sales} = {aws_calls / sales:.2f} (the polls' runs included)")
    print(f"wall time: {wall:.1f} s")
    print(f"the functions' logs: {log}")
    if not audit.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
