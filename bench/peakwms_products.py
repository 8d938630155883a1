"""Setup step 1 of PeakWMS ⇄ Shopify, `fetch_products`, for a 30,000-variant catalogue (issue 16, item 4), on the
embedded stack: the connection made as the merchant makes it, the step run by the guided setup's workflow
(statemachines/guided_setup.asl.json → the guided-setup function, chunk after chunk), the simulators behind HTTP.

Prints, side by side for a small catalogue and the big one:
- PeakWMS calls (and per variant: one create each on an empty PeakWMS, plus one listing call);
- Shopify calls and query cost (the catalogue is one bulk export: a handful whatever its size);
- the share of calls throttled in each system (429 from PeakWMS, THROTTLED from Shopify; target < 1 %);
- the stack's virtual minutes (PeakWMS allows 240 calls a minute, so 30,000 creates need at least 125 of them)
  and the wall-clock seconds of the run.

Run: .venv/bin/python bench/peakwms_products.py [--variants 30000] [--small 300]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from functions_log import functions_log_file

from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import guided_setup, peakwms_onboarding
from crossdock.store import setup_progress
from crossdock_local.stack import LocalStack

PEAKWMS_LIMIT = 240  # calls per minute per PeakWMS customer (reference/peakwms.md "Rate limits")


@dataclass(frozen=True)
class Run:
    variants: int
    status: str
    done: int
    total: int
    in_peakwms: int
    peakwms_calls: int
    peakwms_throttled: int
    shopify_calls: int
    shopify_cost: int
    shopify_throttled: int
    virtual_minutes: float
    wall_seconds: float


def fetch(variants: int, seed: int) -> Run:
    started = time.perf_counter()
    with LocalStack(seed=seed) as stack:
        domain = f"katalog-{variants}.myshopify.com"
        token, secret = stack.new_custom_app(domain, sorted(NEEDED_SCOPES), name="Katalog")
        account = f"lager-{variants}"
        key = stack.peakwms.seed_customer(account)
        credentials = PeakwmsShopifyCredentials(
            web_url=f"https://{domain}",
            access_token=token,
            api_secret=secret,
            peakwms_account=account,
            peakwms_api_key=key,
        )
        created = peakwms_onboarding.create_peakwms_connection(
            stack.operator, credentials=credentials, settings={"shop_name": "Katalog", "country": "DK"}
        )
        stack.shopify.seed_catalog(domain, variants, variants_per_product=3, stock=lambda i: (i * 7) % 50)
        spent: list[int] = []
        charge = stack.shopify.cost_amount

        def counted(shop: Any, requested: int, actual: int | None) -> dict[str, Any]:
            if actual is not None:  # answered (a throttled or refused call costs nothing)
                spent.append(actual)
            return charge(shop, requested, actual)

        stack.shopify.cost_amount = counted  # type: ignore[method-assign]
        shopify_before, throttled_before = stack.shopify.calls, stack.shopify.throttled_answers
        peakwms_before = stack.peakwms.calls
        peakwms_429_before = stack.peakwms.calls_by_status.get(429, 0)
        clock_before = stack.aws.clock.monotonic()
        guided_setup.run_step(stack.operator, created.connection_id, "fetch_products")
        stack.settle(execution_timeout=6 * 3600)
        progress = setup_progress.load(stack.table, created.connection_id, "fetch_products") or {}
        return Run(
            variants=variants,
            status=str(progress.get("status")),
            done=int(progress.get("done") or 0),
            total=int(progress.get("total") or 0),
            in_peakwms=len(stack.peakwms.products(account)),
            peakwms_calls=stack.peakwms.calls - peakwms_before,
            peakwms_throttled=stack.peakwms.calls_by_status.get(429, 0) - peakwms_429_before,
            shopify_calls=stack.shopify.calls - shopify_before,
            shopify_cost=sum(spent),
            shopify_throttled=stack.shopify.throttled_answers - throttled_before,
            virtual_minutes=(stack.aws.clock.monotonic() - clock_before) / 60,
            wall_seconds=time.perf_counter() - started,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=30_000)
    parser.add_argument("--small", type=int, default=300)
    args = parser.parse_args()
    with functions_log_file("peakwms-products") as log:
        runs = [fetch(args.small, seed=21), fetch(args.variants, seed=22)]

    def share(throttled: int, calls: int) -> str:
        return f"{throttled} = {throttled / max(1, calls):.2%}"

    rows: list[tuple[str, Any]] = [
        ("step", lambda r: f"{r.status}, {r.done:,}/{r.total:,}"),
        ("PeakWMS products", lambda r: f"{r.in_peakwms:,}"),
        ("PeakWMS calls", lambda r: f"{r.peakwms_calls:,}"),
        ("PeakWMS calls / variant", lambda r: f"{r.peakwms_calls / max(1, r.variants):.3f}"),
        (
            "PeakWMS 429 / calls",
            lambda r: share(r.peakwms_throttled, r.peakwms_calls),
        ),
        ("PeakWMS rate / allowed", lambda r: f"{r.peakwms_calls / max(1e-9, r.virtual_minutes) / PEAKWMS_LIMIT:.2f}"),
        ("Shopify calls", lambda r: f"{r.shopify_calls}"),
        ("Shopify cost (points)", lambda r: f"{r.shopify_cost:,}"),
        (
            "Shopify throttled / calls",
            lambda r: share(r.shopify_throttled, r.shopify_calls),
        ),
        ("virtual minutes", lambda r: f"{r.virtual_minutes:.1f}"),
        ("wall seconds", lambda r: f"{r.wall_seconds:.0f}"),
    ]
    small, big = runs
    print(f"fetch_products on the embedded stack: {small.variants:,} and {big.variants:,} variants (3 per product)")
    print(f"{'':28}{small.variants:>18,}{big.variants:>22,}")
    for label, shown in rows:
        print(f"{label:28}{shown(small):>18}{shown(big):>22}")
    print("targets: 429 and THROTTLED < 1 % in both systems; PeakWMS calls / variant ≈ 1; Shopify calls ≤ 10")
    print(f"the functions' logs: {log}")


if __name__ == "__main__":
    main()
