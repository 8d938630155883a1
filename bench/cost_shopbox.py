"""AWS cost per 1,000 Shopbox till sales (issue 18): Rackbeat ⇄ Shopbox, metered and priced as `cost_per_order.py`.

The demo's café (scenarios/demo_shopbox.py: two branches on their own Rackbeat locations, onboarded through the
operations, target invoiced_and_shipped, products flowing from Rackbeat) rings `--orders` varied sales up at both
tills, `SALES_PER_RUN` between two runs of the `sales#baskets` stream (each run `poll_minutes` on, on the virtual
clock, as its schedule makes it); then about a tenth of the transferred sales are cancelled at the till and the
next run credits them. Priced: from the first sale to the last settle (not the set-up), per service and billed
item; then the connection's fixed cost per day (its poll schedules, each run measured idle) and the total at
`cost_run.ORDERS_PER_DAY` sales a day. The demo's Shopbox audit follows (every basket once in Rackbeat at the
target with its total, every cancellation credited once, stock per branch equal): a problem makes it exit 1.

Run: .venv/bin/python bench/cost_shopbox.py [--orders 150] [--seed 2026]
"""

from __future__ import annotations

import math
import sys

import cost_run
from cost_run import Measured

from crossdock_local.scenarios import demo_shopbox
from crossdock_local.scenarios.demo import rackbeat_stage

SKUS = [f"SB-{n:03d}" for n in range(1, 21)]
SALES_PER_RUN = 10  # sales rung up between two runs of the stream
CANCELLED_SHARE = 0.1  # of the sales, cancelled at the till after their transfer
# What the audit found when it found no problem.
PASSED = "every sale once in Rackbeat at its target with its total; every cancellation credited once; stock equal"


def measure(sales: int, seed: int) -> Measured:
    with cost_run.metered_stack("cost-shopbox", seed) as metered:
        stack = metered.stack
        account, api_key = stack.new_rackbeat_account()
        stack.rackbeat.seed_product_group(account, 1, "Café")
        stack.seed_items(account, SKUS)
        cafe = demo_shopbox.set_up(stack, account, api_key, SKUS, 1)
        schedule_runs = len(stack.aws.schedule_runs)
        cancelled = max(1, round(sales * CANCELLED_SHARE))

        def work() -> int:
            polls = demo_shopbox.run_sales(stack, cafe, sales, rounds=math.ceil(sales / SALES_PER_RUN))
            demo_shopbox.cancel_sales(stack, cafe, cancelled)
            return polls + 1

        polls, window = metered.window(work)
        in_window = cost_run.schedule_runs_since(stack, schedule_runs)
        audit = demo_shopbox.audit(stack, cafe, rackbeat_stage, demo_shopbox.ShopboxAudit())
        fixed = cost_run.idle_runs(metered, {"café": cafe.connection_id})
    described = (
        f"{audit.sales} till sales at {audit.branches} branches into Rackbeat (invoiced_and_shipped), {polls} runs "
        f"of the sales stream ({SALES_PER_RUN} sales between runs, every {demo_shopbox.POLL_MINUTES} min), "
        f"{audit.cancelled} cancelled at the till and credited"
    )
    sold, credited = f"{audit.sales} sales, {audit.rackbeat_orders} in Rackbeat", f"{audit.credited} credited"
    problems = [*audit.problems, *([] if audit.ok else [f"{sold}; {audit.cancelled} cancelled, {credited}"])]
    title, log = "Rackbeat ⇄ Shopbox", metered.log
    return Measured(title, "till sales", audit.sales, described, window, fixed, log, PASSED, in_window, problems)


if __name__ == "__main__":
    sys.exit(cost_run.main(__doc__, measure, 150))
