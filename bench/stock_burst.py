"""Stock burst (DESIGN §8): 10,000 Rackbeat stock changes over 2,000 items, two shops on one Rackbeat account.

Prints, per shop, mutations issued / ⌈distinct items / 250⌉ (target 1.0), and throttled answers / calls for
Shopify (THROTTLED) and Rackbeat (429) (target < 1 %), then checks that every shop ends with Rackbeat's quantity.

Two runs side by side:
- "burst": the burst is dispatched with the shops' push consumer switched off, then switched on — the situation of
  a burst whose events all reach the queue within the push's hold window (60 s), which is how AWS runs it: dispatch
  scales out and takes seconds. The embedded runtime runs one invocation at a time (~10 ms per event), so
  dispatching 10,000 events takes longer than the hold window on its clock;
- "live": the push consumer runs throughout, so the printed ratio shows what a burst spread over that long costs.

Run: .venv/bin/python bench/stock_burst.py [--items 2000] [--changes 10000]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from typing import Any

from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalConnection, LocalStack

SHOPS = ("burst-a.myshopify.com", "burst-b.myshopify.com")


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
        stack.settle()
        stack.aws.set_mapping_enabled("ShopifyPushFunction", True)
        stack.settle()
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
    for label, paused in (("burst", True), ("live", False)):
        result = run(args.items, args.changes, paused)
        print(
            f"{label:>5}: mutations {result['mutations']} → ratio {result['mutations'] / floor:.2f} (target 1.0); "
            f"Shopify THROTTLED {result['shopify_throttled']}/{result['shopify_calls']} "
            f"= {result['shopify_throttled'] / max(1, result['shopify_calls']):.2%}; "
            f"Rackbeat 429 {result['rackbeat_429']}/{result['rackbeat_calls']} "
            f"= {result['rackbeat_429'] / max(1, result['rackbeat_calls']):.2%} (target < 1 %); "
            f"shop quantities wrong: {result['wrong']}; {result['seconds']:.0f} s"
        )


if __name__ == "__main__":
    main()
