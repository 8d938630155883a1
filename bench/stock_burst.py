"""Stock burst (DESIGN §8): 10,000 Rackbeat stock changes over 2,000 items, two shops on one Rackbeat account.

Prints, per shop, mutations issued / ⌈distinct items / 250⌉ (target 1.0), and throttled answers / calls for
Shopify (THROTTLED) and Rackbeat (429) (target < 1 %), then checks that every shop ends with Rackbeat's quantity.

Two runs side by side:
- "burst": the burst is dispatched with the shops' push consumer switched off, then switched on — the situation of
  a burst whose events all reach the queue within the push's hold window (60 s), which is how AWS runs it: dispatch
  scales out and takes seconds. The embedded runtime runs one invocation at a time (~10 ms per event), so
  dispatching 10,000 events takes longer than the hold window on its clock;
- "live": the push consumer runs throughout, so the printed ratio shows what a burst spread over that long costs.

The stack settles with a rounds budget sized to the burst (see `settle_rounds`): each change is one event per shop
on the inbound queue, which dispatch takes 10 at a time, one batch per round, so 10,000 changes on two shops take
2,000 rounds at least, more than `LocalStack.settle`'s default 1,000. The functions' logs go to a file (named last).

Run: .venv/bin/python bench/stock_burst.py [--items 2000] [--changes 10000]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path
from typing import Any

from functions_log import functions_log_file

from crossdock_local.aws.template import load_template
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalConnection, LocalStack

PROJECT = Path(__file__).resolve().parents[1]
SHOPS = ("burst-a.myshopify.com", "burst-b.myshopify.com")
# Rounds a settle may take beyond the burst's own batches: the pushes, retries and whatever the stack does after
# (the default budget of `LocalStack.settle`, which a stack that really stalls still exhausts).
TAIL_ROUNDS = 1000


def settle_rounds(changes: int) -> int:
    """The rounds budget for settling a burst: Rackbeat's webhook for each change is one event per connection on
    its account (here one per shop) on the inbound queue, and the embedded SQS poller hands dispatch one batch of
    the mapping's BatchSize per round; then the tail."""
    events = load_template(PROJECT / "template.yaml")["Resources"]["DispatchFunction"]["Properties"]["Events"]
    batch = int(events["Inbound"]["Properties"]["BatchSize"])
    return math.ceil(changes * len(SHOPS) / batch) + TAIL_ROUNDS


def run(items: int, changes: int, paused: bool) -> dict[str, Any]:
    started = time.perf_counter()
    with LocalStack(seed=3) as stack:
        settings = {**demo_settings(), "stock_sync": {"enabled": True, "quantity": "available"}}
        first = stack.create_connection(settings, shop_domain=SHOPS[0])
        second = stack.create_connection(settings, shop_domain=SHOPS[1], rackbeat_account=first)
        account = first.rackbeat_account_id
        skus = [f"B-{n:05d}" for n in range(items)]
        stack.seed_items(account, skus, stock=100)
        for domain in SHOPS:
            for sku in skus:
                stack.shopify.create_product(
                    domain,
                    {"title": sku, "variants": [{"sku": sku, "price": "10.00", "inventory_quantity": 100}]},
                    emit=False,
                )
        rackbeat_before = stack.rackbeat.calls
        rng = random.Random(7)
        if paused:
            stack.aws.set_mapping_enabled("ShopifyPushFunction", False)
        for _ in range(changes):
            stack.rackbeat.adjust_stock(account, rng.choice(skus), rng.choice((-3, -2, -1, 1, 2, 5)), "L1")
        rounds = settle_rounds(changes)
        stack.settle(max_rounds=rounds)
        stack.aws.set_mapping_enabled("ShopifyPushFunction", True)
        stack.settle(max_rounds=rounds)
        wrong = _mismatches(stack, (first, second), skus)
        return {
            "mutations": stack.shopify.mutation_count("inventorySetQuantities"),
            "shopify_calls": stack.shopify.calls,
            "shopify_throttled": stack.shopify.throttled_answers,
            "rackbeat_calls": stack.rackbeat.calls - rackbeat_before,
            "rackbeat_429": stack.rackbeat.calls_by_status.get(429, 0),
            "wrong": wrong,
            "seconds": time.perf_counter() - started,
        }


def _mismatches(stack: LocalStack, connections: tuple[LocalConnection, ...], skus: list[str]) -> int:
    account = connections[0].rackbeat_account_id
    wrong = 0
    for sku in skus:
        expected = int(stack.rackbeat.product_stock(account, sku, "L1"))
        for connection in connections:
            levels = stack.shopify.inventory(connection.shop_domain, sku)
            wrong += any(int(level["available"]) != expected for level in levels)
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=10000)
    args = parser.parse_args()
    floor = math.ceil(args.items / 250) * len(SHOPS)
    print(f"{args.changes:,} stock changes over {args.items:,} items, {len(SHOPS)} shops on one Rackbeat account")
    print(f"minimum mutations: ⌈{args.items} / 250⌉ × {len(SHOPS)} shops = {floor}")
    with functions_log_file("stock-burst") as log:
        results = {label: run(args.items, args.changes, paused) for label, paused in (("burst", True), ("live", False))}
    for label, result in results.items():
        print(
            f"{label:>5}: mutations {result['mutations']} → ratio {result['mutations'] / floor:.2f} (target 1.0); "
            f"Shopify THROTTLED {result['shopify_throttled']}/{result['shopify_calls']} "
            f"= {result['shopify_throttled'] / max(1, result['shopify_calls']):.2%}; "
            f"Rackbeat 429 {result['rackbeat_429']}/{result['rackbeat_calls']} "
            f"= {result['rackbeat_429'] / max(1, result['rackbeat_calls']):.2%} (target < 1 %); "
            f"shop quantities wrong: {result['wrong']}; {result['seconds']:.0f} s"
        )
    print(f"the functions' logs: {log}")


if __name__ == "__main__":
    main()
