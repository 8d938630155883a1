"""Varied, realistic Shopify orders for the simulator, built from a real REST order payload.

The shape comes from the fixture `../shared/fixtures/shopify/2025-01/order_0.json` (read in place, never copied into
the project); the fields varied are the ones the fact sheet `../shared/reference/shopify.md` ("Order payload (REST
shape)") says Crossdock maps. Orders are Danish: currency DKK, 25 % VAT, prices either including VAT
(`taxes_included: true`, the VAT contained in the price) or excluding it (VAT added on top).

Every amount is a `Decimal` rounded to the cent and written as a two-decimal string, and the totals hold exactly:

    total_line_items_price = Σ price × quantity
    total_discounts        = Σ discount_allocations (= Σ discount_codes amounts)
    subtotal_price         = total_line_items_price − total_discounts
    total_tax              = Σ line tax_lines + Σ shipping tax_lines
    total_price            = subtotal_price + shipping (+ total_tax when taxes are not included)

Each `OrderPlan` also says how the order reaches Crossdock (paid at creation or later, duplicated, `orders/paid`
before `orders/create`), the at-least-once and unordered delivery the fact sheet warns about.
"""

from __future__ import annotations

import copy
import json
import random
import zlib
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossdock_local.sims.shopify.simulator import ShopifySimulator

PROJECT_ROOT = Path(__file__).resolve().parents[4]  # shopify → sims → crossdock_local → local → project root
DEFAULT_FIXTURE = PROJECT_ROOT.parent / "shared" / "fixtures" / "shopify" / "2025-01" / "order_0.json"

CURRENCY = "DKK"
VAT_RATE = Decimal("0.25")
VAT_TITLE = "Moms"
CENT = Decimal("0.01")
SHIPPING_PRICE = Decimal("49.00")
PRICE_POINTS = ("49.00", "79.95", "99.00", "129.00", "149.00", "199.00", "249.00", "299.95", "399.00", "549.00")
PRODUCT_NAMES = ("Uldsokker", "Kaffekop", "Lærredsnet", "Hørviskestykke", "Stearinlys", "Keramikskål", "Plaid")
VARIANT_TITLES = (None, "S", "M", "L", "Sort", "Natur")
FIRST_NAMES = ("Mette", "Søren", "Anne", "Lars", "Signe", "Mads", "Freja", "Jens", "Ida", "Rasmus", "Åse", "Bjørn")
LAST_NAMES = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Larsen", "Sørensen", "Østergaard", "Møller")
STREETS = ("Vesterbrogade", "Nørregade", "Søndergade", "Østergade", "Algade", "Jernbanegade", "Åboulevarden")
CITIES = (
    ("København K", "1150"),
    ("Frederiksberg", "2000"),
    ("Roskilde", "4000"),
    ("Odense C", "5000"),
    ("Esbjerg", "6700"),
    ("Vejle", "7100"),
    ("Aarhus C", "8000"),
    ("Aalborg", "9000"),
)
SHIPPING_METHODS = (("PostNord MyPack Collect", "postnord_collect"), ("GLS Pakkeshop", "gls_parcelshop"))

# Fixture fields that identify the fixture's own order, its buyer or its history: the simulator assigns identity,
# and personal data not varied here is dropped rather than repeated in every order.
_DROPPED_ORDER_KEYS = (
    *("id", "admin_graphql_api_id", "name", "number", "order_number", "created_at", "updated_at", "processed_at"),
    *("cart_token", "checkout_id", "checkout_token", "token", "order_status_url", "merchant_business_entity_id"),
    *("browser_ip", "client_details", "po_number", "reference", "source_identifier", "landing_site_ref"),
)
_DROPPED_LINE_KEYS = ("id", "admin_graphql_api_id")


@dataclass
class OrderPlan:
    """One order and how it is to be delivered.

    `paid_at_creation`: created paid (`orders/create` + `orders/paid`). `pay_later`: created pending, paid by a later
    `mark_paid`. Neither: stays pending (e.g. bank transfer). `duplicate`: each event delivered twice (same event
    id). `paid_before_created`: `orders/paid` queued ahead of `orders/create` (only with `paid_at_creation`).
    """

    order: dict[str, Any]
    paid_at_creation: bool = False
    pay_later: bool = False
    duplicate: bool = False
    paid_before_created: bool = False
    authorized: bool = False  # only authorised at checkout: captured later (orderCapture), never paid as a sale

    def create(self, sim: ShopifySimulator, domain: str) -> dict[str, Any]:
        """Create the order in the simulator as planned; returns the stored order (with its assigned ids)."""
        return sim.create_order(
            domain,
            self.order,
            paid=self.paid_at_creation,
            duplicate=self.duplicate,
            paid_first=self.paid_before_created,
            authorized=self.authorized,
        )

    def pay(self, sim: ShopifySimulator, domain: str, order_id: int) -> dict[str, Any] | None:
        """The later payment of a `pay_later` plan; None for plans that are not paid later."""
        if not self.pay_later:
            return None
        return sim.mark_paid(domain, order_id, duplicate=self.duplicate)


@dataclass(frozen=True)
class _Person:
    first_name: str
    last_name: str
    email: str
    address1: str
    city: str
    zip: str


@dataclass
class _Line:
    sku: str
    price: Decimal
    quantity: int
    discount: Decimal = Decimal("0")

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity

    @property
    def net(self) -> Decimal:
        return self.gross - self.discount


# --------------------------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(amount: Decimal) -> dict[str, Any]:
    value = {"amount": money(amount), "currency_code": CURRENCY}
    return {"shop_money": dict(value), "presentment_money": dict(value)}


def vat(net: Decimal, taxes_included: bool) -> Decimal:
    """25 % VAT of an amount after discounts: contained in it (price − price/1.25) or on top of it."""
    tax = net - net / (1 + VAT_RATE) if taxes_included else net * VAT_RATE
    return tax.quantize(CENT, rounding=ROUND_HALF_UP)


def _tax_lines(tax: Decimal) -> list[dict[str, Any]]:
    # `rate` is a JSON number in Shopify's payload (not money), so it stays a float on the wire.
    return [
        {"channel_liable": False, "price": money(tax), "price_set": money_set(tax), "rate": 0.25, "title": VAT_TITLE}
    ]


def _value_text(value: Decimal) -> str:
    # discount_applications[].value is written like "10.0" in Shopify payloads.
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


# --------------------------------------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------------------------------------


def load_template(fixture_path: Path | str | None = None) -> dict[str, Any]:
    """The fixture's `order` object (the webhook body shape), read from ../shared."""
    path = Path(fixture_path) if fixture_path is not None else DEFAULT_FIXTURE
    payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    order: dict[str, Any] = payload.get("order", payload)
    return order


def _order_template(fixture: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(fixture)
    for key in _DROPPED_ORDER_KEYS:
        template.pop(key, None)
    template.update(
        app_id=None,
        buyer_accepts_marketing=False,
        cancel_reason=None,
        cancelled_at=None,
        closed_at=None,
        confirmed=True,
        currency=CURRENCY,
        presentment_currency=CURRENCY,
        customer_locale="da-DK",
        discount_applications=[],
        discount_codes=[],
        duties_included=False,
        estimated_taxes=False,
        financial_status="pending",
        fulfillment_status=None,
        fulfillments=[],
        landing_site=None,
        referring_site=None,
        location_id=None,
        note=None,
        note_attributes=[],
        phone=None,
        refunds=[],
        source_name="web",
        source_url=None,
        tags="",
        test=False,
        user_id=None,
        device_id=None,
        total_tip_received="0.00",
        total_cash_rounding_payment_adjustment_set=money_set(Decimal("0")),
        total_cash_rounding_refund_adjustment_set=money_set(Decimal("0")),
    )
    return template


def _line_template(fixture: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = copy.deepcopy(fixture["line_items"][0])
    for key in _DROPPED_LINE_KEYS:
        template.pop(key, None)
    template.update(attributed_staffs=[], properties=[], duties=[], fulfillment_status=None, vendor="Crossdock Demo")
    return template


def _shipping_template(fixture: dict[str, Any]) -> dict[str, Any]:
    lines = fixture.get("shipping_lines") or [{}]
    template: dict[str, Any] = copy.deepcopy(lines[0])
    template.pop("id", None)
    template.update(carrier_identifier=None, phone=None, source="shopify", discount_allocations=[], is_removed=False)
    return template


# --------------------------------------------------------------------------------------------------------------------
# Catalogue, people
# --------------------------------------------------------------------------------------------------------------------


def _sku_hash(sku: str) -> int:
    # A stable hash (not Python's salted hash()) so a SKU has the same price and ids in every run.
    return zlib.crc32(sku.encode())


def sku_price(sku: str) -> Decimal:
    return Decimal(PRICE_POINTS[_sku_hash(sku) % len(PRICE_POINTS)])


def _ascii(text: str) -> str:
    return text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace(" ", "")


def _person(rng: random.Random, index: int) -> _Person:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, zip_code = rng.choice(CITIES)
    return _Person(
        first_name=first,
        last_name=last,
        email=f"{_ascii(first)}.{_ascii(last)}.{index}@example.com",
        address1=f"{rng.choice(STREETS)} {rng.randint(1, 140)}",
        city=city,
        zip=zip_code,
    )


def _address(person: _Person) -> dict[str, Any]:
    return {
        "first_name": person.first_name,
        "address1": person.address1,
        "phone": None,
        "city": person.city,
        "zip": person.zip,
        "province": None,
        "country": "Denmark",
        "last_name": person.last_name,
        "address2": "",
        "company": None,
        "latitude": None,
        "longitude": None,
        "name": f"{person.first_name} {person.last_name}",
        "country_code": "DK",
        "province_code": None,
    }


def _customer(person: _Person) -> dict[str, Any]:
    # No id: the simulator assigns one per e-mail, so a returning customer keeps the same id.
    return {
        "email": person.email,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": None,
        "tags": "",
        "currency": CURRENCY,
        "tax_exemptions": [],
        "default_address": {**_address(person), "default": True, "country_name": "Denmark"},
    }


# --------------------------------------------------------------------------------------------------------------------
# Lines, discounts, shipping
# --------------------------------------------------------------------------------------------------------------------


def _pick_lines(rng: random.Random, skus: list[str]) -> list[_Line]:
    chosen = rng.sample(skus, rng.randint(1, min(5, len(skus))))
    return [_Line(sku, sku_price(sku), rng.randint(1, 4)) for sku in chosen]


def _discount(rng: random.Random, lines: list[_Line]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply at most one discount to `lines` (setting `_Line.discount`); returns (applications, codes)."""
    roll = rng.random()
    if roll < 0.55:
        return [], []
    if roll < 0.75:
        return _fixed_code(rng, lines)
    if roll < 0.90:
        return _percentage_code(lines, Decimal("10"), "RABAT10")
    return _automatic_on_one_line(rng, lines, Decimal("20"))


def _fixed_code(rng: random.Random, lines: list[_Line]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    gross = sum((line.gross for line in lines), Decimal("0"))
    code, nominal = rng.choice((("SOMMER50", Decimal("50")), ("VELKOMMEN100", Decimal("100"))))
    amount = min(nominal, (gross / 2).quantize(Decimal("1"), rounding=ROUND_DOWN))
    # Spread "across" in proportion to line totals; the last line takes the remainder so the cents add up.
    allocated = Decimal("0")
    for line in lines[:-1]:
        line.discount = (amount * line.gross / gross).quantize(CENT, rounding=ROUND_DOWN)
        allocated += line.discount
    lines[-1].discount = amount - allocated
    application = _application("discount_code", amount, "fixed_amount", "all", code=code)
    return [application], [{"code": code, "amount": money(amount), "type": "fixed_amount"}]


def _percentage_code(
    lines: list[_Line], percent: Decimal, code: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    for line in lines:
        line.discount = (line.gross * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    total = sum((line.discount for line in lines), Decimal("0"))
    application = _application("discount_code", percent, "percentage", "all", code=code)
    return [application], [{"code": code, "amount": money(total), "type": "percentage"}]


def _automatic_on_one_line(
    rng: random.Random, lines: list[_Line], percent: Decimal
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    line = rng.choice(lines)
    line.discount = (line.gross * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    application = _application("automatic", percent, "percentage", "entitled", title="Sommerudsalg")
    return [application], []


def _application(kind: str, value: Decimal, value_type: str, selection: str, **extra: str) -> dict[str, Any]:
    application = {
        "target_type": "line_item",
        "type": kind,
        "value": _value_text(value),
        "value_type": value_type,
        "allocation_method": "across",
        "target_selection": selection,
    }
    if "title" in extra:
        extra = {**extra, "description": extra["title"]}
    return {**application, **extra}


def _shipping(rng: random.Random) -> tuple[str, Decimal] | None:
    """None (nothing shipped), free shipping, or 49.00 with a carrier."""
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.45:
        return "Gratis fragt", Decimal("0.00")
    return rng.choice(SHIPPING_METHODS)[0], SHIPPING_PRICE


# --------------------------------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------------------------------


def _line_item(template: dict[str, Any], line: _Line, taxes_included: bool, ships: bool) -> dict[str, Any]:
    item = copy.deepcopy(template)
    digest = _sku_hash(line.sku)
    title = PRODUCT_NAMES[digest % len(PRODUCT_NAMES)]
    variant_title = VARIANT_TITLES[(digest >> 8) % len(VARIANT_TITLES)]
    item.update(
        sku=line.sku,
        title=title,
        name=f"{title} - {variant_title}" if variant_title else title,
        variant_title=variant_title,
        product_id=7_100_000_000_000 + digest % 10**9,
        variant_id=42_300_000_000_000 + digest,
        price=money(line.price),
        price_set=money_set(line.price),
        quantity=line.quantity,
        current_quantity=line.quantity,
        fulfillable_quantity=line.quantity,
        grams=100 + digest % 900,
        requires_shipping=ships,
        # Shopify leaves the deprecated line `total_discount` at 0.00 and reports discounts as allocations.
        total_discount="0.00",
        total_discount_set=money_set(Decimal("0")),
        tax_lines=_tax_lines(vat(line.net, taxes_included)),
        discount_allocations=[],
    )
    if line.discount:
        item["discount_allocations"] = [
            {"amount": money(line.discount), "amount_set": money_set(line.discount), "discount_application_index": 0}
        ]
    return item


def _shipping_line(template: dict[str, Any], method: tuple[str, Decimal], taxes_included: bool) -> dict[str, Any]:
    title, price = method
    line = copy.deepcopy(template)
    code = dict(SHIPPING_METHODS).get(title, "free_shipping")
    line.update(
        title=title,
        code=code,
        price=money(price),
        price_set=money_set(price),
        discounted_price=money(price),
        discounted_price_set=money_set(price),
        tax_lines=_tax_lines(vat(price, taxes_included)) if price else [],
    )
    return line


def _set_totals(order: dict[str, Any], lines: list[_Line], shipping: Decimal, taxes_included: bool) -> None:
    line_items_price = sum((line.gross for line in lines), Decimal("0"))
    discounts = sum((line.discount for line in lines), Decimal("0"))
    subtotal = line_items_price - discounts
    tax = sum((vat(line.net, taxes_included) for line in lines), Decimal("0"))
    if shipping:
        tax += vat(shipping, taxes_included)
    total = subtotal + shipping + (Decimal("0") if taxes_included else tax)
    amounts = {
        "total_line_items_price": line_items_price,
        "total_discounts": discounts,
        "current_total_discounts": discounts,
        "subtotal_price": subtotal,
        "current_subtotal_price": subtotal,
        "total_tax": tax,
        "current_total_tax": tax,
        "total_price": total,
        "current_total_price": total,
    }
    for key, amount in amounts.items():
        order[key] = money(amount)
        order[f"{key}_set"] = money_set(amount)
    order["total_outstanding"] = money(total)
    order["total_shipping_price_set"] = money_set(shipping)
    order["tax_lines"] = _tax_lines(tax) if tax else []


def _payment_flags(rng: random.Random) -> dict[str, bool]:
    roll = rng.random()
    paid_at_creation, pay_later = roll < 0.6, 0.6 <= roll < 0.85
    return {
        "paid_at_creation": paid_at_creation,
        "pay_later": pay_later,
        "duplicate": rng.random() < 0.1,
        "paid_before_created": paid_at_creation and rng.random() < 0.15,
    }


def _gateway(flags: dict[str, bool]) -> str:
    # Orders that are never paid in the run look like manual bank transfers, the usual reason an order stays pending.
    return "shopify_payments" if flags["paid_at_creation"] or flags["pay_later"] else "Bankoverførsel"


class _Builder:
    def __init__(self, rng: random.Random, skus: list[str], fixture: dict[str, Any], returning: int) -> None:
        self.rng = rng
        self.skus = skus
        self.order_template = _order_template(fixture)
        self.line_template = _line_template(fixture)
        self.shipping_template = _shipping_template(fixture)
        self.regulars = [_person(rng, index) for index in range(returning)]
        self.guests = 0

    def _buyer(self) -> tuple[_Person, bool]:
        """(person, is_guest): about a fifth are guest checkouts, the rest come from a pool of returning customers."""
        if self.rng.random() < 0.2:
            self.guests += 1
            return _person(self.rng, 10_000 + self.guests), True
        return self.rng.choice(self.regulars), False

    def plan(self) -> OrderPlan:
        rng = self.rng
        taxes_included = rng.random() < 0.7
        lines = _pick_lines(rng, self.skus)
        applications, codes = _discount(rng, lines)
        method = _shipping(rng)
        person, guest = self._buyer()
        flags = _payment_flags(rng)
        order_lines = [_line_item(self.line_template, line, taxes_included, method is not None) for line in lines]
        order = copy.deepcopy(self.order_template)
        order.update(
            email=person.email,
            contact_email=person.email,
            customer=None if guest else _customer(person),
            billing_address=_address(person),
            shipping_address=_address(person) if method else None,
            buyer_accepts_marketing=rng.random() < 0.3,
            taxes_included=taxes_included,
            discount_applications=applications,
            discount_codes=codes,
            payment_gateway_names=[_gateway(flags)],
            confirmation_number="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ123456789") for _ in range(9)),
            line_items=order_lines,
            shipping_lines=[_shipping_line(self.shipping_template, method, taxes_included)] if method else [],
            total_weight=sum(item["grams"] * item["quantity"] for item in order_lines),
        )
        _set_totals(order, lines, method[1] if method else Decimal("0"), taxes_included)
        return OrderPlan(order, **flags)


def varied_orders(
    count: int,
    seed: int,
    skus: list[str],
    fixture_path: Path | str | None = None,
    *,
    authorized_share: float = 0.0,
) -> list[OrderPlan]:
    """`count` realistic REST-shaped DKK orders over `skus`, the same for the same seed (and fixture).

    `authorized_share`: the part of the orders paid at checkout whose payment is only authorised instead (a shop
    capturing when the warehouse packs, as with PeakWMS): created `authorized`, without `orders/paid`. Drawn from a
    stream of its own, so the orders themselves are the same whatever the share."""
    if not skus:
        raise ValueError("varied_orders needs at least one SKU")
    if not 0.0 <= authorized_share <= 1.0:
        raise ValueError("authorized_share must be between 0 and 1")
    rng = random.Random(seed)
    builder = _Builder(rng, list(skus), load_template(fixture_path), returning=max(3, count // 5))
    plans = [builder.plan() for _ in range(count)]
    payments = random.Random(f"authorized:{seed}")
    for plan in plans:
        if plan.paid_at_creation and payments.random() < authorized_share:
            plan.paid_at_creation = plan.paid_before_created = False
            plan.authorized = True
            plan.order["financial_status"] = "authorized"
    return plans
