"""Initial sync of a 30,000-variant Shopify catalog into Rackbeat (DESIGN §8), on the embedded stack.

Prints, side by side from one run:
- Shopify calls used (target ≤ 10: one bulk export instead of paging through the catalog), Admin API calls and
  downloads of the export file counted together;
- Rackbeat calls / items created (target ≤ 1.05: one create per item, one adjustment per chunk for the stock);
- achieved Rackbeat call rate / allowed rate (target ≥ 0.9), measured on the stack's clock, with the
  simulator's limit scaled up (default ×10 = 4,800/min) so the run stays short;
- Rackbeat 429 answers / calls (target < 1 %).

Run: .venv/bin/python bench/initial_sync.py [--variants 30000] [--scale 10]
"""

from __future__ import annotations

import argparse
import time

from functions_log import functions_log_file

from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalStack

RACKBEAT_LIMIT = 480  # calls per minute per token (reference/rackbeat.md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=30_000)
    parser.add_argument("--scale", type=int, default=10, help="multiplies Rackbeat's 480 calls/minute")
    args = parser.parse_args()
    limit = RACKBEAT_LIMIT * args.scale
    with functions_log_file("initial-sync") as log:
        started = time.perf_counter()
        # Paced at 99 % of the limit: the import runs alone here, with no order traffic to leave room for.
        with LocalStack(rackbeat_rate_limit=limit, rackbeat_pace=0.99, seed=5) as stack:
            settings = {**demo_settings(), "initial_sync": "enabled", "product_sync": {"default_product_group": 1}}
            connection = stack.create_connection(
                settings,
                shop_domain="big-catalog.myshopify.com",
                rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 1, "Import"),
            )
            account = connection.rackbeat_account_id
            stack.shopify.seed_catalog(
                "big-catalog.myshopify.com", args.variants, variants_per_product=3, stock=lambda i: (i * 7) % 50
            )
            shopify_before, rackbeat_before = stack.shopify.calls, stack.rackbeat.calls
            clock_before = stack.aws.clock.monotonic()
            stack.start_initial_sync(connection)
            stack.settle(execution_timeout=3600)
            clock_seconds = stack.aws.clock.monotonic() - clock_before
            progress = stack.initial_sync_progress(connection) or {}
            shopify_calls = stack.shopify.calls - shopify_before
            rackbeat_calls = stack.rackbeat.calls - rackbeat_before
            throttled = stack.rackbeat.calls_by_status.get(429, 0)
            items = len(stack.rackbeat.state(account).products) - 2  # the stack seeds a shipping and a rounding item
    created = int(progress.get("created") or 0)
    rate = rackbeat_calls / (clock_seconds / 60)
    print(
        f"initial sync of {args.variants:,} variants: {progress.get('status')}, {progress.get('done')}/"
        f"{progress.get('total')} done, {created:,} items created ({items:,} in Rackbeat), "
        f"{progress.get('skipped')} skipped"
    )
    print(f"Shopify calls used:              {shopify_calls} (target ≤ 10)")
    print(
        f"Rackbeat calls / items:          {rackbeat_calls:,} / {created:,} = {rackbeat_calls / max(1, created):.3f}"
        " (target ≤ 1.05)"
    )
    print(f"Rackbeat rate achieved / allowed: {rate:,.0f} / {limit:,} per minute = {rate / limit:.2f} (target ≥ 0.9)")
    print(
        f"Rackbeat 429 / calls:            {throttled} / {rackbeat_calls:,} = {throttled / max(1, rackbeat_calls):.2%}"
        " (target < 1 %)"
    )
    print(f"stack clock {clock_seconds / 60:.1f} min, wall {time.perf_counter() - started:.0f} s")
    print(f"the functions' logs: {log}")


if __name__ == "__main__":
    main()
