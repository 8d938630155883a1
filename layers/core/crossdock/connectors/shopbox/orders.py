"""A Shopbox sale (a basket from the detail call) as the canonical `crossdock.model.order.Order`.

Shopbox prices are integer øre with VAT included [seen S6]: `selling_price` per unit and `discount` for the whole
line. The canonical line carries net prices, derived exactly as the Shopify connector derives them from
VAT-inclusive prices (docs/orders.md "Money"): price / (1 + rate), kept to six decimals, so a 79.00 kr mug at 25 %
is 63.2 net and the ERP total equals the till's to the øre. The line's VAT is what the till charged on it, to the
øre: the line's gross amount less its net amount.

Nothing is booked from a sale that does not add up: a line without product, a quantity of zero or below, a price
or discount below zero, a VAT rate outside 0–100 %, no lines at all, or a basket `total` other than the sum of its
lines is a `PermanentError` naming the field (`sales[2].quantity`, `total`), so the event ends `needs_attention`
with that reason. A returned item (Shopbox lets a till ring a negative quantity [guess]) is such a refusal too:
what a return becomes in the ERP is the integration's decision, not something to fold into an order silently.
"""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.shopbox.money import ore_to_decimal
from crossdock.connectors.shopbox.shapes import Basket, BasketLine
from crossdock.errors import FailureClass, PermanentError
from crossdock.model.order import Customer, Order, OrderLine, to_cents

PRICE_PLACES = Decimal("0.000001")  # as connectors/shopify/orders.py: up to six decimals, never rounded to cents early
HUNDRED = Decimal(100)
SOURCE_NAME = "pos"  # a till sale: `Order.is_pos`


def basket_order(basket: Basket, *, default_vat_rate: Decimal, lines_key: str = "sales") -> Order:
    """The basket as an order. `default_vat_rate` (a fraction: 0.25 for 25 %) applies to lines that carry no
    `vat_rate` of their own; `lines_key` only names the lines in messages (the key the detail call used)."""
    _check_rate(default_vat_rate, "default_vat_rate")
    if not basket.lines:
        raise PermanentError(f"basket {basket.uid}: {lines_key}: the sale has no lines", FailureClass.VALIDATION)
    lines = tuple(
        _line(basket, f"{lines_key}[{index}]", line, default_vat_rate) for index, line in enumerate(basket.lines)
    )
    total = _checked_total(basket, lines_key)
    customer = basket.customer
    return Order(
        source_id=basket.uid,
        name=f"Shopbox {basket.uid}",
        number=int(basket.uid) if basket.uid.isdigit() else None,
        currency=basket.currency,
        source_name=SOURCE_NAME,
        customer=Customer(
            email=customer.email if customer else None,
            name=(customer.name or "") if customer else "",
            source_id=customer.uid if customer else None,
        ),
        lines=lines,
        total=total,
        country_code=None,  # a till sale ships nowhere; the integration's settings say which country it is in
        financial_status="paid",  # a basket is paid at the till [guess: Shopbox records no unpaid basket]
        fulfillment_status="fulfilled",  # and handed over there
        cancelled=basket.canceled,
        taxes_included=True,
    )


def _line(basket: Basket, where: str, line: BasketLine, default_rate: Decimal) -> OrderLine:
    if line.product is None:
        raise _refused(basket, f"{where}.product", "the line names no product")
    if line.quantity <= 0:
        raise _refused(basket, f"{where}.quantity", f"{line.quantity} is not a quantity sold (a return?)")
    if line.selling_price < 0:
        raise _refused(basket, f"{where}.selling_price", f"{line.selling_price} øre is below zero")
    if line.discount < 0 or line.discount > line.selling_price * line.quantity:
        raise _refused(basket, f"{where}.discount", f"{line.discount} øre is not within the line's amount")
    rate = default_rate if line.vat_rate is None else _percent(basket, f"{where}.vat_rate", line.vat_rate)
    unit_price = ore_to_decimal(line.selling_price)
    discount = ore_to_decimal(line.discount)
    gross = ore_to_decimal(line.gross_total)
    net_unit = _excl(unit_price, rate)
    net_discount = _excl(discount, rate)
    return OrderLine(
        sku=(line.sku_code or "").strip(),
        title=line.name or "",
        quantity=line.quantity,
        unit_price_excl_vat=net_unit,
        discount_excl_vat=net_discount,
        vat_rate=rate,
        # What the till charged: the gross amount less the exact net amount, to the øre.
        vat_amount=to_cents(gross - (gross / (1 + rate))),
        source_line_id=line.uid or "",
        unmapped=None if (line.sku_code or "").strip() else "no SKU",
    )


def _percent(basket: Basket, field: str, value: float | Decimal) -> Decimal:
    # The wire's percent (25, 12.5) [guess] read through its text, so 12.5 is exactly 0.125.
    rate = Decimal(str(value)) / HUNDRED
    _check_rate(rate, field, basket)
    return rate


def _check_rate(rate: Decimal, field: str, basket: Basket | None = None) -> None:
    """A fraction from 0 up to (not including) 1; a caller's bad default is a bug, a line's bad rate the sale's."""
    if not rate.is_finite() or rate < 0 or rate >= 1:
        reason = f"{rate * HUNDRED}% is not a VAT rate" if rate.is_finite() else f"{rate} is not a VAT rate"
        if basket is None:
            raise PermanentError(f"{field}: {reason}", FailureClass.BUG)
        raise _refused(basket, field, reason)


def _excl(amount: Decimal, rate: Decimal) -> Decimal:
    if rate == 0:
        return amount
    return (amount / (1 + rate)).quantize(PRICE_PLACES)


def _checked_total(basket: Basket, lines_key: str) -> Decimal:
    added = sum(line.gross_total for line in basket.lines)
    if basket.total is None:
        return ore_to_decimal(added)  # the detail call did not carry one [guess]: the lines are the sale
    if basket.total != added:
        raise _refused(basket, "total", f"{basket.total} øre, but the {lines_key} add up to {added} øre")
    return ore_to_decimal(basket.total)


def _refused(basket: Basket, field: str, reason: str) -> PermanentError:
    return PermanentError(f"basket {basket.uid}: {field}: {reason}", FailureClass.VALIDATION)
