"""The PeakWMS part of `crossdock demo`: a PeakWMS warehouse connected to a new demo shop (issue 16).

The merchant makes a custom app in the shop `acme-lager-dk` (its Admin API token with the scopes this kind needs,
its API secret) and connects it to the PeakWMS customer `acme-lager` as production does
(`crossdock.operations.peakwms_onboarding`: test connection on both sides, then the connection stored). The
guided setup runs step by step through its workflow (`crossdock.operations.guided_setup`), each step's progress
printed as `crossdock setup run --wait` prints it; between the catalogue and the stock step the warehouse counts
its first goods in, so step 4 has stock to give the shop. Then:

- the shop takes orders whose payment is only authorised at checkout (captured when PeakWMS packs); some ask for
  more than the warehouse holds, so PeakWMS takes them on hold (OnHold, NoStock);
- goods arrive (`receive_stock`): every held order is released, and each stock message sets the shop's available;
- the warehouse packs every order, one of them in two pick orders (two parcels, two trackings), and ships them;
- a stock count corrects a few shelves; PeakWMS refunds part of one order.

The audit reads both simulators, not Crossdock: every order exactly once in PeakWMS and released; each packed one
fulfilled in Shopify with one fulfilment per pick order carrying its tracking number and its authorisation captured
exactly once, never above what was authorised; every SKU's available in the shop equal to PeakWMS's unreserved
stock; the refund made once with PeakWMS's amount; nothing needs attention.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import guided_setup, peakwms_onboarding
from crossdock.store import events
from crossdock_local.operator_setup import step_bar, step_line
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalStack

SHOP_DOMAIN = "acme-lager-dk.myshopify.com"
ACCOUNT = "acme-lager"  # the PeakWMS customer
SKUS = [f"PW-{n:03d}" for n in range(1, 13)]
FIRST_STOCK = 8  # counted in before the setup's stock step, for all SKUs but the last two
ORDERS = 20
ADJUSTED = {"PW-002": -1, "PW-005": 3, "PW-011": -2}  # the stock count's corrections
CARRIER_URL = "https://tracking.postnord.com/?id="


@dataclass
class PeakwmsShop:
    """The demo's shop and warehouse: the connection, its variants by SKU and the orders it took."""

    connection_id: str
    domain: str
    account: str
    variants: dict[str, tuple[str, str]]  # SKU → (product id, variant id)
    placed: list[dict[str, Any]] = field(default_factory=list)
    split: str = ""  # the order packed in two pick orders
    refunded: tuple[str, Decimal] | None = None  # (order id, amount)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # what no log line may show


@dataclass
class PeakwmsAudit:
    """What the run produced, checked against what Shopify and PeakWMS hold."""

    setup: list[str] = field(default_factory=list)  # the setup's progress lines, as the CLI prints them
    orders: int = 0
    in_peakwms: int = 0
    held_at_first: int = 0
    released: int = 0
    pick_orders: int = 0
    fulfilled: int = 0
    captured: int = 0
    stock_checked: int = 0
    stock_equal: int = 0
    refunds: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    needs_attention: Counter[str] = field(default_factory=Counter)
    peakwms_calls: int = 0
    peakwms_429: int = 0
    wall_seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        attention = [f"needs attention: {reason}" for reason in self.needs_attention]
        return [*self.missing, *self.duplicated, *self.mismatched, *attention]

    @property
    def ok(self) -> bool:
        made = self.orders > 0 and self.fulfilled == self.orders and self.refunds == 1
        return made and not self.problems


def catalogue(stack: LocalStack, domain: str, skus: list[str]) -> dict[str, tuple[str, str]]:
    """The shop's products, two variants each (made before the connection: the setup's first step reads them)."""
    variants: dict[str, tuple[str, str]] = {}
    for first in range(0, len(skus), 2):
        pair = skus[first : first + 2]
        product = stack.shopify.create_product(
            domain,
            {
                "title": f"Hørviskestykke {first // 2 + 1}",
                "vendor": "Nordisk Hør",
                "variants": [{"sku": sku, "price": str(79 + 10 * first), "title": f"Farve {sku}"} for sku in pair],
            },
            emit=False,
        )
        for variant in product["variants"]:
            variants[str(variant["sku"])] = (str(product["id"]), str(variant["id"]))
    return variants


def connect(stack: LocalStack, domain: str = SHOP_DOMAIN, account: str = ACCOUNT) -> PeakwmsShop:
    """The merchant's custom app and PeakWMS key, tested on both sides and stored (`crossdock connections create
    --kind peakwms_shopify`); PeakWMS refunds are switched on, the other messages at their defaults."""
    token, secret = stack.new_custom_app(domain, sorted(NEEDED_SCOPES), name="Acme Lager")
    variants = catalogue(stack, domain, SKUS)
    key = stack.peakwms.seed_customer(account)
    credentials = PeakwmsShopifyCredentials(
        web_url=f"https://{domain}", access_token=token, api_secret=secret, peakwms_account=account,
        peakwms_api_key=key,
    )  # fmt: skip
    settings = {"shop_name": "Acme Lager", "country": "DK", "messages": {"order_refunded": True}}
    created = peakwms_onboarding.create_peakwms_connection(stack.operator, credentials=credentials, settings=settings)
    secrets = {"Shopify access token": token, "Shopify API secret": secret, "PeakWMS API key": key}
    return PeakwmsShop(created.connection_id, domain, account, variants, secrets=secrets)


def run_setup(
    stack: LocalStack,
    shop: PeakwmsShop,
    result: PeakwmsAudit,
    before_step: Callable[[str], None] = lambda step: None,
    show: bool = True,
) -> None:
    """Every step of the guided setup confirmed in turn (`crossdock setup run <connection> <step>`), its workflow
    run to the end, and its progress line and bar printed as the CLI prints them."""
    for step in guided_setup.show_setup(stack.operator, shop.connection_id).steps:
        before_step(step.name)
        guided_setup.run_step(stack.operator, shop.connection_id, step.name)
        stack.settle(execution_timeout=300)
        finished = guided_setup.step_progress(stack.operator, shop.connection_id, step.name)
        line = f"{step_bar(finished)}  {step_line(finished)}"
        result.setup.append(line)
        if show:
            print(f"setup: {line}", file=sys.stderr, flush=True)


def first_stock(stack: LocalStack, shop: PeakwmsShop, skus: list[str]) -> None:
    """The warehouse counts its first goods in: FIRST_STOCK of each of `skus`."""
    for sku in skus:
        product_id, variant_id = shop.variants[sku]
        stack.peakwms.receive_stock(shop.account, product_id, variant_id, FIRST_STOCK)


def place_orders(
    stack: LocalStack, shop: PeakwmsShop, count: int, seed: int, skus: list[str] | None = None
) -> list[dict[str, Any]]:
    """`count` of the generator's orders of `skus` (default: all the shop's) whose every line is one of the shop's
    SKUs, each line on its variant, the payment authorised at checkout (captured at packing). Answers them as
    Shopify stored them."""
    plans = [
        plan
        for plan in varied_orders(count * 4, seed, skus or SKUS, authorized_share=1.0)
        if plan.authorized and plan.order.get("shipping_address") and _all_lines_ours(plan.order, shop)
    ][:count]
    placed = []
    for plan in plans:
        for line in plan.order["line_items"]:
            product_id, variant_id = shop.variants[line["sku"]]
            line.update(product_id=int(product_id), variant_id=int(variant_id))
        placed.append(stack.shopify.create_order(shop.domain, plan.order, authorized=True))
    shop.placed += placed
    return placed


def _all_lines_ours(order: dict[str, Any], shop: PeakwmsShop) -> bool:
    lines = order.get("line_items") or []
    ours = (line.get("sku") in shop.variants and line.get("requires_shipping", True) for line in lines)
    return bool(lines) and all(ours)


def held(stack: LocalStack, shop: PeakwmsShop) -> int:
    return sum(1 for o in stack.peakwms.sales_orders(shop.account) if o.get("state") == 7)


def receive_for_orders(stack: LocalStack, shop: PeakwmsShop, spare: int = 2) -> None:
    """A delivery from the supplier: of every SKU, what the orders want beyond the shelf, and `spare` more."""
    wanted: Counter[str] = Counter()
    for order in shop.placed:
        for line in order["line_items"]:
            wanted[line["sku"]] += int(line["quantity"])
    shelf = {(str(r["productId"]), str(r["variantId"])): int(r["quantity"]) for r in stack.peakwms.stock(shop.account)}
    for sku, (product_id, variant_id) in shop.variants.items():
        missing = max(0, wanted[sku] - shelf.get((product_id, variant_id), 0))
        if missing + spare > 0:
            stack.peakwms.receive_stock(shop.account, product_id, variant_id, missing + spare)


def pack_all(stack: LocalStack, shop: PeakwmsShop, orders: list[dict[str, Any]], split_every: int = 0) -> None:
    """The warehouse packs each released order not packed yet, some of several pieces in two pick orders (its first
    half, then the rest): the first such order (`split_every` 0), else every `split_every`-th order of the shop."""
    for order in orders:
        order_id = str(order["id"])
        sales_order = stack.peakwms.sales_order(shop.account, order_id)
        if sales_order is None or sales_order.get("state") not in (1, 2):
            continue
        pieces = [(str(line["id"]), int(line["quantity"])) for line in order["line_items"]]
        chosen = shop.placed.index(order) % split_every == 0 if split_every else not shop.split
        if chosen and sum(q for _, q in pieces) > 1:
            shop.split = shop.split or order_id
            first = dict(pieces[: len(pieces) // 2]) if len(pieces) > 1 else {pieces[0][0]: 1}
            _pack(stack, shop, order_id, first, "A")
        _pack(stack, shop, order_id, None, "B")


def _pack(stack: LocalStack, shop: PeakwmsShop, order_id: str, lines: dict[str, int] | None, parcel: str) -> None:
    tracking = f"00370{order_id[-9:]}{parcel}"
    stack.peakwms.pack(shop.account, order_id, lines, tracking_number=tracking, tracking_url=CARRIER_URL + tracking)


def ship_packed(stack: LocalStack, shop: PeakwmsShop) -> None:
    """The carrier collects the parcels: every packed order becomes Shipped (a 109 each)."""
    for order in shop.placed:
        sales_order = stack.peakwms.sales_order(shop.account, str(order["id"]))
        if sales_order is not None and sales_order.get("state") == 3:
            stack.peakwms.ship(shop.account, str(order["id"]))


def count_stock(stack: LocalStack, shop: PeakwmsShop, corrections: dict[str, int]) -> None:
    """A stock count: each SKU's shelf corrected by its difference (a 100 each)."""
    for sku, difference in corrections.items():
        product_id, variant_id = shop.variants[sku]
        stack.peakwms.adjust_stock(shop.account, product_id, variant_id, difference, reason="Count")


def refund_one(stack: LocalStack, shop: PeakwmsShop) -> None:
    """PeakWMS refunds one piece of the first line of the last order packed (a return handled at the warehouse)."""
    order = shop.placed[-1]
    line = order["line_items"][0]
    amount = Decimal(str(line["price"])).quantize(Decimal("0.01"))
    stack.peakwms.refund(shop.account, str(order["id"]), str(amount), {str(line["id"]): 1})
    shop.refunded = (str(order["id"]), amount)


def audit(stack: LocalStack, shop: PeakwmsShop, result: PeakwmsAudit) -> PeakwmsAudit:
    by_order: dict[str, list[dict[str, Any]]] = {}
    for sales_order in stack.peakwms.sales_orders(shop.account):
        by_order.setdefault(str(sales_order.get("orderId")), []).append(sales_order)
    result.orders = len(shop.placed)
    placed_ids = {str(order["id"]) for order in shop.placed}
    result.duplicated += [f"PeakWMS sales order {o} not from the shop" for o in by_order if o not in placed_ids]
    for order in shop.placed:
        order_id = str(order["id"])
        found = by_order.get(order_id, [])
        if not found:
            result.missing.append(f"Shopify order {order_id} in PeakWMS")
            continue
        result.in_peakwms += 1
        if len(found) > 1:
            result.duplicated.append(f"Shopify order {order_id}: {len(found)} PeakWMS sales orders")
        if found[0].get("state") in (1, 2, 3, 4):
            result.released += 1
        _audit_packed(stack, shop, order_id, result)
    _audit_stock(stack, shop, result)
    _audit_refunds(stack, shop, result)
    for event in events.list_events(stack.table, shop.connection_id):
        result.events[str(event["status"])] += 1
        if event["status"] == "needs_attention":
            result.needs_attention[str(event.get("reason", ""))[:110]] += 1
    result.peakwms_calls = stack.peakwms.calls
    result.peakwms_429 = stack.peakwms.calls_by_status.get(429, 0)
    return result


def _audit_packed(stack: LocalStack, shop: PeakwmsShop, order_id: str, result: PeakwmsAudit) -> None:
    """One fulfilment per pick order with its tracking; the authorisation captured once, within what it holds."""
    picks = stack.peakwms.pick_orders(shop.account, order_id)
    result.pick_orders += len(picks)
    shown = stack.shopify.get_order(shop.domain, order_id) or {}
    wanted = sorted(str(p.get("trackingNumber")) for p in picks)
    tracking = sorted(str(f.get("tracking_number")) for f in shown.get("fulfillments") or [])
    if not picks or tracking != wanted or shown.get("fulfillment_status") != "fulfilled":
        result.mismatched.append(
            f"Shopify order {order_id}: {shown.get('fulfillment_status')}, tracking {tracking}, PeakWMS {wanted}"
        )
    else:
        result.fulfilled += 1
    transactions = stack.shopify.shop(shop.domain).transactions.get(int(order_id), [])
    authorised = sum((t.amount for t in transactions if t.kind == "AUTHORIZATION" and t.status == "SUCCESS"), Decimal())
    captures = [t for t in transactions if t.kind == "CAPTURE" and t.status == "SUCCESS"]
    if len(captures) != 1:
        result.mismatched.append(f"Shopify order {order_id}: captured {len(captures)} times")
    elif captures[0].amount > authorised:
        result.mismatched.append(f"Shopify order {order_id}: captured {captures[0].amount} of {authorised}")
    else:
        result.captured += 1


def _audit_stock(stack: LocalStack, shop: PeakwmsShop, result: PeakwmsAudit) -> None:
    """Every SKU: the shop's available (all locations) equal to PeakWMS's quantity less what it reserved."""
    unreserved: Counter[tuple[str, str]] = Counter()
    for row in stack.peakwms.stock(shop.account):
        key = (str(row["productId"]), str(row["variantId"]))
        unreserved[key] += int(row["quantity"]) - int(row["reservedQuantity"])
    for sku, key in sorted(shop.variants.items()):
        available = sum(int(level["available"]) for level in stack.shopify.inventory(shop.domain, sku))
        result.stock_checked += 1
        if available != unreserved[key]:
            result.mismatched.append(f"{sku}: Shopify available {available}, PeakWMS unreserved {unreserved[key]}")
        else:
            result.stock_equal += 1


def _audit_refunds(stack: LocalStack, shop: PeakwmsShop, result: PeakwmsAudit) -> None:
    """The order PeakWMS refunded has one Shopify refund of that amount; no other order has any."""
    for order in shop.placed:
        refunds = (stack.shopify.get_order(shop.domain, order["id"]) or {}).get("refunds") or []
        expected = shop.refunded if shop.refunded and shop.refunded[0] == str(order["id"]) else None
        if expected is None:
            if refunds:
                result.duplicated.append(f"Shopify order {order['id']}: {len(refunds)} refunds, none made")
            continue
        amounts = [Decimal(str(t["amount"])) for r in refunds for t in r.get("transactions") or []]
        if amounts != [expected[1]]:
            result.mismatched.append(f"Shopify order {order['id']}: refunds {amounts}, PeakWMS {expected[1]}")
        else:
            result.refunds += 1


def run(stack: LocalStack, seed: int, orders: int = ORDERS, show: bool = True) -> PeakwmsAudit:
    """The whole PeakWMS part on the demo's running stack."""
    started = time.perf_counter()
    result = PeakwmsAudit()
    shop = connect(stack)
    stocked = SKUS[:-2]  # the last two are not in the warehouse yet: their orders wait

    def before(step: str) -> None:
        if step == "stock_and_history":
            first_stock(stack, shop, stocked)

    run_setup(stack, shop, result, before, show)
    place_orders(stack, shop, orders, seed)
    stack.settle()
    result.held_at_first = held(stack, shop)
    receive_for_orders(stack, shop)
    stack.settle()
    pack_all(stack, shop, shop.placed)
    stack.settle()
    ship_packed(stack, shop)
    stack.settle()
    count_stock(stack, shop, ADJUSTED)
    refund_one(stack, shop)
    stack.settle()
    audit(stack, shop, result)
    result.wall_seconds = time.perf_counter() - started
    return result


def render(result: PeakwmsAudit) -> list[tuple[str, str]]:
    return [
        *[(f"peakwms: setup {n}", line) for n, line in enumerate(result.setup, start=1)],
        ("peakwms: Shopify orders (authorised) / in PeakWMS", f"{result.orders} / {result.in_peakwms}"),
        ("  held for stock at first / released", f"{result.held_at_first} / {result.released}"),
        ("  pick orders / orders fulfilled with tracking", f"{result.pick_orders} / {result.fulfilled}"),
        ("  captured once (≤ authorised) / refunded once", f"{result.captured} / {result.refunds}"),
        ("  SKUs / stock equal in both", f"{result.stock_checked} / {result.stock_equal}"),
        (
            "  missing / duplicated / mismatched",
            f"{len(result.missing)} / {len(result.duplicated)} / {len(result.mismatched)}",
        ),
        *[(f"  events {status}", str(n)) for status, n in sorted(result.events.items())],
        ("  needs attention", str(sum(result.needs_attention.values()))),
        ("  API calls: peakwms (429)", f"{result.peakwms_calls} ({result.peakwms_429})"),
        ("  wall time of this part", f"{result.wall_seconds:.1f} s"),
    ]
