"""Initial sync `shopbox_to_rackbeat` of a 10,000-variant Shopbox catalogue into Rackbeat (issue 14 item 3), on the
embedded stack with the Shopbox and Rackbeat simulators.

Prints, side by side from one run:
- Rackbeat calls per item: a create, one or two custom field values (the product's UID, the variant's), and each
  chunk's stock as one adjustment made and booked (Rackbeat takes custom field values one call each, so about 3 is
  the floor for a variant);
- the share of Rackbeat's rate limit used: the achieved call rate over the allowed one, on the stack's clock, with
  the simulator's limit scaled up (default ×10 = 4,800/min) so the run stays short — the sync itself never waits
  for anything but Rackbeat's pace;
- Rackbeat 429 answers / calls, and the Shopbox calls that read the catalogue and the stock of both branches.

Run: .venv/bin/python bench/shopbox_initial_sync.py [--variants 10000] [--scale 10]
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from functions_log import functions_log_file

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.secret_names import SHOPBOX_API_TOKEN
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.operations import initial_sync, stack_access
from crossdock.store import connections
from crossdock_local.stack import LocalStack

RACKBEAT_LIMIT = 480  # calls per minute per token (reference/rackbeat.md)
SIZES = (("Small", 3500), ("Medium", 4000), ("Large", 4500))
UID_FIELD, VARIANT_FIELD = 91, 92


def seed_catalogue(stack: LocalStack, client: int, branches: list[int], variants: int, tag: int) -> None:
    """Products of three sizes (stock per size at both branches) until `variants` are made."""
    made = 0
    while made < variants:
        index = made // len(SIZES)
        sizes = [
            {"name": size, "sku_code": f"SB-{index:05d}-{size[0]}", "selling_price": price}
            for size, price in SIZES[: min(len(SIZES), variants - made)]
        ]
        product = stack.shopbox.upsert_product(
            client,
            {"uid": None, "name": f"Vare {index}", "tag": tag, "inventory_on_variants": True, "variants": sizes},
        )
        for position, variance in enumerate(product["product_variances"]):
            for branch, share in zip(branches, (1, 2), strict=True):
                quantity = (index * 7 + position * share) % 40
                if quantity:
                    stack.shopbox.set_stock(client, branch, int(product["uid"]), quantity, int(variance["uid"]))
        made += len(sizes)


def connect(stack: LocalStack, account: int, api_key: str, client: int, settings: dict[str, Any]) -> str:
    """The connection stored active with its secrets encrypted, as onboarding leaves it, holding a Shopbox API token
    (it never expires: the run measures the sync, not login refreshes)."""
    connection = RackbeatShopboxConnection(
        id=str(uuid.uuid4()),
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=account, api_base=f"{stack.base_url}/_sim/rackbeat/api/"),
            shopbox=ShopboxAccount(api_base=stack.shopbox_api, client_uid=str(client)),
        ),
        settings=RackbeatShopboxSettings.model_validate(settings),
    )
    connections.save_connection(stack.table, connection)
    secrets = stack_access.secret_store(stack.operator)
    secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    secrets.put(connection.id, SHOPBOX_API_TOKEN, stack.shopbox.add_api_token(client))
    return connection.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=10, help="multiplies Rackbeat's 480 calls/minute")
    args = parser.parse_args()
    limit = RACKBEAT_LIMIT * args.scale
    with functions_log_file("shopbox-initial-sync") as log:
        started = time.perf_counter()
        # Paced at 99 % of the limit: the import runs alone here, with no sales to leave room for.
        with LocalStack(rackbeat_rate_limit=limit, rackbeat_pace=0.99, seed=5) as stack:
            account, api_key = stack.new_rackbeat_account()
            stack.rackbeat.seed_location(account, "L2", "Butik Aarhus")
            stack.rackbeat.seed_customer(account, 900, "Butikssalg")
            stack.rackbeat.seed_product_group(account, 1, "Varer m/lagerstrekk")
            stack.rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
            stack.rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
            seeded = stack.shopbox.seed_client(
                "Storkatalog ApS",
                branches={"København": ["Kasse 1"], "Aarhus": ["Kasse 1"]},
                tags=["Varer"],
            )
            client, branches = int(seeded["uid"]), [int(b["uid"]) for b in seeded["branches"]]
            seed_catalogue(stack, client, branches, args.variants, int(seeded["tags"][0]["id"]))
            connection_id = connect(
                stack,
                account,
                api_key,
                client,
                {
                    "initial_sync": "shopbox_to_rackbeat",
                    "uid_field_id": str(UID_FIELD),
                    "variant_field_id": str(VARIANT_FIELD),
                    "locations": {str(branches[0]): "L1", str(branches[1]): "L2"},
                    "default_category_group": 1,
                    "sales": {"customer_number": 900},
                },
            )
            shopbox_before, rackbeat_before = stack.shopbox.calls, stack.rackbeat.calls
            throttled_before = stack.rackbeat.calls_by_status.get(429, 0)
            clock_before = stack.aws.clock.monotonic()
            initial_sync.start_initial_sync(stack.operator, connection_id)
            stack.settle(execution_timeout=3600)
            clock_seconds = stack.aws.clock.monotonic() - clock_before
            progress = initial_sync.initial_sync_progress(stack.operator, connection_id)
            shopbox_calls = stack.shopbox.calls - shopbox_before
            rackbeat_calls = stack.rackbeat.calls - rackbeat_before
            throttled = stack.rackbeat.calls_by_status.get(429, 0) - throttled_before
            items = sum(1 for number in stack.rackbeat.state(account).products if number.startswith("SB-"))
            shopbox_rate = stack.shopbox.rules.requests_per_second
    placed = progress.created + progress.existing
    rate = rackbeat_calls / max(clock_seconds / 60, 1e-9)
    print(
        f"initial sync of {args.variants:,} Shopbox variants: {progress.status}, {progress.done:,}/{progress.total}"
        f" done, {progress.created:,} items created ({items:,} in Rackbeat), {progress.skipped} not synced"
    )
    print(f"Shopbox calls (catalogue + stock):  {shopbox_calls:,}")
    print(
        f"Rackbeat calls per item:            {rackbeat_calls:,} / {placed:,} = {rackbeat_calls / max(1, placed):.3f}"
        " (create + 2 field values + the chunk's adjustment: ≈ 3)"
    )
    print(
        f"share of Rackbeat's rate limit used: {rate:,.0f} / {limit:,} per minute = {rate / limit:.2f} (target ≥ 0.9)"
    )
    # Estimated, not timed: the catalogue read's Shopbox calls at Shopbox's own limit, while Rackbeat is not called.
    reading = shopbox_calls / shopbox_rate
    importing = rackbeat_calls / max((clock_seconds - reading) / 60, 1e-9)
    print(
        f"  while importing (about {reading:.0f} s of reading Shopbox at {shopbox_rate}/s left out): "
        f"{importing / limit:.2f}"
    )
    print(
        f"Rackbeat 429 / calls:               {throttled} / {rackbeat_calls:,} = "
        f"{throttled / max(1, rackbeat_calls):.2%} (target < 1 %)"
    )
    print(f"stack clock {clock_seconds / 60:.1f} min, wall {time.perf_counter() - started:.0f} s")
    print(f"the functions' logs: {log}")


if __name__ == "__main__":
    main()
