"""What a plausible Shopify order holds, checked before the order is read (`orders.parse_order`).

The order model reads what Crossdock maps and tolerates the rest (reference/shopify.md "Order payload"); by itself
it would also take a correctly signed body that no shop sends: an id of `true` (pydantic reads it as 1), −5 or
10⁴⁰; a price of "1e400" or a quantity of 1e30 (which then failed as a `bug` with `InvalidOperation` deep in the
VAT arithmetic); a quantity of zero or below, a negative price or no lines at all (which became a tax mismatch in
Rackbeat instead of a reason naming the field); a currency that is not ISO 4217; NUL characters in a name. Each is
refused here as a `ValidationError` whose first error names the field (`line_items.0.quantity: …`), so the event
ends `needs_attention` with that reason and nothing is booked.

The bounds are Shopify's own where it has them (ids are positive int64; money is a decimal string) and generous
otherwise (a line of at most a million pieces, amounts below 10¹² in the shop's currency, six decimals).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

MAX_ID = 2**63 - 1
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal(10) ** 12
MAX_TEXT = 5_000

# ISO 4217's current codes that a shop can sell in (the list of 2025, with the codes withdrawn since 2023 that old
# orders still carry: HRK, SLL, ZWL, ANG). Left out: precious metals, bond units, testing and "no currency" codes
# (XAU, XAG, XPD, XPT, XBA–XBD, XDR, XSU, XUA, XTS, XXX), which no shop prices in.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
    CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG ZWL
"""
ISO_4217 = frozenset(_CODES.split())

# Control characters other than tab, line feed and carriage return, and lone surrogates (a JSON `\ud800` escape:
# valid JSON, but no UTF-8 can carry it to Rackbeat or DynamoDB).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _printable(text: str) -> str:
    found = _UNPRINTABLE.search(text)
    if found is not None:
        raise ValueError(f"holds the control character U+{ord(found.group()):04X} at position {found.start()}")
    return text


def _iso_4217(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


ShopifyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=6, allow_inf_nan=False)]
Rate = Annotated[Decimal, Field(ge=0, le=1, decimal_places=6, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_printable)]
Currency = Annotated[str, AfterValidator(_iso_4217)]


class _Values(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TaxLineValues(_Values):
    price: Money
    rate: Rate = Decimal(0)
    title: Text | None = None


class DiscountValues(_Values):
    amount: Money


class LineItemValues(_Values):
    id: ShopifyId
    sku: Text | None = None
    title: Text = ""
    quantity: Quantity
    price: Money
    total_discount: Money = Decimal(0)
    variant_id: ShopifyId | None = None
    discount_allocations: list[DiscountValues] = Field(default_factory=list)
    tax_lines: list[TaxLineValues] = Field(default_factory=list)


class ShippingLineValues(_Values):
    title: Text | None = None
    code: Text | None = None
    price: Money
    discounted_price: Money | None = None
    tax_lines: list[TaxLineValues] = Field(default_factory=list)


class CustomerValues(_Values):
    id: ShopifyId | None = None
    email: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    phone: Text | None = None


class AddressValues(_Values):
    name: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    company: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    city: Text | None = None
    zip: Text | None = None
    province: Text | None = None
    country_code: Text | None = None
    phone: Text | None = None


class OrderValues(_Values):
    id: ShopifyId
    name: Text
    order_number: ShopifyId | None = None
    email: Text | None = None
    contact_email: Text | None = None
    currency: Currency
    location_id: ShopifyId | None = None
    customer: CustomerValues | None = None
    billing_address: AddressValues | None = None
    shipping_address: AddressValues | None = None
    line_items: list[LineItemValues] = Field(min_length=1)
    shipping_lines: list[ShippingLineValues] = Field(default_factory=list)
    total_price: Money
    total_tax: Money = Decimal(0)


def check_order_values(payload: dict[str, Any]) -> None:
    """Raises pydantic's `ValidationError` for the first implausible value, naming its field."""
    OrderValues.model_validate(payload)
