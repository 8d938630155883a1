"""Requests per second the Shopify simulator's Admin GraphQL answers: the Order query and the SetStock mutation.

The chaos run sends tens of thousands of identical documents; this measures one document of each kind sent over
and over through the in-process transport (parse, validate, cost, execute, JSON), on a bucket too large to throttle.

    .venv/bin/python bench/shopify_graphql.py [--requests N] [--against REV]

`--against REV` first runs the same measurement on the simulator as it was at git revision REV (its `local/` and
`layers/core/` exported to a temporary directory), so one run prints both rates side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SHOP = "bench.myshopify.com"
TOKEN = "shpat_bench"
GRAPHQL = "/admin/api/2026-04/graphql.json"
ROOT = Path(__file__).resolve().parent.parent


def _simulator() -> Any:
    try:
        from crossdock_local.sims.shopify.simulator import ShopifySimulator
    except ImportError:  # the flat layout before the package
        from crossdock_local.sims.shopify import ShopifySimulator  # type: ignore[no-redef]
    try:
        from crossdock_local.sims.shopify.order_generator import varied_orders
    except ImportError:
        from crossdock_local.sims.shopify_orders import varied_orders  # type: ignore[no-redef]

    sim = ShopifySimulator(seed=1)
    sim.add_shop(SHOP, "secret", TOKEN, restore_rate=1e12, maximum_available=1e15)
    fixture = ROOT.parent / "shared" / "fixtures" / "shopify" / "2025-01" / "order_0.json"
    plans = varied_orders(20, seed=3, skus=["MUG-BLU", "PLAID", "LAMP", "CUP"], fixture_path=fixture)
    longest = max(plans, key=lambda plan: len(plan.order["line_items"]))  # a typical order has several lines
    order = sim.create_order(SHOP, longest.order, paid=True)
    product = sim.create_product(SHOP, {"title": "Plaid", "variants": [{"sku": "PLAID", "price": "99.00"}]})
    return sim, order, product["variants"][0]["inventory_item_id"]


def measure(requests: int) -> dict[str, float]:
    from crossdock.connectors.shopify import order_query, queries
    from crossdock_local.sims.base.transport import transport

    sim, order, item_id = _simulator()
    http = httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}", headers={"X-Shopify-Access-Token": TOKEN})
    location = http.post(GRAPHQL, json={"query": queries.PRIMARY_LOCATION}).json()["data"]["location"]["id"]

    def order_body(_n: int) -> dict[str, Any]:
        return {"query": order_query.ORDER, "variables": {"id": order["admin_graphql_api_id"], "lines": 50}}

    def stock_body(n: int) -> dict[str, Any]:
        quantity = {
            "inventoryItemId": f"gid://shopify/InventoryItem/{item_id}",
            "locationId": location,
            "quantity": n,
            "changeFromQuantity": None,
        }
        request = {"name": "available", "reason": "correction", "quantities": [quantity]}
        return {"query": queries.SET_QUANTITIES, "variables": {"input": request, "key": f"bench-{n}"}}

    rates: dict[str, float] = {}
    for name, body in (("Order query", order_body), ("SetStock mutation", stock_body)):
        answer = http.post(GRAPHQL, json=body(0)).json()
        assert "errors" not in answer, answer
        # CPU time of this process, best of three rounds: the machine is shared, wall time would measure the others.
        best = float("inf")
        for round_ in range(3):
            started = time.process_time()
            for n in range(1, requests + 1):
                http.post(GRAPHQL, json=body(round_ * requests + n))
            best = min(best, time.process_time() - started)
        rates[name] = requests / best
    return rates


def _against(revision: str, requests: int) -> str:
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision, "local", "layers/core"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": f"{tree}/local{os.pathsep}{tree}/layers/core"}
        result = subprocess.run(
            [sys.executable, __file__, "--requests", str(requests)], env=env, check=True, capture_output=True, text=True
        )
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--against", help="a git revision to measure first, e.g. HEAD~1")
    args = parser.parse_args()
    if args.against:
        print(f"at {args.against}:")
        print(_against(args.against, args.requests), end="")
        print("this tree:")
    for name, rate in measure(args.requests).items():
        print(f"  {name:<18} {rate:8.0f} requests/s")


if __name__ == "__main__":
    main()
