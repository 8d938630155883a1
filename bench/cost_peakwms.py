"""AWS cost per 1,000 PeakWMS orders (issue 18): PeakWMS ⇄ Shopify, metered and priced as `cost_per_order.py`.

The demo's set-up (scenarios/demo_peakwms.py): a custom app on a new shop connected to a PeakWMS customer through
the operator's onboarding, the guided setup run to the end, the warehouse stocked with all but the last two SKUs.
In the window, `--orders` Shopify orders authorised at checkout go to PeakWMS; those asking for the two missing
SKUs are held (NoStock) until a receipt brings them (its stock messages set the shop's available); the warehouse
packs every order (the first of several pieces in two pick orders) — a Shopify fulfilment per pick order with its
tracking, the authorisation captured once — and ships them; a stock count corrects a few shelves and PeakWMS
refunds one piece of one order, as the demo does. Priced: from the first order to the last settle, per service and
billed item; then the connection's fixed cost per day (its two sweeps, each run measured idle) and the total at
`cost_run.ORDERS_PER_DAY` orders a day. The demo's PeakWMS audit follows (every order once in PeakWMS, fulfilled
with its tracking, captured once within the authorisation, stock equal, the refund once): a problem makes it exit 1.

Run: .venv/bin/python bench/cost_peakwms.py [--orders 150] [--seed 2026]
"""

from __future__ import annotations

import sys

import cost_run
from cost_run import Measured

from crossdock_local.scenarios import demo_peakwms
from crossdock_local.scenarios.demo_peakwms import PeakwmsAudit, PeakwmsShop
from crossdock_local.stack import LocalStack

STOCKED = demo_peakwms.SKUS[:-2]  # the last two are not in the warehouse yet: their orders wait
SHELF_PER_ORDER = 10  # of each stocked SKU, per order to come: enough for every order
# What the audit found when it found no problem.
PASSED = "every order once in PeakWMS, fulfilled with its tracking, captured once; stock equal; the refund once"


def measure(orders: int, seed: int) -> Measured:
    audit = PeakwmsAudit()
    with cost_run.metered_stack("cost-peakwms", seed) as metered:
        stack = metered.stack
        shop = demo_peakwms.connect(stack)

        def stock_first(step: str) -> None:
            if step == "stock_and_history":
                for sku in STOCKED:
                    product_id, variant_id = shop.variants[sku]
                    stack.peakwms.receive_stock(shop.account, product_id, variant_id, SHELF_PER_ORDER * orders)

        demo_peakwms.run_setup(stack, shop, audit, stock_first, show=False)
        stack.settle()
        schedule_runs = len(stack.aws.schedule_runs)
        _, window = metered.window(lambda: _orders(stack, shop, orders, seed, audit))
        in_window = cost_run.schedule_runs_since(stack, schedule_runs)
        demo_peakwms.audit(stack, shop, audit)
        fixed = cost_run.idle_runs(metered, {"warehouse": shop.connection_id})
    problems = list(audit.problems)
    if not audit.ok:
        problems.append(f"{audit.orders} orders, {audit.fulfilled} fulfilled, {audit.refunds} refunds (1 made)")
    described = (
        f"{audit.orders} Shopify orders (authorised) into PeakWMS, {audit.held_at_first} held for stock and released "
        f"by a receipt; {audit.pick_orders} pick orders packed, fulfilled with tracking and captured "
        f"({audit.captured}), shipped; {len(demo_peakwms.ADJUSTED)} shelves counted, {audit.refunds} refund"
    )
    return Measured(
        "PeakWMS ⇄ Shopify", "PeakWMS orders", audit.orders, described, window, fixed, metered.log, PASSED, in_window,
        problems,
    )  # fmt: skip


def _orders(stack: LocalStack, shop: PeakwmsShop, orders: int, seed: int, audit: PeakwmsAudit) -> None:
    """The demo's order life for `orders` orders: placed, some held then released, packed, shipped; a count and a
    refund."""
    demo_peakwms.place_orders(stack, shop, orders, seed)
    stack.settle()
    audit.held_at_first = demo_peakwms.held(stack, shop)
    demo_peakwms.receive_for_orders(stack, shop)
    stack.settle()
    demo_peakwms.pack_all(stack, shop, shop.placed)
    stack.settle()
    demo_peakwms.ship_packed(stack, shop)
    stack.settle()
    demo_peakwms.count_stock(stack, shop, demo_peakwms.ADJUSTED)
    demo_peakwms.refund_one(stack, shop)
    stack.settle()


if __name__ == "__main__":
    sys.exit(cost_run.main(__doc__, measure, 150))
