"""The demo's Shopbox part: a café with two branches on the demo's Rackbeat account, its till sales polled into
Rackbeat, then an audit printed beside the Shopify one.

The client is onboarded as production onboards it (`crossdock.operations.onboarding.create_shopbox_connection`:
the Rackbeat key and the Shopbox login tested, the settings checked, the secrets stored), with a location map (each
branch draws from its own Rackbeat location), a category map and products flowing from Rackbeat
(`product_sync: rackbeat`). Sales are rung up at both tills with the simulator's `sell_varied`, and the
`sales#baskets` stream runs on the virtual clock every `poll_minutes`, as its schedule would; then a Rackbeat user
renames one item and reprices another (their webhooks push them to Shopbox), and a few transferred sales are
cancelled at the till. The audit reads the simulators' state, not Crossdock's: every basket once in Rackbeat, at the
target, with the basket's total; every cancelled basket's order credited once (a booked credit note of its
invoice); each Shopbox product's name, SKU and price (øre incl. VAT) those of its Rackbeat item, as the product
direction says; and per branch, Shopbox's count of each product equal to its Rackbeat location's. The demo runs no
Shopbox initial sync (the Shopify part's initial sync has its own counts), so there are no initial-sync counts here.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.rackbeat_shopbox.cancellation import credit_reference
from crossdock.integrations.rackbeat_shopbox.catalog_mapping import shopbox_price
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopbox.sales_order import basket_reference
from crossdock.integrations.rackbeat_shopbox.sales_stream import STREAM
from crossdock.operations import onboarding
from crossdock.store import events
from crossdock_local.stack import LocalConnection, LocalStack

USERNAME = "ejer@kaffebaren.dk"
PASSWORD = "kaffe-og-kage-2026"  # the simulator's login, made up for the demo
POS_CUSTOMER = 900
BRANCHES = {"Strøget": ("L1", "Kasse 1"), "Aarhus C": ("L2", "Kasse 1")}  # branch → (Rackbeat location, register)
TARGET = "invoiced_and_shipped"
POLL_MINUTES = 5
STOCK_PER_BRANCH = 500
UID_FIELD, VARIANT_FIELD = 71, 72  # the Rackbeat custom item fields holding the Shopbox UIDs (SPEC §2)
PRODUCT_SYNC = "rackbeat"  # products flow from Rackbeat: Shopbox is audited against it
ADD_VAT = True
CANCELLED_SALES = 3  # transferred sales cancelled at the till afterwards

StageOf = Callable[[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None], str]


@dataclass
class ShopboxAudit:
    """What the Shopbox part produced, checked against what Shopbox holds."""

    branches: int = 0
    sales: int = 0
    polls: int = 0
    rackbeat_orders: int = 0
    per_branch: Counter[str] = field(default_factory=Counter)
    per_stage: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong_stage: list[str] = field(default_factory=list)
    wrong_location: list[str] = field(default_factory=list)
    total_mismatch: list[str] = field(default_factory=list)
    stock_compared: int = 0
    stock_wrong: list[str] = field(default_factory=list)
    products_changed: int = 0  # items a Rackbeat user changed during the run
    products_compared: int = 0
    products_wrong: list[str] = field(default_factory=list)
    cancelled: int = 0
    credited: int = 0
    cancel_wrong: list[str] = field(default_factory=list)
    needs_attention: Counter[str] = field(default_factory=Counter)
    shopbox_calls: int = 0
    wall_seconds: float = 0.0  # the Shopbox part alone

    @property
    def problems(self) -> list[str]:
        found = [
            *(f"missing: {x}" for x in self.missing),
            *(f"duplicated: {x}" for x in self.duplicated),
            *(f"wrong stage: {x}" for x in self.wrong_stage),
            *(f"wrong location: {x}" for x in self.wrong_location),
            *(f"total mismatch: {x}" for x in self.total_mismatch),
            *(f"stock: {x}" for x in self.stock_wrong),
            *(f"product: {x}" for x in self.products_wrong),
            *(f"cancellation: {x}" for x in self.cancel_wrong),
            *(f"needs attention: {reason} ×{n}" for reason, n in self.needs_attention.items()),
        ]
        return found

    @property
    def ok(self) -> bool:
        # A run without cancellations (the bench, the chaos run) has none to credit.
        return (
            self.sales > 0
            and not self.problems
            and self.rackbeat_orders == self.sales
            and self.credited == self.cancelled
        )


@dataclass
class Cafe:
    """The Shopbox client as the demo set it up: its connection, branches and the products it sells."""

    connection_id: str
    client: int
    account: int
    branches: dict[int, str]  # branch uid → its Rackbeat location
    products: dict[int, str]  # Shopbox product uid → Rackbeat item number (its SKU)
    api_key: str  # the Rackbeat account's, for a Rackbeat user's changes through the API
    cancelled: list[str] = field(default_factory=list)  # basket uids cancelled at the till


def set_up(stack: LocalStack, account: int, api_key: str, skus: list[str], group: int) -> Cafe:
    """A Shopbox client on the Rackbeat `account` (whose key is `api_key`): two branches with a till each, a tag
    mapped to `group`, the items of `skus` as Shopbox products at their Rackbeat price with VAT, counted alike in
    Shopbox and Rackbeat; then the connection, through the operator's onboarding."""
    sim = stack.rackbeat
    sim.seed_location(account, "L2", "Butik Aarhus")
    sim.seed_customer(account, POS_CUSTOMER, "Butikssalg")
    sim.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    sim.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    seeded = stack.shopbox.seed_client(
        "Kaffebaren ApS",
        username=USERNAME,
        password=PASSWORD,
        branches={name: [register] for name, (_, register) in BRANCHES.items()},
        tags=["Kaffe"],
    )
    client = int(seeded["uid"])
    tag = int(seeded["tags"][0]["id"])
    branches = {int(b["uid"]): BRANCHES[b["name"]][0] for b in seeded["branches"]}
    products: dict[int, str] = {}
    items = sim.state(account).products
    for sku in skus:
        # The two catalogues agree at the start (the merchant had kept them alike): Rackbeat's name, and its price
        # without VAT as the till price with VAT.
        price = shopbox_price(Decimal(str(items[sku]["sales_price"])), ADD_VAT)
        body = {"uid": None, "name": items[sku]["name"], "selling_price": price, "sku_code": sku, "tag": tag}
        product = stack.shopbox.upsert_product(client, body)
        products[int(product["uid"])] = sku
        # The merchant's own link of item and product: a stock push finds the Shopbox product by it.
        sim.set_field_value(account, sku, UID_FIELD, str(product["uid"]), emit=False)
        for branch, location in branches.items():
            sim.set_stock(account, sku, STOCK_PER_BRANCH, location)
            stack.shopbox.set_stock(client, branch, int(product["uid"]), STOCK_PER_BRANCH)
    created = onboarding.create_shopbox_connection(
        stack.operator,
        rackbeat_api_key=api_key,
        shopbox=ShopboxCredentials(username=USERNAME, password=PASSWORD),
        settings={
            "uid_field_id": str(UID_FIELD),
            "variant_field_id": str(VARIANT_FIELD),
            "locations": {str(branch): location for branch, location in branches.items()},
            "categories": {str(tag): group},
            "default_category_group": group,
            "product_sync": PRODUCT_SYNC,
            "add_vat": ADD_VAT,
            "sales": {"customer_number": POS_CUSTOMER, "poll_minutes": POLL_MINUTES, "rackbeat_status": TARGET},
        },
    )
    if created.state != "active":
        raise RuntimeError(f"the Shopbox connection is {created.state}: {created.missing_references}")
    stack.settle()
    return Cafe(created.connection_id, client, account, branches, products, api_key)


def poll(stack: LocalStack, cafe: Cafe, advance_seconds: float = POLL_MINUTES * 60) -> dict[str, Any]:
    """One run of the sales stream `poll_minutes` on (as its schedule would), and what it queued worked off."""
    stack.aws.clock.advance(advance_seconds)
    result = stack.aws.invoke("PollFunction", poll_event(cafe.connection_id, STREAM))
    if result.error is not None:
        raise RuntimeError(f"the Shopbox sales poll failed: {result.error}")
    stack.settle()
    payload: dict[str, Any] = result.payload
    return payload


def run_sales(stack: LocalStack, cafe: Cafe, sales: int, rounds: int = 4) -> int:
    """`sales` varied sales at both tills, spread over `rounds` poll intervals, then one more run for the last."""
    polls = 0
    for n in range(rounds):
        stack.shopbox.sell_varied(cafe.client, sales // rounds + (n < sales % rounds))
        poll(stack, cafe)
        polls += 1
    poll(stack, cafe)
    return polls + 1


def change_products(stack: LocalStack, cafe: Cafe) -> int:
    """A Rackbeat user renames the first item and raises the second's price by 10.00, through Rackbeat's API (its
    `product.updated` webhooks reach the connection, the pushes run on the Shopbox queue)."""
    rackbeat = RackbeatClient(f"{stack.base_url}/_sim/rackbeat/api/", cafe.api_key)
    first, second = sorted(cafe.products.values())[:2]
    items = stack.rackbeat.state(cafe.account).products
    rackbeat.put(f"products/{first}", {"name": f"{items[first]['name']} (ny)"})
    raised = Decimal(str(items[second]["sales_price"])) + 10
    rackbeat.put(f"products/{second}", {"sales_price": str(raised)})
    stack.settle()
    return 2


def cancel_sales(stack: LocalStack, cafe: Cafe, count: int = CANCELLED_SALES) -> list[str]:
    """`count` sales already in Rackbeat, spread over the day's baskets, cancelled at the till; the stream's next
    run sends them on."""
    baskets = [str(b["uid"]) for b in stack.shopbox.baskets(cafe.client) if not b["canceled"]]
    chosen = baskets[:: max(1, len(baskets) // count)][:count]
    for uid in chosen:
        stack.shopbox.cancel_basket(int(uid))
    poll(stack, cafe)
    cafe.cancelled = chosen
    return chosen


def audit(stack: LocalStack, cafe: Cafe, stage_of: StageOf, result: ShopboxAudit) -> ShopboxAudit:
    state = stack.rackbeat.state(cafe.account)
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for order in state.orders.values():
        by_reference.setdefault(str(order.get("other_reference", "")), []).append(order)
    baskets = stack.shopbox.baskets(cafe.client)
    result.branches = len(cafe.branches)
    result.sales = len(baskets)
    for basket in baskets:
        reference = basket_reference(str(basket["uid"]), str(cafe.client))
        found = by_reference.get(reference, [])
        result.per_branch[cafe.branches[int(basket["branch"])]] += 1
        if not found:
            result.missing.append(reference)
            continue
        result.rackbeat_orders += 1
        if len(found) > 1:
            result.duplicated.append(reference)
        _audit_order(result, state, found[0], basket, cafe, stage_of)
    _audit_cancellations(result, state, by_reference, cafe)
    _audit_products(result, stack, cafe)
    for branch, location in cafe.branches.items():
        for product, sku in cafe.products.items():
            result.stock_compared += 1
            shopbox = stack.shopbox.stock(cafe.client, branch, product)
            rackbeat = stack.rackbeat.product_stock(cafe.account, sku, location)
            if Decimal(shopbox) != rackbeat:
                result.stock_wrong.append(f"{sku} at {location}: Shopbox {shopbox}, Rackbeat {rackbeat}")
    for event in events.list_events(stack.table, cafe.connection_id):
        if event["status"] == "needs_attention":
            result.needs_attention[str(event.get("reason", ""))[:110]] += 1
    result.shopbox_calls = sum(stack.shopbox.calls_by_route.values())
    return result


def _audit_cancellations(
    result: ShopboxAudit, state: Any, by_reference: dict[str, list[dict[str, Any]]], cafe: Cafe
) -> None:
    """Each basket cancelled after its transfer: its invoiced order credited by one booked credit note of the
    whole order, under the cancellation's reference."""
    result.cancelled = len(cafe.cancelled)
    for uid in cafe.cancelled:
        orders = by_reference.get(basket_reference(uid, str(cafe.client)), [])
        if not orders:
            result.cancel_wrong.append(f"basket {uid}: no Rackbeat order")
            continue
        order = orders[0]
        reference = credit_reference(uid, int(order["number"]))
        notes = [n for n in state.credit_notes.values() if n.get("other_reference") == reference]
        if len(notes) != 1 or not notes[0].get("is_booked"):
            result.cancel_wrong.append(f"basket {uid}: {len(notes)} credit notes for order {order['number']}")
        elif Decimal(str(notes[0]["total"])) != Decimal(str(order["total"])):
            result.cancel_wrong.append(f"basket {uid}: credited {notes[0]['total']} of {order['total']}")
        else:
            result.credited += 1


def _audit_products(result: ShopboxAudit, stack: LocalStack, cafe: Cafe) -> None:
    """With products flowing from Rackbeat, each Shopbox product says what its Rackbeat item says: name, SKU and
    price (øre incl. VAT, as `add_vat` reads Rackbeat's)."""
    items = stack.rackbeat.state(cafe.account).products
    products = stack.shopbox.client(cafe.client).products
    for uid, sku in sorted(cafe.products.items()):
        result.products_compared += 1
        item, product = items[sku], products[uid]
        wanted = (item["name"], sku, shopbox_price(Decimal(str(item["sales_price"])), ADD_VAT))
        shown = (product["name"], product.get("sku_code"), product["selling_price"])
        if shown != wanted:
            result.products_wrong.append(f"{sku}: Shopbox {shown}, Rackbeat {wanted}")


def _audit_order(
    result: ShopboxAudit, state: Any, order: dict[str, Any], basket: dict[str, Any], cafe: Cafe, stage_of: StageOf
) -> None:
    reference = str(order.get("other_reference"))
    shipments = [s for s in state.shipments.values() if s.get("order_number") == order["number"]]
    invoices = [i for i in state.invoices.values() if i.get("order_number") == order["number"]]
    stage = stage_of(order, shipments, invoices[0] if invoices else None)
    result.per_stage[stage] += 1
    if stage != TARGET:
        result.wrong_stage.append(f"{reference}: {stage}")
    location = cafe.branches[int(basket["branch"])]
    if any(line.get("location_id") != location for line in order.get("lines", [])):
        result.wrong_location.append(f"{reference}: not all lines from {location}")
    total = Decimal(int(basket["total"])) / 100
    if Decimal(str(order["total"])) != total:
        result.total_mismatch.append(f"{reference}: Rackbeat {order['total']} vs Shopbox {total}")


def run(
    stack: LocalStack, rackbeat: LocalConnection, skus: list[str], group: int, sales: int, stage_of: StageOf
) -> ShopboxAudit:
    """The whole Shopbox part on the demo's running stack."""
    started = time.perf_counter()
    cafe = set_up(stack, rackbeat.rackbeat_account_id, rackbeat.rackbeat_api_key, skus, group)
    result = ShopboxAudit()
    result.polls = run_sales(stack, cafe, sales)
    result.products_changed = change_products(stack, cafe)
    cancel_sales(stack, cafe)
    result.polls += 1
    audit(stack, cafe, stage_of, result)
    result.wall_seconds = time.perf_counter() - started
    return result


def render(result: ShopboxAudit) -> list[tuple[str, str]]:
    return [
        ("shopbox: branches / sales rung up", f"{result.branches} / {result.sales}"),
        ("  sales per location", ", ".join(f"{k} {v}" for k, v in sorted(result.per_branch.items()))),
        ("  poll runs / Rackbeat orders", f"{result.polls} / {result.rackbeat_orders}"),
        *[(f"  at stage {stage}", str(n)) for stage, n in sorted(result.per_stage.items())],
        (
            "  missing / duplicated / wrong stage",
            f"{len(result.missing)} / {len(result.duplicated)} / {len(result.wrong_stage)}",
        ),
        ("  wrong location / total mismatch", f"{len(result.wrong_location)} / {len(result.total_mismatch)}"),
        ("  cancelled at the till / credited", f"{result.cancelled} / {result.credited}"),
        (
            "  products changed in Rackbeat / compared / wrong",
            f"{result.products_changed} / {result.products_compared} / {len(result.products_wrong)}",
        ),
        ("  stock compared / wrong", f"{result.stock_compared} / {len(result.stock_wrong)}"),
        ("  needs attention", str(sum(result.needs_attention.values()))),
        ("  API calls: shopbox", str(result.shopbox_calls)),
        ("  wall time of the Shopbox part", f"{result.wall_seconds:.1f} s"),
    ]
