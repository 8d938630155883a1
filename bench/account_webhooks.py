"""One Rackbeat webhook per account (issue 18, Deliver 3): what one stock change costs with 2, 4 and 8 followers of
one Rackbeat account (shops, and a Shopbox café), before and after, side by side in one run.

- "before": as releases before issue 18 ran — each follower registered its own `product.stock_changed` webhook
  (`/webhooks/rackbeat/<connection id>`, `rackbeat_webhook_upkeep.register_per_connection`) and each stock push read
  the item from Rackbeat itself (the shared read switched off for the run);
- "after": the account's one webhook, fanned out by ingest to every follower, and one shared read.

Prints per changed item: Rackbeat webhooks received, Rackbeat item reads, and AWS requests (API Gateway, SQS billed,
DynamoDB read/write units) — then the virtual seconds from the change in Rackbeat (its webhook is sent at once) to
the stock at every follower, p50 / p99 over the changes (target ≤ 10 s p99), and whether every follower ended right.
Each change is made alone and the stack settled, so each is one push per follower (the stock-burst bench covers
bursts). The shops show Rackbeat's location L1, as the café's branch does, so all read the same shape.

Run: .venv/bin/python bench/account_webhooks.py [--changes 30] [--followers 2 4 8]
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from functions_log import functions_log_file

from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations import rackbeat_stock_reads, rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.operations import stack_access
from crossdock.store import connections
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.scenarios.shopbox_on_rackbeat import store_shopbox
from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator
from crossdock_local.sims.shopify.simulator import ShopifySimulator
from crossdock_local.stack import LocalStack

SKUS = ("AW-1", "AW-2", "AW-3")
STOCK_EVENT = "product.stock_changed"
READS = (("GET", "/products/{number}/locations"), ("GET", "/products/{number}"))
# Between changes (each is settled into its pushes first): short, so the run stays inside the reconciliation's
# 15-minute interval and its sweeps' reads are not counted as the changes'.
SPACING_SECONDS = 5.0
TARGET_P99_SECONDS = 10.0


@dataclass
class Writes:
    """When the targets' stock writes happened (virtual seconds): Shopify's inventorySetQuantities, Shopbox's
    product-inventories. The bench's instrumentation, recorded as the simulators answer."""

    at: list[float] = field(default_factory=list)

    @contextmanager
    def recorded(self, clock: Callable[[], float]) -> Iterator[None]:
        shopify_handle, shopbox_handle = ShopifySimulator._handle_locked, ShopboxSimulator._handle_locked

        def shopify(sim: Any, request: SimRequest) -> SimResponse:
            answer = shopify_handle(sim, request)
            if b"inventorySetQuantities" in request.body and answer.status == 200:
                self.at.append(clock())
            return answer

        def shopbox(sim: Any, request: SimRequest) -> SimResponse:
            answer = shopbox_handle(sim, request)
            if request.method == "POST" and request.path.endswith("/product-inventories") and answer.status < 300:
                self.at.append(clock())
            return answer

        with (
            mock.patch.object(ShopifySimulator, "handle", shopify),
            mock.patch.object(ShopboxSimulator, "_handle_locked", shopbox),
        ):
            yield


@dataclass(frozen=True)
class Cafe:
    client: int
    branch: int
    product: dict[str, int]  # item number → Shopbox product uid


_cafes = itertools.count(1)


def add_cafe(stack: LocalStack, account: int, api_key: str, *, per_connection: bool) -> Cafe:
    """A Shopbox connection on the account (one branch showing L1, the items bound), following its stock webhook
    as activation does — or registering its own, as releases before did."""
    stored = store_shopbox(
        stack,
        account,
        api_key,
        name=f"Bench café {next(_cafes)}",
        branches={"Strøget": ["Kasse 1"]},
        locations=["L1"],
        items={sku: sku for sku in SKUS},
    )
    connection, secrets, rackbeat = stored.connection, stored.secrets, stored.rackbeat
    client, branch, products = stored.client, stored.branches[0], stored.products
    if per_connection:
        rackbeat_webhook_upkeep.register_per_connection(connection.id, rackbeat, secrets, stack.base_url, [STOCK_EVENT])
    else:
        rackbeat_webhooks.register(connection, rackbeat, secrets, stack.base_url, stack.table)
    return Cafe(client, branch, products)


def as_before(stack: LocalStack, connection_ids: list[str], api_key: str) -> None:
    """The shops' webhooks as releases before registered them: the account's removed, one per connection."""
    rackbeat = RackbeatClient(f"{stack.base_url}/_sim/rackbeat/api/", api_key)
    secrets = stack_access.secret_store(stack.operator)
    for connection_id in connection_ids:
        connection = connections.load_connection(stack.table, connection_id)
        assert connection is not None
        own_webhooks.remove(rackbeat, rackbeat_webhook_upkeep.webhook_url(stack.base_url, connection))
        rackbeat_webhook_upkeep.register_per_connection(connection_id, rackbeat, secrets, stack.base_url, [STOCK_EVENT])


@contextmanager
def unshared_reads(enabled: bool) -> Iterator[None]:
    """Each push reads Rackbeat itself, as before issue 18 (for the "before" run only)."""
    if not enabled:
        yield
        return

    def read_alone(reader: Any, number: str, shape: Any, changed_at: float, table: Any, now: Any, read: Any) -> Any:
        return read()

    with mock.patch.object(rackbeat_stock_reads.AccountStockReader, "_shared", read_alone):
        yield


def _sqs_billed(usage: dict[str, Any]) -> int:
    return sum(sum(queue["billed"].values()) for queue in usage["sqs"].values())


def _table_units(usage: dict[str, Any]) -> tuple[float, float]:
    tables = usage["dynamodb"].values()
    return sum(t["read_units"] for t in tables), sum(t["write_units"] for t in tables)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def run(followers: int, changes: int, before: bool) -> dict[str, Any]:
    """`followers` on one Rackbeat account: one Shopbox café and `followers - 1` shops."""
    with LocalStack(seed=5) as stack:
        # From the start, as bench/cost_run.py does (the meter learns the table's shape outside any function's role);
        # the harness's own table reads are not the stack's work.
        stack.aws.meter_request_units()
        stack.aws.exclude_from_usage(stack.table.meta.client)
        settings = {**demo_settings(), "stock_sync": {"enabled": True, "quantity": "in_stock"}}
        first = stack.create_connection(settings, shop_domain="aw-0.myshopify.com")
        shops = [first] + [
            stack.create_connection(settings, shop_domain=f"aw-{n}.myshopify.com", rackbeat_account=first)
            for n in range(1, followers - 1)
        ]
        account = first.rackbeat_account_id
        stack.seed_items(account, list(SKUS), stock=100)
        for shop in shops:
            for sku in SKUS:
                stack.shopify.create_product(
                    shop.shop_domain,
                    {"title": sku, "variants": [{"sku": sku, "price": "10.00", "inventory_quantity": 100}]},
                    emit=False,
                )
        if before:
            as_before(stack, [shop.connection_id for shop in shops], first.rackbeat_api_key)
        cafe = add_cafe(stack, account, first.rackbeat_api_key, per_connection=before)
        stack.settle()
        hooks = [h for h in stack.rackbeat.state(account).webhooks.values() if h["event"] == STOCK_EVENT]
        received = 0
        sink = stack.rackbeat.webhook_sink
        assert sink is not None

        def counting_sink(url: str, headers: dict[str, str], body: bytes) -> int:
            nonlocal received
            received += 1
            return sink(url, headers, body)

        stack.rackbeat.webhook_sink = counting_sink
        usage_before = stack.aws.usage()
        reads_before = sum(stack.rackbeat.calls_by_route[route] for route in READS)
        rng = random.Random(11)
        writes = Writes()
        latencies: list[float] = []
        clock = stack.aws.clock.monotonic
        changed: set[str] = set()
        with writes.recorded(clock), unshared_reads(before):
            for _ in range(changes):
                stack.aws.clock.advance(SPACING_SECONDS)
                seen = len(writes.at)
                changed_at = clock()
                sku = rng.choice(SKUS)
                changed.add(sku)
                stack.rackbeat.set_stock(account, sku, rng.randrange(0, 500), "L1")
                stack.settle()
                landed = writes.at[seen:]
                # Every follower wrote once (a shop one mutation, the café one write per branch: one branch).
                assert len(landed) == followers, (len(landed), followers)
                latencies.append(max(landed) - changed_at)
        usage = stack.aws.usage()
        read_units, write_units = _table_units(usage)
        read_before, write_before = _table_units(usage_before)
        wrong = sum(
            int(level["on_hand"]) != int(stack.rackbeat.product_stock(account, sku, "L1"))
            for shop in shops
            for sku in sorted(changed)
            for level in stack.shopify.inventory(shop.shop_domain, sku)
        ) + sum(
            stack.shopbox.stock(cafe.client, cafe.branch, cafe.product[sku])
            != int(stack.rackbeat.product_stock(account, sku, "L1"))
            for sku in sorted(changed)
        )
        return {
            "hooks": len(hooks),
            "webhooks": received / changes,
            "reads": (sum(stack.rackbeat.calls_by_route[route] for route in READS) - reads_before) / changes,
            "api": (usage["api_requests"] - usage_before["api_requests"]) / changes,
            "sqs": (_sqs_billed(usage) - _sqs_billed(usage_before)) / changes,
            "rru": (read_units - read_before) / changes,
            "wru": (write_units - write_before) / changes,
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "wrong": wrong,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--followers", type=int, nargs="+", default=[2, 4, 8])
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{args.changes} stock changes, one at a time, per run; followers = 1 Shopbox café + shops on one account")
    print(
        f"{'followers':>9} {'run':>6} {'hooks':>5} {'webhooks/chg':>12} {'reads/chg':>9} {'API GW/chg':>10} "
        f"{'SQS/chg':>7} {'RRU/chg':>7} {'WRU/chg':>7} {'p50 s':>6} {'p99 s':>6} {'wrong':>5}"
    )
    with functions_log_file("account-webhooks") as log:  # the functions' stdout goes there, not here
        runs = {
            followers: {label: run(followers, args.changes, label == "before") for label in ("before", "after")}
            for followers in args.followers
        }
    for followers, results in runs.items():
        for label, r in results.items():
            print(
                f"{followers:>9} {label:>6} {r['hooks']:>5} {r['webhooks']:>12.2f} {r['reads']:>9.2f} "
                f"{r['api']:>10.2f} {r['sqs']:>7.2f} {r['rru']:>7.1f} {r['wru']:>7.1f} "
                f"{r['p50']:>6.1f} {r['p99']:>6.1f} {r['wrong']:>5}"
            )
        b, a = results["before"], results["after"]
        print(
            f"{followers:>9} after/before: webhooks {a['webhooks'] / b['webhooks']:.2f}, reads "
            f"{a['reads'] / b['reads']:.2f}, API Gateway {a['api'] / b['api']:.2f}, SQS {a['sqs'] / b['sqs']:.2f}, "
            f"DynamoDB RRU {a['rru'] / b['rru']:.2f} WRU {a['wru'] / b['wru']:.2f}; stock at every follower "
            f"p99 {a['p99']:.1f} s (target ≤ {TARGET_P99_SECONDS:.0f} s: "
            f"{'met' if a['p99'] <= TARGET_P99_SECONDS else 'MISSED'})"
        )
    print(f"{time.perf_counter() - started:.0f} s")
    print(f"the functions' logs: {log}")


if __name__ == "__main__":
    main()
