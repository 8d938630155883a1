"""Rackbeat ⇄ Webshipper (issue 15): what one order costs in calls, per system, for each way an order travels.

The demo's set-up (scenarios/demo_webshipper.py): a shop whose Rackbeat orders stop at `booked`, a Webshipper
account connected to the same Rackbeat account through the operator's onboarding. Each step is done for `--orders`
orders at once, then the stack settles; the calls every system answered meanwhile are divided by the orders:
- exported (order.booked): an order booked in Rackbeat with a delivery term → one Webshipper order;
- exported (orders sync): a Shopify order booked in Rackbeat before the warehouse was connected, sent by the
  operator (no delivery term: the rate of its shipping line, or the default);
- imported: an order placed in another Webshipper channel → one booked Rackbeat order;
- shipment → Rackbeat: the warehouse ships an exported order; its Rackbeat order shipped, the note written;
- shipment with tracking → Shopify: the same for a Shopify order, and its fulfilment with the tracking number.
What the merchant does (booking in Rackbeat, placing and shipping in Webshipper) is not counted;
the calls are the platforms' API requests as their simulators count them, and AWS's the requests the application
and the embedded runtime (the SQS poller) made, as AWS bills them. The webhooks each platform sent are in their
own columns.

Run: .venv/bin/python bench/webshipper_calls.py [--orders 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from functions_log import functions_log_file

from crossdock_local.scenarios import demo_catalog, demo_webshipper
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.scenarios.demo_webshipper import Warehouse, WebshipperAudit
from crossdock_local.stack import LocalStack

SKUS = [f"WS-{n:03d}" for n in range(1, 21)]
SYSTEMS = ("rackbeat", "webshipper", "shopify", "aws")


@dataclass(frozen=True)
class Counts:
    rackbeat: int
    webshipper: int
    shopify: int
    aws: int
    hooks: tuple[int, int, int]  # webhook deliveries by Rackbeat, Webshipper, Shopify

    @staticmethod
    def of(stack: LocalStack) -> Counts:
        usage = stack.aws.usage()
        aws = sum(sum(ops.values()) for kind in ("api_calls", "runtime_calls") for ops in usage[kind].values())
        hooks = (len(stack.rackbeat.delivery_log), len(stack.webshipper.delivery_log), len(stack.shopify.delivery_log))
        return Counts(stack.rackbeat.calls, stack.webshipper.calls, stack.shopify.calls, aws, hooks)

    def minus(self, other: Counts) -> Counts:
        hooks = tuple(a - b for a, b in zip(self.hooks, other.hooks, strict=True))
        return Counts(
            self.rackbeat - other.rackbeat,
            self.webshipper - other.webshipper,
            self.shopify - other.shopify,
            self.aws - other.aws,
            (hooks[0], hooks[1], hooks[2]),
        )


def measured(stack: LocalStack, step: Callable[[], object]) -> Counts:
    """The calls made while `step` (Crossdock's work: settling what the merchant did) runs."""
    before = Counts.of(stack)
    step()
    return Counts.of(stack).minus(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20, help="orders of each kind")
    args = parser.parse_args()
    n = args.orders
    rows: list[tuple[str, Counts]] = []
    with functions_log_file("webshipper-calls") as log:
        started = time.perf_counter()
        with LocalStack(seed=15) as stack:
            shop = stack.create_connection(
                demo_webshipper.booked_settings(demo_settings()),
                shop_domain=demo_webshipper.SHOP_DOMAIN,
                rackbeat_seed=demo_catalog.seed_reference_data,
            )
            stack.seed_items(shop.rackbeat_account_id, SKUS)
            # The shop's orders booked in Rackbeat before the warehouse is connected (the Shopify kind's cost, not
            # measured here), so the operator's sync sends them: each on its shipping line's rate or the default.
            placed = demo_webshipper.create_shop_orders(stack, SKUS, n, 2)
            stack.settle()
            numbers = demo_webshipper.rackbeat_numbers(stack, shop.rackbeat_account_id, placed)
            warehouse = demo_webshipper.connect(stack, shop, demo_catalog.PRODUCT_GROUP)
            warehouse.shop_connection = shop.connection_id
            warehouse.shopify_born.update(numbers)
            stack.settle()
            demo_webshipper.book_rackbeat_orders(stack, warehouse, SKUS, n, 1, settle=False)
            rows.append(("exported (order.booked)", measured(stack, stack.settle)))
            rows.append(("exported (orders sync)", measured(stack, lambda: _sync(stack, warehouse, sorted(numbers)))))
            demo_webshipper.place_portal_orders(stack, warehouse, SKUS, n, 3, settle=False)
            rows.append(("imported (order/created)", measured(stack, stack.settle)))
            _ship(stack, warehouse, [f"rackbeat-{number}" for number in warehouse.rackbeat_born])
            rows.append(("shipment → Rackbeat (exported order)", measured(stack, stack.settle)))
            _ship(stack, warehouse, [f"rackbeat-{number}" for number in numbers])
            rows.append(("shipment with tracking → Shopify", measured(stack, stack.settle)))
            _ship(stack, warehouse, [""])  # the imported orders: no ext_ref of ours
            rows.append(("shipment → Rackbeat (imported order)", measured(stack, stack.settle)))
            audit = demo_webshipper.audit(stack, warehouse, WebshipperAudit(connection_state=warehouse.state))
        wall = time.perf_counter() - started
    problems = list(audit.problems)
    if not audit.counts_ok:
        problems.append("the counts: " + ", ".join(f"{k.strip()} {v}" for k, v in demo_webshipper.render(audit)))
    print(f"Rackbeat ⇄ Webshipper calls per order ({n} orders of each kind); audit: "
          + ("OK" if not problems else "FAILED " + "; ".join(problems[:5])))  # fmt: skip
    width = max(len(label) for label, _ in rows)
    header = " | ".join(f"{name:>10}" for name in (*SYSTEMS, "hooks RB", "hooks WS", "hooks SH"))
    print(f"{'per order'.ljust(width)} | {header}")
    for label, counts in rows:
        values = (counts.rackbeat, counts.webshipper, counts.shopify, counts.aws, *counts.hooks)
        print(f"{label.ljust(width)} | " + " | ".join(f"{value / n:>10.2f}" for value in values))
    print(f"wall time: {wall:.1f} s")
    print(f"the functions' logs: {log}")
    if problems:
        raise SystemExit(1)


def _sync(stack: LocalStack, warehouse: Warehouse, numbers: list[int]) -> None:
    demo_webshipper.sync_orders(stack, warehouse, numbers)
    stack.settle()


def _ship(stack: LocalStack, warehouse: Warehouse, ext_refs: list[str]) -> None:
    """The warehouse ships the Webshipper orders of `ext_refs` (the carrier's tracking booked)."""
    wanted = set(ext_refs)
    for order in stack.webshipper.orders(warehouse.account):
        if (order["attributes"].get("ext_ref") or "") in wanted and order["attributes"]["status"] == "pending":
            stack.webshipper.ship(warehouse.account, int(order["id"]))


if __name__ == "__main__":
    main()
