"""PeakWMS ⇄ Shopify (issue 16): what one order costs in calls, per system, at each step of its life.

The demo's set-up (scenarios/demo_peakwms.py): a custom app on a new shop connected to a PeakWMS customer through
the operator's onboarding, the guided setup run to the end, the warehouse stocked. Each step is done for `--orders`
orders (or SKUs) at once, then the stack settles; the calls every system answered meanwhile are divided by them:
- order received: a Shopify order (authorised) → one PeakWMS sales order, released (in stock);
- order held, then released by a receipt: an order of goods not in stock → on hold; the goods arrive (one 100 per
  SKU: the shop's available set) and PeakWMS releases it — counted per order;
- packed + captured: PeakWMS packs it (110, 102, 109) → a Shopify fulfilment with the tracking, the authorisation
  captured once;
- shipped: the carrier collects it (109 Shipped) → nothing to write;
- refunded: PeakWMS refunds one piece (104) → one Shopify refund (its echo, orders/updated, answered too);
- stock adjustment: a count corrects a shelf (100) → the shop's available set by compare-and-set — per SKU.
What the warehouse and the shop's buyers do (the simulators' control API, orders placed) is not counted; the calls
are the platforms' API requests as their simulators count them, and AWS's the requests the application and the
embedded runtime made, as AWS bills them. The webhooks each platform sent are in their own columns.

Run: .venv/bin/python bench/peakwms_calls.py [--orders 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions_log import functions_log_file

from crossdock_local.scenarios import demo_peakwms
from crossdock_local.scenarios.demo_peakwms import PeakwmsAudit, PeakwmsShop
from crossdock_local.stack import LocalStack

SYSTEMS = ("shopify", "peakwms", "aws")


@dataclass(frozen=True)
class Counts:
    shopify: int
    peakwms: int
    aws: int
    hooks: tuple[int, int]  # webhook deliveries by Shopify, PeakWMS

    @staticmethod
    def of(stack: LocalStack) -> Counts:
        usage = stack.aws.usage()
        aws = sum(sum(ops.values()) for kind in ("api_calls", "runtime_calls") for ops in usage[kind].values())
        hooks = (len(stack.shopify.delivery_log), len(stack.peakwms.delivery_log))
        return Counts(stack.shopify.calls, stack.peakwms.calls, aws, hooks)

    def minus(self, other: Counts) -> Counts:
        return Counts(
            self.shopify - other.shopify,
            self.peakwms - other.peakwms,
            self.aws - other.aws,
            (self.hooks[0] - other.hooks[0], self.hooks[1] - other.hooks[1]),
        )


def measured(stack: LocalStack, step: Callable[[], object]) -> Counts:
    """The calls made while `step` (Crossdock's work: settling what the warehouse or the shop did) runs."""
    before = Counts.of(stack)
    step()
    return Counts.of(stack).minus(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20, help="orders of each kind")
    args = parser.parse_args()
    n = args.orders
    rows: list[tuple[str, int, Counts]] = []
    audit = PeakwmsAudit()
    with functions_log_file("peakwms-calls") as log:
        started = time.perf_counter()
        with LocalStack(seed=16) as stack:
            shop = demo_peakwms.connect(stack)
            held_skus = demo_peakwms.SKUS[-2:]  # never stocked before the second kind of order
            stocked = demo_peakwms.SKUS[:-2]

            def before(step: str) -> None:
                if step == "stock_and_history":
                    for sku in stocked:  # enough for every order of the first kind
                        product_id, variant_id = shop.variants[sku]
                        stack.peakwms.receive_stock(shop.account, product_id, variant_id, 10 * n)

            demo_peakwms.run_setup(stack, shop, audit, before, show=False)
            first = _orders(stack, shop, n, 1, stocked)
            rows.append(("order received (released)", n, measured(stack, stack.settle)))
            second = _orders(stack, shop, n, 2, held_skus)
            stack.settle()
            audit.held_at_first = demo_peakwms.held(stack, shop)
            demo_peakwms.receive_for_orders(stack, shop, spare=0)
            rows.append(("order held, released by a receipt", n, measured(stack, stack.settle)))
            demo_peakwms.pack_all(stack, shop, [*first, *second], split_every=10**9)  # none split
            rows.append(("packed + captured", 2 * n, measured(stack, stack.settle)))
            demo_peakwms.ship_packed(stack, shop)
            rows.append(("shipped", 2 * n, measured(stack, stack.settle)))
            for order in first:
                line = order["line_items"][0]
                stack.peakwms.refund(shop.account, str(order["id"]), str(line["price"]), {str(line["id"]): 1})
            rows.append(("refunded (one piece)", n, measured(stack, stack.settle)))
            corrections = {sku: 1 for sku in stocked}
            demo_peakwms.count_stock(stack, shop, corrections)
            rows.append(("stock adjustment (per SKU)", len(corrections), measured(stack, stack.settle)))
            shop.refunded = None  # several refunds here: checked below, not by the demo's one
            demo_peakwms.audit(stack, shop, audit)
        wall = time.perf_counter() - started
    problems = [p for p in audit.problems if "refunds, none made" not in p]
    if audit.fulfilled != 2 * n or audit.held_at_first != n:
        problems.append(f"fulfilled {audit.fulfilled} of {2 * n}, held {audit.held_at_first} of {n}")
    print(f"PeakWMS ⇄ Shopify calls per order ({n} orders of each kind); audit: "
          + ("OK" if not problems else "FAILED " + "; ".join(problems[:5])))  # fmt: skip
    width = max(len(label) for label, _, _ in rows)
    header = " | ".join(f"{name:>8}" for name in (*SYSTEMS, "hooks SH", "hooks PW"))
    print(f"{'per order'.ljust(width)} | {header}")
    for label, count, counts in rows:
        values = (counts.shopify, counts.peakwms, counts.aws, *counts.hooks)
        print(f"{label.ljust(width)} | " + " | ".join(f"{value / count:>8.2f}" for value in values))
    print(f"wall time: {wall:.1f} s")
    print(f"the functions' logs: {log}")
    if problems:
        raise SystemExit(1)


def _orders(stack: LocalStack, shop: PeakwmsShop, n: int, seed: int, skus: list[str]) -> list[dict[str, Any]]:
    """`n` authorised orders whose every line is one of `skus`."""
    return demo_peakwms.place_orders(stack, shop, n, seed, skus)


if __name__ == "__main__":
    main()
