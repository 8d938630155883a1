"""The canonical order: what Crossdock knows about a source order, independent of Shopify's or Rackbeat's shape.

Money is `Decimal` and exact. `unit_price_excl_vat` may carry more than two decimals: it is derived from
VAT-inclusive prices (149.00 / 1.25 = 119.2, 99.95 / 1.25 = 79.96, a discount split over 3 units …) and rounding it
early would make the ERP total drift from the shop total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    title: str
    quantity: int
    unit_price_excl_vat: Decimal
    discount_excl_vat: Decimal  # for the whole line
    vat_rate: Decimal  # 0.25 for 25 %
    vat_amount: Decimal  # the source system's own VAT for the line, already rounded
    is_shipping: bool = False
    source_line_id: str = ""  # the source system's line id (Shopify `line_item.id`); refunds point at it
    # Why the line cannot name a Rackbeat item by itself ("no SKU", "deleted product", "gift card"); None when it can.
    # What happens then is the connection's `orders.unmapped_lines` policy.
    unmapped: str | None = None

    @property
    def net_total(self) -> Decimal:
        return self.unit_price_excl_vat * self.quantity - self.discount_excl_vat

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_amount


@dataclass(frozen=True)
class Address:
    """A postal address as the order gives it (billing or delivery); every part may be missing."""

    name: str | None = None
    company: str | None = None
    street: str | None = None  # the address lines, joined
    zip: str | None = None
    city: str | None = None
    country_code: str | None = None  # ISO 3166 alpha-2
    phone: str | None = None


@dataclass(frozen=True)
class Customer:
    email: str | None
    name: str
    phone: str | None = None
    address: dict[str, str | None] = field(default_factory=dict)
    # The source system's customer id (Shopify `customer.id`); None for a guest checkout. What an order without an
    # e-mail (Shopify omits it without protected-customer-data approval) is matched by.
    source_id: str | None = None


@dataclass(frozen=True)
class Order:
    source_id: str  # the source system's id (Shopify order id)
    name: str  # what people call it ("#1001")
    number: int | None
    currency: str
    source_name: str
    customer: Customer
    lines: tuple[OrderLine, ...]
    total: Decimal  # what the customer pays, VAT included
    country_code: str | None
    financial_status: str | None
    fulfillment_status: str | None
    cancelled: bool
    taxes_included: bool = False
    # The shipping address's country alone (None when the order ships nowhere, e.g. at the counter): what decides
    # where stock is drawn from (SPEC §1.6 country locations), where a billing country would send the parcel from
    # the wrong warehouse.
    delivery_country: str | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None  # the shipping address; None when nothing is shipped

    @property
    def is_pos(self) -> bool:
        return self.source_name == "pos"
