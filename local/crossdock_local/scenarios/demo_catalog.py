"""The catalog half of `crossdock demo`: products and stock from Rackbeat to two shops, and an initial sync.

- The merchant creates the demo items in Rackbeat (through Rackbeat's API, so Rackbeat sends its webhooks) and
  counts their stock; both shops connected to the Rackbeat account get the products and quantities.
- The orders of the main demo then ship in Rackbeat, drawing stock; both shops follow.
- A third shop with an existing catalog is connected to a new Rackbeat account with `initial_sync = enabled`:
  its catalog and stock arrive in Rackbeat through one bulk export.

The audit compares the simulators' own state: every item is one variant in each shop, priced as in Rackbeat (VAT
added), holding Rackbeat's available quantity; the initial sync created every distinct SKU with its stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.stack import LocalConnection, LocalStack

PRODUCT_GROUP = 10
OUTLET_DOMAIN = "acme-outlet.myshopify.com"
CATALOG_DOMAIN = "nordic-outdoor.myshopify.com"
INITIAL_SYNC_VARIANTS = 3000


def catalog_settings() -> dict[str, Any]:
    return {
        "product_sync": {"master": "rackbeat", "default_product_group": PRODUCT_GROUP, "prices_exclude_vat": True},
        "stock_sync": {"enabled": True, "quantity": "available"},
    }


@dataclass
class CatalogAudit:
    shops: int = 0
    items: int = 0
    products_wrong: list[str] = field(default_factory=list)
    stock_wrong: list[str] = field(default_factory=list)
    stock_mutations: int = 0
    initial_sync: dict[str, Any] = field(default_factory=dict)
    initial_sync_wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.products_wrong
            and not self.stock_wrong
            and not self.initial_sync_wrong
            and self.initial_sync.get("status") == "done"
        )


def seed_reference_data(rackbeat: RackbeatSimulator, account: int) -> None:
    """What the catalog settings name, in the Rackbeat account before the connection is created (`connections
    create` looks every reference up): the product group the items are in."""
    rackbeat.seed_product_group(account, PRODUCT_GROUP, "Webshop")


def publish_catalog(stack: LocalStack, connection: LocalConnection, skus: list[str], stock: int) -> None:
    """The merchant creates the items in Rackbeat and counts their stock at L1 (each sends Rackbeat's webhook)."""
    account = connection.rackbeat_account_id
    with httpx.Client(
        base_url=f"{stack.base_url}/_sim/rackbeat/api/",
        headers={"Authorization": f"Bearer {connection.rackbeat_api_key}"},
        timeout=10,
    ) as rackbeat:
        for index, sku in enumerate(skus):
            body = {
                "number": sku,
                "name": f"Vare {sku}",
                "sales_price": str(Decimal(80 + index * 4)),
                "group": {"number": PRODUCT_GROUP},
                "barcode": f"57000000{index:05d}",
            }
            rackbeat.post("products", json=body).raise_for_status()
    for sku in skus:
        stack.rackbeat.set_stock(account, sku, stock, "L1")


def audit_shops(stack: LocalStack, connections: list[LocalConnection], skus: list[str], result: CatalogAudit) -> None:
    account = connections[0].rackbeat_account_id
    products = stack.rackbeat.state(account).products
    result.shops, result.items = len(connections), len(skus)
    for connection in connections:
        domain = connection.shop_domain
        variants = {
            v["sku"]: (p, v) for p in stack.shopify.products(domain) for v in p["variants"] if v.get("sku") in skus
        }
        for sku in skus:
            if sku not in variants:
                result.products_wrong.append(f"{domain} {sku}: missing")
                continue
            expected_price = (Decimal(str(products[sku]["sales_price"])) * Decimal("1.25")).quantize(Decimal("0.01"))
            if Decimal(variants[sku][1]["price"]) != expected_price:
                result.products_wrong.append(f"{domain} {sku}: price {variants[sku][1]['price']} ≠ {expected_price}")
            expected = int(stack.rackbeat.product_stock(account, sku, "L1"))
            shown = [int(level["available"]) for level in stack.shopify.inventory(domain, sku)]
            if shown != [expected]:
                result.stock_wrong.append(f"{domain} {sku}: shop {shown} ≠ Rackbeat {expected}")
    result.stock_mutations = stack.shopify.mutation_count("inventorySetQuantities")


def run_initial_sync(stack: LocalStack, settings: dict[str, Any], result: CatalogAudit) -> None:
    """A shop with 3,000 variants (some without SKU, some sharing one) joins a new Rackbeat account."""
    connection = stack.create_connection(
        {**settings, "initial_sync": "enabled", "product_sync": {"master": "none", "default_product_group": 1}},
        shop_domain=CATALOG_DOMAIN,
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 1, "Import"),
    )

    def sku(index: int) -> str | None:
        return None if index % 97 == 13 else f"NO-{index % 2990:05d}"  # a few without SKU, ten SKUs used twice

    def stock(index: int) -> int:
        return (index * 7) % 40

    stack.shopify.seed_catalog(CATALOG_DOMAIN, INITIAL_SYNC_VARIANTS, variants_per_product=3, stock=stock, sku=sku)
    stack.start_initial_sync(connection)
    stack.settle(execution_timeout=600)
    result.initial_sync = stack.initial_sync_progress(connection) or {}
    expected: dict[str, int] = {}
    for index in range(INITIAL_SYNC_VARIANTS):
        number = sku(index)
        if number and number not in expected:
            expected[number] = stock(index)
    account = connection.rackbeat_account_id
    items = stack.rackbeat.state(account).products
    for number, quantity in expected.items():
        if number not in items:
            result.initial_sync_wrong.append(f"{number}: missing in Rackbeat")
        elif stack.rackbeat.product_stock(account, number, "L1") != quantity:
            result.initial_sync_wrong.append(f"{number}: stock {stack.rackbeat.product_stock(account, number, 'L1')}")
    if result.initial_sync.get("created") != len(expected):
        result.initial_sync_wrong.append(f"created {result.initial_sync.get('created')} ≠ {len(expected)} SKUs")


def render(result: CatalogAudit) -> list[tuple[str, str]]:
    sync = result.initial_sync
    return [
        ("catalog: items × shops", f"{result.items} × {result.shops}"),
        ("  products wrong / stock wrong", f"{len(result.products_wrong)} / {len(result.stock_wrong)}"),
        ("  stock mutations (all shops)", str(result.stock_mutations)),
        ("initial sync", f"{sync.get('status')}: {sync.get('done')} / {sync.get('total')} variants"),
        (
            "  created / already there / skipped",
            f"{sync.get('created')} / {sync.get('existing')} / {sync.get('skipped')}",
        ),
        ("  items or stock wrong", str(len(result.initial_sync_wrong))),
    ]


def problems(result: CatalogAudit) -> list[str]:
    return [*result.products_wrong, *result.stock_wrong, *result.initial_sync_wrong][:10]
