"""AWS cost per 1,000 Webshipper orders (issue 18): Rackbeat ⇄ Webshipper, metered and priced as `cost_per_order.py`.

The demo's set-up (scenarios/demo_webshipper.py): a shop whose Rackbeat orders stop at `booked`, and a Webshipper
account connected to the same Rackbeat account through the operator's onboarding (`transfer_when=order_booked`).
`--orders` Webshipper orders of the three kinds, in thirds:
- Shopify-born: paid at the shop and booked in Rackbeat by the shop's connection before the window (that is the
  Rackbeat ⇄ Shopify bench's cost: Rackbeat's webhooks are held until the window opens); in the window their
  `order.booked` webhooks export them, on the rate of their Shopify shipping line or the default;
- Rackbeat-born: booked by a sales person with a delivery term, exported on `order.booked`;
- Webshipper-born: placed in the merchant's B2B channel, imported on `order/created` as booked Rackbeat orders;
then the warehouse ships every one: each Rackbeat order shipped with the tracking in its note, each Shopify-born
one a Shopify fulfilment with the tracking. Priced: the window from the first webhook to the last settle, per
service and billed item; then the connection's fixed cost per day (its poll schedule, each run measured idle) and
the total at `cost_run.ORDERS_PER_DAY` orders a day. The demo's Webshipper audit follows (every order once in the
other system, shipped in both, tracking once, the right rate, nothing needs attention): a problem makes it exit 1.

Run: .venv/bin/python bench/cost_webshipper.py [--orders 150] [--seed 2026]
"""

from __future__ import annotations

import sys

import cost_run
from cost_run import Measured

from crossdock_local.scenarios import demo_webshipper
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalStack

SKUS = [f"WS-{n:03d}" for n in range(1, 21)]
# What the audit found when it found no problem.
PASSED = "every order once in the other system, shipped in both with its tracking, on the right rate"


def measure(orders: int, seed: int) -> Measured:
    rackbeat_born = portal_born = orders // 3
    shopify_born = orders - rackbeat_born - portal_born
    with cost_run.metered_stack("cost-webshipper", seed) as metered:
        stack = metered.stack
        shop, warehouse = demo_webshipper.shop_and_warehouse(stack, demo_settings(), SKUS)
        stack.settle()
        placed = demo_webshipper.create_shop_orders(stack, SKUS, shopify_born, seed)
        _into_rackbeat(stack)
        warehouse.shopify_born.update(demo_webshipper.rackbeat_numbers(stack, shop.rackbeat_account_id, placed))
        schedule_runs = len(stack.aws.schedule_runs)

        def work() -> None:
            demo_webshipper.book_rackbeat_orders(stack, warehouse, SKUS, rackbeat_born, seed, settle=False)
            demo_webshipper.place_portal_orders(stack, warehouse, SKUS, portal_born, seed, settle=False)
            stack.settle()
            demo_webshipper.ship_waiting(stack, warehouse.account)

        _, window = metered.window(work)
        in_window = cost_run.schedule_runs_since(stack, schedule_runs)
        audit = demo_webshipper.audit(
            stack, warehouse, demo_webshipper.WebshipperAudit(connection_state=warehouse.state)
        )
        fixed = cost_run.idle_runs(metered, {"warehouse": warehouse.connection_id})
    problems = list(audit.problems)
    if not audit.counts_ok:
        problems.append("the counts: " + ", ".join(f"{k.strip()} {v}" for k, v in demo_webshipper.render(audit)))
    if len(warehouse.shopify_born) != shopify_born:
        problems.append(f"{shopify_born} Shopify orders placed, {len(warehouse.shopify_born)} booked in Rackbeat")
    described = (
        f"{audit.webshipper_orders} Webshipper orders: {len(warehouse.shopify_born)} Shopify-born and "
        f"{len(warehouse.rackbeat_born)} Rackbeat-born exported on order.booked, {len(warehouse.portal_born)} "
        f"imported from the B2B channel; all shipped ({audit.shipped_in_rackbeat} shipped in Rackbeat, "
        f"{audit.fulfilments} Shopify fulfilments with tracking)"
    )
    return Measured(
        "Rackbeat ⇄ Webshipper", "Webshipper orders", audit.webshipper_orders, described, window, fixed,
        metered.log, PASSED, in_window, problems,
    )  # fmt: skip


def _into_rackbeat(stack: LocalStack) -> None:
    """The shop's order webhooks worked off until their Rackbeat orders are booked, Rackbeat's own webhooks held
    back (delivered in the window: the warehouse's export is this bench's cost, the shop's intake is not)."""
    while True:
        report = stack.shopify.deliver()
        if not (report.delivered + report.failed) and not stack.aws.drain():
            return


if __name__ == "__main__":
    sys.exit(cost_run.main(__doc__, measure, 150))
