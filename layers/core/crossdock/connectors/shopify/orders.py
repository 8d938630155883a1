"""Shopify's REST-shaped order payload (webhook bodies) and its mapping to the canonical order.

Only the fields Crossdock maps are modelled (reference/shopify.md, "Order payload"); every other field is tolerated
and ignored. Money arrives as decimal strings and stays `Decimal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crossdock.connectors.shopify.order_values import check_order_values
from crossdock.model.order import Address as PostalAddress
from crossdock.model.order import Customer, Order, OrderLine

# Shopify financial statuses of an order whose money was taken (a refund does not make it unpaid).
PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})

# Unit prices derived from VAT-inclusive amounts keep this many decimals: enough that quantity × price × (1 + rate)
# lands on the shop's cent, few enough to read.
PRICE_PLACES = Decimal("0.000001")


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TaxLine(_Tolerant):
    price: Decimal
    rate: Decimal = Decimal(0)
    title: str | None = None


class DiscountAllocation(_Tolerant):
    amount: Decimal


class LineItem(_Tolerant):
    id: int
    sku: str | None = None
    title: str = ""
    quantity: int
    price: Decimal
    total_discount: Decimal = Decimal(0)
    variant_id: int | None = None
    product_exists: bool | None = None
    gift_card: bool = False
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)

    @property
    def discount(self) -> Decimal:
        if self.discount_allocations:
            return sum((a.amount for a in self.discount_allocations), Decimal(0))
        return self.total_discount


class ShippingLine(_Tolerant):
    title: str | None = None
    code: str | None = None
    price: Decimal
    discounted_price: Decimal | None = None
    tax_lines: list[TaxLine] = Field(default_factory=list)


class CustomerRef(_Tolerant):
    id: int | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class Address(_Tolerant):
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None


class ShopifyOrder(_Tolerant):
    id: int
    admin_graphql_api_id: str | None = None
    name: str
    order_number: int | None = None
    email: str | None = None
    contact_email: str | None = None
    currency: str
    taxes_included: bool = False
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: str | None = None
    source_name: str | None = None
    location_id: int | None = None
    customer: CustomerRef | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    line_items: list[LineItem]
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    total_price: Decimal
    total_tax: Decimal = Decimal(0)


def parse_order(payload: dict[str, Any]) -> ShopifyOrder:
    check_order_values(payload)  # an implausible value is refused naming its field, before anything reads it
    return ShopifyOrder.model_validate(payload)


def _rate(tax_lines: list[TaxLine]) -> Decimal:
    # Several taxes may apply to one line (state + county); Rackbeat takes one percentage per line.
    return sum((t.rate for t in tax_lines), Decimal(0))


def _vat(tax_lines: list[TaxLine]) -> Decimal:
    return sum((t.price for t in tax_lines), Decimal(0))


def _excl(amount: Decimal, rate: Decimal, taxes_included: bool) -> Decimal:
    if not taxes_included or rate == 0:
        return amount
    return (amount / (1 + rate)).quantize(PRICE_PLACES)


def unmapped_reason(item: LineItem) -> str | None:
    """Why a line cannot be matched to a Rackbeat item by its SKU, before asking Rackbeat (unknown SKUs show up
    only there). A gift card is a liability, not a product; a deleted product's SKU may be reused by now."""
    if item.gift_card:
        return "gift card"
    if item.product_exists is False or (item.variant_id is None and item.product_exists is not None):
        return "deleted product"
    if not (item.sku or "").strip():
        return "no SKU"
    return None


def _product_line(item: LineItem, taxes_included: bool) -> OrderLine:
    rate = _rate(item.tax_lines)
    return OrderLine(
        source_line_id=str(item.id),
        unmapped=unmapped_reason(item),
        sku=(item.sku or "").strip(),
        title=item.title,
        quantity=item.quantity,
        unit_price_excl_vat=_excl(item.price, rate, taxes_included),
        discount_excl_vat=_excl(item.discount, rate, taxes_included),
        vat_rate=rate,
        vat_amount=_vat(item.tax_lines),
    )


def _shipping_line(shipping: ShippingLine, taxes_included: bool, shipping_sku: str) -> OrderLine:
    rate = _rate(shipping.tax_lines)
    discounted = shipping.price if shipping.discounted_price is None else shipping.discounted_price
    return OrderLine(
        sku=shipping_sku,
        title=shipping.title or "Shipping",
        quantity=1,
        unit_price_excl_vat=_excl(shipping.price, rate, taxes_included),
        discount_excl_vat=_excl(shipping.price - discounted, rate, taxes_included),
        vat_rate=rate,
        vat_amount=_vat(shipping.tax_lines),
        is_shipping=True,
    )


def _customer(order: ShopifyOrder) -> Customer:
    ref = order.customer or CustomerRef()
    billing = order.billing_address or order.shipping_address or Address()
    email = order.email or order.contact_email or ref.email
    person = " ".join(p for p in (ref.first_name, ref.last_name) if p)
    name = billing.company or person or billing.name or email or f"Shopify customer of {order.name}"
    address = billing.model_dump(exclude={"name", "company"})
    return Customer(
        email=email.strip().lower() if email else None,
        name=name,
        phone=ref.phone,
        address=address,
        source_id=str(ref.id) if ref.id is not None else None,
    )


def _postal(address: Address | None) -> PostalAddress | None:
    """Shopify's address as the canonical one; None when absent (or every part empty: redacted, or no approval)."""
    if address is None:
        return None
    street = ", ".join(part.strip() for part in (address.address1, address.address2) if part and part.strip())
    found = PostalAddress(
        name=address.name or None,
        company=address.company or None,
        street=street or None,
        zip=address.zip or None,
        city=address.city or None,
        country_code=address.country_code or None,
        phone=address.phone or None,
    )
    return found if found != PostalAddress() else None


def to_canonical(order: ShopifyOrder, shipping_sku: str) -> Order:
    """Maps a Shopify order; shipping lines with a zero price after discount are dropped (nothing to book)."""
    lines = [_product_line(item, order.taxes_included) for item in order.line_items if item.quantity > 0]
    for shipping in order.shipping_lines:
        line = _shipping_line(shipping, order.taxes_included, shipping_sku)
        if line.net_total != 0:
            lines.append(line)
    country = (order.shipping_address or order.billing_address or Address()).country_code
    return Order(
        source_id=str(order.id),
        name=order.name,
        number=order.order_number,
        currency=order.currency,
        source_name=order.source_name or "web",
        customer=_customer(order),
        lines=tuple(lines),
        total=order.total_price,
        country_code=country,
        financial_status=order.financial_status,
        fulfillment_status=order.fulfillment_status,
        cancelled=order.cancelled_at is not None,
        taxes_included=order.taxes_included,
        delivery_country=order.shipping_address.country_code if order.shipping_address else None,
        billing_address=_postal(order.billing_address),
        delivery_address=_postal(order.shipping_address),
    )
