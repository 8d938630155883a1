"""The Webshipper part of `crossdock demo`: the demo's Rackbeat account ships through a Webshipper account.

The warehouse is onboarded as production onboards it (`crossdock.operations.webshipper_onboarding`: the Rackbeat key
and the Webshipper login tested, the order channels and rates read, the settings checked against both accounts, the
webhooks registered in both systems). Then three kinds of orders go through it:

- **Shopify-born**: a second shop of the merchant (`acme-lager`, its Rackbeat orders stopping at `booked`) sells;
  its orders wait booked in Rackbeat, without a delivery term (`rackbeat_shopify` sets none). The operator sends
  the waiting orders with `crossdock orders sync <connection> rackbeat:<number>` (`operations.order_sync`), as a
  merchant who connects Webshipper with orders already booked would; each takes the rate `shipping_method_rates`
  names for its Shopify shipping line, else (another method, or free shipping, which Rackbeat keeps no line of)
  `default_shipping_rate`.
- **Rackbeat-born**: orders a sales person books in Rackbeat with a delivery term; Rackbeat's `order.booked`
  webhook sends them.
- **Webshipper-born**: orders of another channel (the merchant's B2B portal) placed in Webshipper; its
  `order/created` webhooks make them booked Rackbeat orders.

Then the warehouse ships every Webshipper order in the simulator (the carrier's tracking number and URL booked);
`shipment/created` ships each Rackbeat order, and a Shopify-born one becomes a Shopify fulfilment with the tracking.
The audit reads the simulators' state, not Crossdock's: each exported order is one Webshipper order `rackbeat-<n>`,
each Webshipper-born order one Rackbeat order `webshipper-<id>` (and never sent back), every Rackbeat order shipped
once with the tracking in its note, every Shopify-born order one fulfilment with its shipment's tracking number and
its Webshipper order on the rate its Shopify shipping line calls for, nothing `needs_attention` on either
connection.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from crossdock.integrations.rackbeat_webshipper.install import WebshipperCredentials
from crossdock.operations import order_sync, webshipper_onboarding
from crossdock.store import events
from crossdock_local.scenarios import demo_catalog
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalConnection, LocalStack

ACCOUNT = "nordlager"  # the Webshipper account (its subdomain)
USERNAME, PASSWORD = "lager@nordlager.dk", "pakke-og-post-2026"  # the simulator's login, made up for the demo
SHOP_DOMAIN = "acme-lager.myshopify.com"
OUR_CHANNEL, PORTAL_CHANNEL = "Rackbeat", "B2B-portal"
HOME_TERM, PARCEL_TERM = 20, 21  # Rackbeat delivery terms → the two rates below
CARRIERS = [
    {"name": "GLS", "alias": "gls", "tracking_url": "https://gls-group.eu/track/{number}"},
    {"name": "PostNord", "alias": "postnord", "tracking_url": "https://tracking.postnord.com/da/?id={number}"},
]
RATES = {HOME_TERM: ("GLS Privat", "gls"), PARCEL_TERM: ("PostNord MyPack", "postnord")}
# The shop's shipping methods (sims/shopify/order_generator.SHIPPING_METHODS): PostNord's has a rate of its own; the
# rest — GLS Pakkeshop, and free shipping, which Rackbeat keeps no line of — go with the default, GLS Privat.
METHOD_RATES = {"PostNord MyPack Collect": PARCEL_TERM}
DEFAULT_RATE_TERM = HOME_TERM
PORTAL_RATE = "GLS Erhverv"
SALES_CUSTOMER = 510  # the Rackbeat customer a sales person books orders for
SHOP_ORDERS, RACKBEAT_ORDERS, PORTAL_ORDERS = 6, 4, 5  # small: each shipment costs ~70 emulated AWS calls


@dataclass
class WebshipperAudit:
    """What the Webshipper part produced, checked against the three simulators."""

    connection_state: str = ""
    exported_expected: int = 0  # Rackbeat orders that should each be one Webshipper order
    exported: int = 0
    imported_expected: int = 0  # Webshipper-born orders that should each be one Rackbeat order
    imported: int = 0
    shipped_in_webshipper: int = 0
    shipped_in_rackbeat: int = 0
    fulfilments_expected: int = 0
    fulfilments: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    sent_back: list[str] = field(default_factory=list)  # an order we made in one system copied back to the other
    not_shipped: list[str] = field(default_factory=list)
    tracking_wrong: list[str] = field(default_factory=list)
    rate_wrong: list[str] = field(default_factory=list)  # a Shopify-born order not on its shipping line's rate
    events: Counter[str] = field(default_factory=Counter)
    needs_attention: Counter[str] = field(default_factory=Counter)
    webshipper_calls: int = 0
    webshipper_orders: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's: the demo shares a machine, wall time says less

    @property
    def problems(self) -> list[str]:
        return [
            *(f"missing: {x}" for x in self.missing),
            *(f"duplicated: {x}" for x in self.duplicated),
            *(f"sent back: {x}" for x in self.sent_back),
            *(f"not shipped: {x}" for x in self.not_shipped),
            *(f"tracking: {x}" for x in self.tracking_wrong),
            *(f"rate: {x}" for x in self.rate_wrong),
            *(f"needs attention: {reason} ×{n}" for reason, n in self.needs_attention.items()),
        ]

    @property
    def counts_ok(self) -> bool:
        """Every order made is in the other system, shipped in both, and each Shopify one fulfilled."""
        return (
            self.exported == self.exported_expected > 0
            and self.imported == self.imported_expected > 0
            and self.fulfilments == self.fulfilments_expected > 0
            and self.shipped_in_rackbeat == self.shipped_in_webshipper == self.exported + self.imported
        )

    @property
    def ok(self) -> bool:
        return self.connection_state == "active" and self.counts_ok and not self.problems


@dataclass
class Warehouse:
    """The merchant's Webshipper set-up as the demo made it, and the orders it sent through it."""

    connection_id: str
    state: str
    account: str  # the Webshipper account
    rackbeat_account: int
    rackbeat_api_key: str
    rackbeat_base: str
    channels: dict[str, str]  # label → Webshipper channel id
    rates: dict[int, str]  # Rackbeat delivery term → Webshipper rate id
    portal_rate: str  # the portal channel's own rate
    shop_connection: str = ""
    shopify_born: dict[int, int] = field(default_factory=dict)  # Rackbeat order number → Shopify order id
    rackbeat_born: list[int] = field(default_factory=list)
    portal_born: list[str] = field(default_factory=list)  # Webshipper order ids

    def rackbeat(self) -> httpx.Client:
        """Rackbeat's API as the merchant's own users reach it."""
        return httpx.Client(
            base_url=self.rackbeat_base,
            headers={"Authorization": f"Bearer {self.rackbeat_api_key}"},
            timeout=10,
        )


def settings(warehouse_channels: dict[str, str], rates: dict[int, str], product_group: int) -> dict[str, Any]:
    """The connection's settings: our channel, a rate per delivery term and per Shopify shipping method, the
    default rate, the defaults of an imported order."""
    return {
        "order_channel": warehouse_channels[OUR_CHANNEL],
        "delivery_term_rates": {str(term): rate for term, rate in rates.items()},
        "shipping_method_rates": {method: rates[term] for method, term in METHOD_RATES.items()},
        "default_shipping_rate": rates[DEFAULT_RATE_TERM],
        "default_payment_terms": 1,
        "default_customer_group": 1,
        "default_employee": 1,
        "default_layout": 1,
        "default_location": "L1",
        "product_group": product_group,
        "order_transfer": "both",
        "transfer_when": "order_booked",
    }


def seed_accounts(
    stack: LocalStack, rackbeat_account: int, account: str = ACCOUNT
) -> tuple[dict[str, str], dict[str, dict[Any, str]]]:
    """The harness's part: the Webshipper account (a user that stays, two carriers with tracking, our channel and
    the portal's, a rate per carrier) and, in Rackbeat, the delivery terms the rates map from and a sales
    customer. Answers the channel ids by label and the rate ids by Rackbeat term."""
    sim = stack.rackbeat
    for term, (name, _) in RATES.items():
        sim.seed_delivery_terms(rackbeat_account, term, name)
    sim.seed_customer(
        rackbeat_account,
        SALES_CUSTOMER,
        "Cykelsmeden ApS",
        customer_group_id=1,
        contact_email="indkob@cykelsmeden.dk",
        address_street="Nørregade 4",
        address_zipcode="5000",
        address_city="Odense C",
        address_country="DK",
    )
    seeded = stack.webshipper.seed_account(
        account,
        users=[{"email": USERNAME, "password": PASSWORD}],
        carriers=CARRIERS,
        channels=[{"channel_label": OUR_CHANNEL}, {"channel_label": PORTAL_CHANNEL}],
        rates=[
            *({"name": name, "carrier": carrier, "channel": OUR_CHANNEL} for name, carrier in RATES.values()),
            {"name": PORTAL_RATE, "carrier": "gls", "channel": PORTAL_CHANNEL},
        ],
    )
    channels = {label: str(number) for label, number in seeded["channels"].items()}
    rates = {term: str(seeded["rates"][name]) for term, (name, _) in RATES.items()}
    rates_by_name = {name: str(number) for name, number in seeded["rates"].items()}
    return channels, {"by_term": rates, "by_name": rates_by_name}


def connect(stack: LocalStack, rackbeat: LocalConnection, product_group: int, account: str = ACCOUNT) -> Warehouse:
    """The Webshipper account connected to `rackbeat`'s Rackbeat account through the operator's onboarding."""
    channels, rates = seed_accounts(stack, rackbeat.rackbeat_account_id, account)
    created = webshipper_onboarding.create_webshipper_connection(
        stack.operator,
        rackbeat_api_key=rackbeat.rackbeat_api_key,
        webshipper=WebshipperCredentials(account, USERNAME, PASSWORD),
        settings=settings(channels, rates["by_term"], product_group),
    )
    if created.state != "active":
        raise RuntimeError(f"the Webshipper connection is {created.state}: {created.missing_references}")
    return Warehouse(
        created.connection_id,
        created.state,
        account,
        rackbeat.rackbeat_account_id,
        rackbeat.rackbeat_api_key,
        f"{stack.base_url}/_sim/rackbeat/api/",
        channels,
        rates["by_term"],
        rates["by_name"][PORTAL_RATE],
    )


def shop_and_warehouse(
    stack: LocalStack, shop_settings: dict[str, Any], skus: list[str]
) -> tuple[LocalConnection, Warehouse]:
    """A shop whose Rackbeat orders stop at `booked` (`booked_settings` of `shop_settings`) on a new Rackbeat
    account holding `skus`, and the Webshipper account connected to that Rackbeat account, knowing the shop."""
    shop = stack.create_connection(
        booked_settings(shop_settings), shop_domain=SHOP_DOMAIN, rackbeat_seed=demo_catalog.seed_reference_data
    )
    stack.seed_items(shop.rackbeat_account_id, skus)
    warehouse = connect(stack, shop, demo_catalog.PRODUCT_GROUP)
    warehouse.shop_connection = shop.connection_id
    return shop, warehouse


def booked_settings(shop_settings: dict[str, Any]) -> dict[str, Any]:
    """A shop's settings with its Rackbeat orders stopping at `booked`: the warehouse ships them."""
    return {**shop_settings, "orders": {**shop_settings["orders"], "rackbeat_status": "booked"}}


def shop_orders(
    stack: LocalStack, rackbeat: LocalConnection, shop_settings: dict[str, Any], skus: list[str], count: int, seed: int
) -> tuple[str, dict[int, int]]:
    """A second shop of the merchant on the same Rackbeat account (`booked_settings`) and its paid orders.
    Answers the shop's connection and `place_shop_orders`'s."""
    shop = stack.create_connection(booked_settings(shop_settings), shop_domain=SHOP_DOMAIN, rackbeat_account=rackbeat)
    return shop.connection_id, place_shop_orders(stack, rackbeat.rackbeat_account_id, skus, count, seed)


def place_shop_orders(
    stack: LocalStack, rackbeat_account: int, skus: list[str], count: int, seed: int
) -> dict[int, int]:
    """`count` paid orders at the shop, settled; answers `rackbeat_numbers` of them."""
    placed = create_shop_orders(stack, skus, count, seed)
    stack.settle()
    return rackbeat_numbers(stack, rackbeat_account, placed)


def create_shop_orders(stack: LocalStack, skus: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    """`count` varied orders paid at creation with a shipping address and only goods to ship, placed at the shop;
    answers them as Shopify stored them."""
    plans = [
        plan
        for plan in varied_orders(count * 4, seed, skus)
        if plan.paid_at_creation and plan.order.get("shipping_address") and _all_lines_ship(plan.order)
    ][:count]
    return [stack.shopify.create_order(SHOP_DOMAIN, plan.order, paid=True) for plan in plans]


def rackbeat_numbers(stack: LocalStack, rackbeat_account: int, placed: list[dict[str, Any]]) -> dict[int, int]:
    """The Rackbeat order number of each Shopify order of `placed` that is in Rackbeat → its Shopify id."""
    by_reference = {
        str(order.get("other_reference")): int(order["number"])
        for order in stack.rackbeat.state(rackbeat_account).orders.values()
    }
    numbers: dict[int, int] = {}
    for order in placed:
        number = by_reference.get(f"Shopify {order['name']} ({order['id']})")
        if number is not None:
            numbers[number] = int(order["id"])
    return numbers


def _all_lines_ship(order: dict[str, Any]) -> bool:
    """A plan whose lines are all SKUs of goods to ship (no gift card, no custom line)."""
    lines = order.get("line_items") or []
    return bool(lines) and all(line.get("sku") and line.get("requires_shipping", True) for line in lines)


def send_waiting_orders(stack: LocalStack, warehouse: Warehouse, numbers: list[int], settle: bool = True) -> None:
    """The booked Shopify orders waiting in Rackbeat, as they are (no delivery term): the operator sends them to
    Webshipper (`crossdock orders sync <connection> rackbeat:<number>`)."""
    sync_orders(stack, warehouse, numbers)
    if settle:
        stack.settle()


def sync_orders(stack: LocalStack, warehouse: Warehouse, numbers: list[int]) -> None:
    """The operator's `crossdock orders sync <connection> rackbeat:<number>` for each order."""
    for number in numbers:
        order_sync.sync_order(stack.operator, warehouse.connection_id, f"rackbeat:{number}")


def book_rackbeat_orders(
    stack: LocalStack, warehouse: Warehouse, skus: list[str], count: int, seed: int, settle: bool = True
) -> None:
    """A sales person books `count` orders in Rackbeat for the sales customer, each with a delivery term."""
    rng = random.Random(f"rackbeat-orders:{seed}:{len(warehouse.rackbeat_born)}")
    terms = sorted(warehouse.rates)
    with warehouse.rackbeat() as rackbeat:
        for n in range(count):
            lines = [
                {"item_id": sku, "quantity": rng.randint(1, 4), "line_price": str(80 + 4 * skus.index(sku))}
                for sku in rng.sample(skus, rng.randint(1, 3))
            ]
            body = {
                "customer_id": SALES_CUSTOMER,
                "delivery_terms": terms[n % len(terms)],
                "delivery_address_name": "Cykelsmeden, lageret",
                "delivery_address_street": "Industrivej 7",
                "delivery_address_zipcode": "5260",
                "delivery_address_city": "Odense S",
                "delivery_address_country": "DK",
                "lines": lines,
            }
            answer = rackbeat.post("orders", json=body)
            answer.raise_for_status()
            warehouse.rackbeat_born.append(int(answer.json()["order"]["number"]))
    if settle:
        stack.settle()


def place_portal_orders(
    stack: LocalStack, warehouse: Warehouse, skus: list[str], count: int, seed: int, settle: bool = True
) -> None:
    """`count` orders of the merchant's B2B portal, a channel Webshipper reads itself."""
    rng = random.Random(f"portal-orders:{seed}:{len(warehouse.portal_born)}")
    for n in range(len(warehouse.portal_born), len(warehouse.portal_born) + count):
        lines = [
            {"sku": sku, "description": f"Vare {sku}", "quantity": rng.randint(1, 5),
             "unit_price": float(80 + 4 * skus.index(sku)), "vat_percent": 25}
            for sku in rng.sample(skus, rng.randint(1, 3))
        ]  # fmt: skip
        document = {
            "data": {
                "type": "orders",
                "attributes": {
                    "visible_ref": f"B2B-{4100 + n}",
                    "currency": "DKK",
                    "delivery_address": {
                        "company_name": f"Kunde {n + 1} ApS",
                        "att_contact": f"Indkøb {n + 1}",
                        "address_1": f"Havnegade {n + 1}",
                        "zip": "8000",
                        "city": "Aarhus C",
                        "country_code": "DK",
                        "email": f"indkob{n % 5 + 1}@kunde.dk",  # repeat customers: found by e-mail again
                    },
                    "order_lines": lines,
                },
                "relationships": {
                    "order_channel": {"data": {"type": "order_channels", "id": warehouse.channels[PORTAL_CHANNEL]}},
                    "shipping_rate": {"data": {"type": "shipping_rates", "id": warehouse.portal_rate}},
                },
            }
        }
        placed = stack.webshipper.place_order(warehouse.account, document)
        warehouse.portal_born.append(str(placed["data"]["id"]))
    if settle:
        stack.settle()


def ship_waiting(stack: LocalStack, account: str, settle: bool = True) -> int:
    """The warehouse books a shipment of every order still waiting in Webshipper; answers how many."""
    waiting = [o for o in stack.webshipper.orders(account) if o["attributes"]["status"] == "pending"]
    for order in waiting:
        stack.webshipper.ship(account, int(order["id"]))
    if settle:
        stack.settle()
    return len(waiting)


def audit(stack: LocalStack, warehouse: Warehouse, result: WebshipperAudit) -> WebshipperAudit:
    account = warehouse.account
    ours = warehouse.channels[OUR_CHANNEL]
    orders = stack.webshipper.orders(account)
    result.webshipper_orders = len(orders)
    by_ext_ref: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        by_ext_ref.setdefault(str(order["attributes"].get("ext_ref")), []).append(order)
    shipments: dict[str, list[dict[str, Any]]] = {}
    for shipment in stack.webshipper.shipments(account):
        shipments.setdefault(_related_id(shipment, "order"), []).append(shipment)
    rackbeat = stack.rackbeat.state(warehouse.rackbeat_account)
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for order in rackbeat.orders.values():
        by_reference.setdefault(str(order.get("other_reference")), []).append(order)
    exported = [*warehouse.shopify_born, *warehouse.rackbeat_born]
    result.exported_expected = len(exported)
    for number in exported:
        found = by_ext_ref.get(f"rackbeat-{number}", [])
        if not found:
            result.missing.append(f"Rackbeat order {number} in Webshipper")
            continue
        result.exported += 1
        if len(found) > 1:
            result.duplicated.append(f"Rackbeat order {number}: {len(found)} Webshipper orders")
        if _related_id(found[0], "order_channel") != ours:
            result.missing.append(f"Rackbeat order {number}: not in our channel")
        _audit_shipping(result, rackbeat, number, found[0], shipments)
    result.imported_expected = len(warehouse.portal_born)
    for order_id in warehouse.portal_born:
        found_rb = by_reference.get(f"webshipper-{order_id}", [])
        if not found_rb:
            result.missing.append(f"Webshipper order {order_id} in Rackbeat")
            continue
        result.imported += 1
        if len(found_rb) > 1:
            result.duplicated.append(f"Webshipper order {order_id}: {len(found_rb)} Rackbeat orders")
        number = int(found_rb[0]["number"])
        if by_ext_ref.get(f"rackbeat-{number}"):
            result.sent_back.append(f"Rackbeat order {number} (from Webshipper {order_id}) exported again")
        webshipper_order = next(o for o in orders if str(o["id"]) == order_id)
        _audit_shipping(result, rackbeat, number, webshipper_order, shipments)
    result.sent_back += [
        f"Webshipper order {order['id']} ({order['attributes']['ext_ref']}) imported though we made it"
        for order in orders
        if str(order["attributes"].get("ext_ref")).startswith("rackbeat-")
        and f"webshipper-{order['id']}" in by_reference
    ]
    _audit_fulfilments(stack, warehouse, result, shipments, by_ext_ref)
    for connection in (warehouse.connection_id, warehouse.shop_connection):
        for event in events.list_events(stack.table, connection):
            result.events[str(event["status"])] += connection == warehouse.connection_id
            if event["status"] == "needs_attention":
                result.needs_attention[str(event.get("reason", ""))[:110]] += 1
    result.webshipper_calls = stack.webshipper.calls
    return result


def _related_id(resource: dict[str, Any], name: str) -> str:
    """A to-one relationship's id: its linkage, else the last segment of its `related` link (what Webshipper
    shows by default)."""
    relationship = resource.get("relationships", {}).get(name, {})
    data = relationship.get("data")
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data["id"])
    return str(relationship.get("links", {}).get("related", "")).rstrip("/").rsplit("/", 1)[-1]


def _tracking_numbers(shipment: dict[str, Any]) -> list[str]:
    return [str(link["number"]) for link in shipment["attributes"].get("tracking_links") or []]


def _audit_shipping(
    result: WebshipperAudit,
    rackbeat: Any,
    number: int,
    webshipper_order: dict[str, Any],
    shipments: dict[str, list[dict[str, Any]]],
) -> None:
    """One Webshipper shipment of the order; its Rackbeat order shipped in one shipment, the tracking in its note."""
    parcels = shipments.get(str(webshipper_order["id"]), [])
    if len(parcels) != 1:
        result.not_shipped.append(f"Webshipper order {webshipper_order['id']}: {len(parcels)} shipments")
        return
    result.shipped_in_webshipper += 1
    order = rackbeat.orders.get(number) or rackbeat.orders.get(str(number))
    shipped = [s for s in rackbeat.shipments.values() if s.get("order_number") == number and s.get("is_shipped")]
    if order is None or not order.get("is_shipped") or len(shipped) != 1:
        result.not_shipped.append(f"Rackbeat order {number}: {len(shipped)} shipped shipments")
        return
    result.shipped_in_rackbeat += 1
    note = str(order.get("note") or "")
    for tracking in _tracking_numbers(parcels[0]):
        if note.count(tracking) != 1:
            result.tracking_wrong.append(
                f"Rackbeat order {number}: tracking {tracking} {note.count(tracking)}× in note"
            )


def _audit_fulfilments(
    stack: LocalStack,
    warehouse: Warehouse,
    result: WebshipperAudit,
    shipments: dict[str, list[dict[str, Any]]],
    by_ext_ref: dict[str, list[dict[str, Any]]],
) -> None:
    """Each Shopify-born order: one fulfilment in Shopify with its Webshipper shipment's carrier tracking number."""
    result.fulfilments_expected = len(warehouse.shopify_born)
    for number, shopify_id in warehouse.shopify_born.items():
        shop_order = stack.shopify.get_order(SHOP_DOMAIN, shopify_id) or {}
        fulfilments = shop_order.get("fulfillments") or []
        webshipper = (by_ext_ref.get(f"rackbeat-{number}") or [{}])[0]
        parcels = shipments.get(str(webshipper.get("id")), [])
        wanted = _tracking_numbers(parcels[0]) if parcels else []
        if len(fulfilments) != 1:
            result.tracking_wrong.append(f"Shopify order {shopify_id}: {len(fulfilments)} fulfilments")
            continue
        if fulfilments[0].get("tracking_numbers") != wanted or not wanted:
            shown = fulfilments[0].get("tracking_numbers")
            result.tracking_wrong.append(f"Shopify order {shopify_id}: tracking {shown}, Webshipper {wanted}")
            continue
        result.fulfilments += 1
        rate, expected = _related_id(webshipper, "shipping_rate"), expected_rate(warehouse, shop_order)
        if rate != expected:
            result.rate_wrong.append(f"Shopify order {shopify_id}: Webshipper rate {rate}, expected {expected}")


def expected_rate(warehouse: Warehouse, shop_order: dict[str, Any]) -> str:
    """The rate the settings give a Shopify-born order (it has no delivery term): its shipping line's, when it paid
    for one `METHOD_RATES` names; else the default."""
    for line in shop_order.get("shipping_lines") or []:
        term = METHOD_RATES.get(str(line.get("title")))
        if term is not None and Decimal(str(line.get("price") or 0)) != 0:
            return warehouse.rates[term]
    return warehouse.rates[DEFAULT_RATE_TERM]


def run(
    stack: LocalStack,
    rackbeat: LocalConnection,
    shop_settings: dict[str, Any],
    skus: list[str],
    product_group: int,
    seed: int,
) -> WebshipperAudit:
    """The whole Webshipper part on the demo's running stack."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = WebshipperAudit()
    shop_connection, shopify_born = shop_orders(stack, rackbeat, shop_settings, skus, SHOP_ORDERS, seed)
    warehouse = connect(stack, rackbeat, product_group)
    warehouse.shop_connection, warehouse.shopify_born = shop_connection, shopify_born
    result.connection_state = warehouse.state
    send_waiting_orders(stack, warehouse, sorted(shopify_born))
    book_rackbeat_orders(stack, warehouse, skus, RACKBEAT_ORDERS, seed)
    place_portal_orders(stack, warehouse, skus, PORTAL_ORDERS, seed)
    ship_waiting(stack, warehouse.account)
    audit(stack, warehouse, result)
    result.wall_seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    return result


def render(result: WebshipperAudit) -> list[tuple[str, str]]:
    return [
        ("webshipper: connection", result.connection_state),
        ("  Rackbeat orders sent / in Webshipper", f"{result.exported_expected} / {result.exported}"),
        ("  Webshipper-born orders / in Rackbeat", f"{result.imported_expected} / {result.imported}"),
        ("  shipped in Webshipper / in Rackbeat", f"{result.shipped_in_webshipper} / {result.shipped_in_rackbeat}"),
        ("  Shopify-born / fulfilled with tracking", f"{result.fulfilments_expected} / {result.fulfilments}"),
        (
            "  missing / duplicated / sent back",
            f"{len(result.missing)} / {len(result.duplicated)} / {len(result.sent_back)}",
        ),
        (
            "  not shipped / tracking wrong / rate wrong",
            f"{len(result.not_shipped)} / {len(result.tracking_wrong)} / {len(result.rate_wrong)}",
        ),
        *[(f"  events {status}", str(n)) for status, n in sorted(result.events.items())],
        ("  needs attention", str(sum(result.needs_attention.values()))),
        ("  API calls: webshipper", str(result.webshipper_calls)),
        ("  wall / CPU time of this part", f"{result.wall_seconds:.1f} s / {result.cpu_seconds:.1f} s"),
    ]
