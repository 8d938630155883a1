"""A Shopbox sale (basket) as a Rackbeat order: its lines on the Rackbeat items, VAT per `add_vat`, discounts, the
location of its branch, the POS customer, and the basket's uid as the order's reference (SPEC §2, issue 14 item 6).

Everything is checked before anything is written: a basket whose product has no Rackbeat item, a line with a
quantity that is not positive, a branch without a location (and no `main_location_rackbeat`), or lines that do not
add up to the basket's total is refused with a `PermanentError` naming the field — the order is never half-written.

Money: Shopbox sends integer øre including VAT (`selling_price` per unit, `discount` for the whole line,
`vat_rate` in percent). With `add_vat` the Rackbeat line carries the price without VAT and the line's VAT rate, so
Rackbeat's total is the till's; without it the line carries the price without VAT and no VAT is registered (the
sale enters Rackbeat net, as the reference integration's "Tilføy moms: nei" does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.products import read_item
from crossdock.errors import FailureClass, PermanentError

if TYPE_CHECKING:
    from crossdock.connectors.shopbox.shapes import Basket, BasketLine
    from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

PERCENT_PLACES = Decimal("0.000001")
PRICE_PLACES = Decimal("0.000001")
HUNDRED = Decimal(100)
# Guess (fact sheet): a line without `vat_rate` carries Danish standard VAT, which every Shopbox till in Denmark
# charges unless the product says otherwise.
DEFAULT_VAT_RATE = Decimal(25)

# (Shopbox product uid, variant uid or None, SKU) → the Rackbeat item number, or None when there is none.
FindItem = Callable[[str, str | None, str | None], str | None]


def basket_reference(basket_uid: str, client_uid: str) -> str:
    """The order's `other_reference`: how a retry after a lost response finds the order instead of making another.
    Basket uids are Shopbox's own; the client (tenant) keeps two Shopbox accounts on one Rackbeat account apart."""
    return f"Shopbox basket {basket_uid} (client {client_uid})"


def _ore(value: Any) -> Decimal:
    return Decimal(str(value)) / HUNDRED


def _percent(value: Any) -> Decimal:
    return DEFAULT_VAT_RATE if value is None else Decimal(str(value))


@dataclass(frozen=True)
class SaleLine:
    """One basket line, checked and on its Rackbeat item."""

    item: str
    name: str
    quantity: int
    gross_total: Decimal  # kroner the customer paid for the line, VAT included, after its discount
    unit_price: Decimal  # kroner per unit, VAT included, before the discount
    discount: Decimal  # kroner off the whole line, VAT included
    vat_rate: Decimal  # percent


@dataclass(frozen=True)
class Sale:
    """A basket as the order will be made from it."""

    uid: str
    reference: str
    currency: str
    location: str | None
    lines: tuple[SaleLine, ...]
    total: Decimal  # kroner, VAT included


def location_for(basket: Basket, settings: RackbeatShopboxSettings) -> str:
    """The Rackbeat location of the basket's cash register or branch (`locations`), else `main_location_rackbeat`."""
    for key in (basket.cash_register, basket.branch):
        if key is not None and str(key) in settings.locations:
            return str(settings.locations[str(key)])
    if settings.main_location_rackbeat is not None:
        return str(settings.main_location_rackbeat)
    raise PermanentError(
        f"basket {basket.uid}: branch: Shopbox branch {basket.branch} has no Rackbeat location in `locations` and "
        "there is no `main_location_rackbeat` to fall back on",
        FailureClass.UNMAPPED,
    )


def _line(basket: Basket, index: int, line: BasketLine, find_item: FindItem) -> SaleLine:
    where = f"basket {basket.uid}: lines[{index}]"
    if line.quantity is None or int(line.quantity) != line.quantity or line.quantity <= 0:
        # A return at the till is a credit in Rackbeat, not an order line of minus something.
        raise PermanentError(
            f"{where}.quantity: {line.quantity} is not a positive whole number", FailureClass.VALIDATION
        )
    quantity = int(line.quantity)
    if line.selling_price is None or line.selling_price < 0:
        raise PermanentError(f"{where}.selling_price: {line.selling_price} is not a price", FailureClass.VALIDATION)
    unit_price = _ore(line.selling_price)
    discount = _ore(line.discount or 0)
    if discount < 0 or discount > unit_price * quantity:
        raise PermanentError(
            f"{where}.discount: {discount} is not between 0 and the line's {unit_price * quantity}",
            FailureClass.VALIDATION,
        )
    vat_rate = _percent(line.vat_rate)
    if vat_rate < 0 or vat_rate >= HUNDRED:
        raise PermanentError(f"{where}.vat_rate: {vat_rate} is not a VAT rate in percent", FailureClass.VALIDATION)
    product = str(line.product) if line.product is not None else None
    if product is None:
        raise PermanentError(f"{where}.product: the line names no Shopbox product", FailureClass.UNMAPPED)
    variant = str(line.product_variance) if line.product_variance is not None else None
    item = find_item(product, variant, line.sku_code or None)
    if item is None:
        described = f"product {product}" + (f", variant {variant}" if variant else "")
        raise PermanentError(
            f"{where}.product: Shopbox {described} (SKU {line.sku_code or 'none'}) has no Rackbeat item: neither "
            "the Shopbox UID fields nor the SKU find one",
            FailureClass.UNMAPPED,
        )
    return SaleLine(
        item=item,
        name=line.name or item,
        quantity=quantity,
        gross_total=unit_price * quantity - discount,
        unit_price=unit_price,
        discount=discount,
        vat_rate=vat_rate,
    )


def read_sale(basket: Basket, client_uid: str, settings: RackbeatShopboxSettings, find_item: FindItem) -> Sale:
    """The basket checked line by line and on Rackbeat items; the first problem raises, naming its field."""
    if not basket.lines:
        raise PermanentError(f"basket {basket.uid}: lines: the basket has no lines", FailureClass.VALIDATION)
    location = location_for(basket, settings)
    lines = tuple(_line(basket, index, line, find_item) for index, line in enumerate(basket.lines))
    added = sum((line.gross_total for line in lines), Decimal(0))
    if basket.total is not None and _ore(basket.total) != added:
        raise PermanentError(
            f"basket {basket.uid}: total: the basket says {_ore(basket.total)} but its lines add up to {added}",
            FailureClass.VALIDATION,
        )
    return Sale(
        uid=str(basket.uid),
        reference=basket_reference(str(basket.uid), client_uid),
        currency=basket.currency or "DKK",
        location=location,
        lines=lines,
        total=added,
    )


def rackbeat_lines(sale: Sale, add_vat: bool) -> list[dict[str, Any]]:
    """Rackbeat's lines: the price without VAT (exact to six places: 79.00 / 1.25 = 63.2), the discount as a share
    of the line, and the VAT rate only with `add_vat`."""
    lines = []
    for line in sale.lines:
        net_price = (line.unit_price / (1 + line.vat_rate / HUNDRED)).quantize(PRICE_PLACES).normalize()
        share = Decimal(0)
        if line.discount and line.unit_price:
            share = (line.discount / (line.unit_price * line.quantity) * HUNDRED).quantize(PERCENT_PLACES)
        lines.append(
            {
                "item_id": line.item,
                "name": line.name,
                "quantity": line.quantity,
                "line_price": str(net_price),
                "discount_percentage": str(share.normalize()),
                "vat_percentage": str(line.vat_rate.normalize()) if add_vat else "0",
                **({"location_id": sale.location} if sale.location else {}),
            }
        )
    return lines


def expected_total(sale: Sale, add_vat: bool) -> Decimal:
    """What the Rackbeat order should total: the till's total, or without `add_vat` that total less its VAT."""
    if add_vat:
        return sale.total
    return sum((line.gross_total / (1 + line.vat_rate / HUNDRED) for line in sale.lines), Decimal(0))


def order_body(sale: Sale, settings: RackbeatShopboxSettings, customer: int | None = None) -> dict[str, Any]:
    """The draft order, of `customer` (the POS customer, `pos_customer`) or else the till's; refused when
    Rackbeat's arithmetic would not give the till's total within the half cent per line that VAT rounding may move
    it."""
    lines = rackbeat_lines(sale, settings.add_vat)
    rackbeat_total = rackbeat.expected_total(lines)
    wanted = expected_total(sale, settings.add_vat)
    if abs(rackbeat_total - wanted) > rackbeat.CENT_HALF * len(lines):
        raise PermanentError(
            f"basket {sale.uid}: total: Rackbeat would total {rackbeat_total} {sale.currency} at the lines' VAT "
            f"rates, but the sale comes to {wanted}",
            FailureClass.VALIDATION,
        )
    body: dict[str, Any] = {
        "customer_id": settings.sales.customer_number if customer is None else customer,
        "currency": sale.currency,
        "other_reference": sale.reference,
        "heading": f"Shopbox sale {sale.uid}",
        "number": None,
        "lines": lines,
    }
    if settings.sales.employee_number is not None:
        body["employee_id"] = settings.sales.employee_number
        body["our_reference_id"] = settings.sales.employee_number
    return body


@dataclass
class RackbeatItems:
    """Finds the Rackbeat item of a Shopbox product or variant: by the two custom item fields the merchant keeps the
    Shopbox UIDs in (`variant_field_id` for a variant, `uid_field_id` for a product), then by the SKU as the item
    number. Looked up once per product and variant in a basket."""

    client: RackbeatClient
    uid_field_id: int | str | None
    variant_field_id: int | str | None

    def __post_init__(self) -> None:
        self._found: dict[tuple[str, str | None, str | None], str | None] = {}

    def __call__(self, product: str, variant: str | None, sku: str | None) -> str | None:
        key = (product, variant, sku)
        if key not in self._found:
            self._found[key] = self._find(product, variant, sku)
        return self._found[key]

    def _find(self, product: str, variant: str | None, sku: str | None) -> str | None:
        if variant is not None and self.variant_field_id is not None:
            found = self._by_field(self.variant_field_id, variant, f"variant {variant}")
            if found is not None:
                return found
        if self.uid_field_id is not None:
            # With a variant, only an item that alone holds the product's UID is the variant's (a merchant who keeps
            # one Rackbeat item for all variants); several are the variants' own items, and the SKU decides.
            found = self._by_field(self.uid_field_id, product, f"product {product}", ambiguous_ok=variant is not None)
            if found is not None:
                return found
        if sku:
            item = read_item(self.client, sku)
            if item is not None:
                return str(item["number"])
        return None

    def _by_field(self, field_id: int | str, value: str, described: str, *, ambiguous_ok: bool = False) -> str | None:
        rows = self.client.get("products", **{f"field_eq[{field_id}]": value, "limit": 2})["products"]
        if len(rows) > 1:
            if ambiguous_ok:
                return None
            numbers = ", ".join(str(row["number"]) for row in rows)
            raise PermanentError(
                f"Shopbox {described} is on more than one Rackbeat item (custom field {field_id}: {numbers}); "
                "keep it on one",
                FailureClass.UNMAPPED,
            )
        return str(rows[0]["number"]) if rows else None
