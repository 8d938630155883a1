"""A Shopify order as the PeakWMS sales order that ships it (reference/peakwms.md "Sales orders", "Idempotency
handles"): no calls here, only the arithmetic and the refusals.

- `orderId` = the Shopify order's numeric id, `orderLineId` = each line item's: PeakWMS reports back with them.
- Each line's product is the PeakWMS product keyed by Shopify product + variant ids (the main shop's) or, for a shop
  sharing another's stock, the one its SKU names (`ProductKeys`). A line without a variant (a custom line, a deleted
  product) cannot be picked: the whole order is refused naming `line_items[n].variant_id`, before anything is sent.
  Gift cards and lines that need no shipping are not goods for the warehouse and are left out; so are lines whose
  items were all removed by an edit or a refund (`current_quantity` 0).
- Prices per piece ex VAT [doc P1: `salesPricePiece` is ex VAT], with the VAT per piece and the discount per piece
  ex VAT beside it; for a shop whose prices include VAT the net is the gross / (1 + the line's rate). Shipping cost
  (after its discount) ex VAT and its tax; the currency is the shop's (the REST body's amounts are in it).
- Payment status 0 Pending, 1 Authorized, 2 Captured, 3 Refunded from Shopify's financial status;
  `transactionNumber` is the transaction PeakWMS may capture (the authorisation) or refund (the sale or capture)
  [doc P1: "must reference the exact capturable/refundable transaction"], found by `payment_transaction`.
- A drop point: [guess] a carrier app's pickup-point rate shows on the order as a shipping line whose `code` ends in
  `:<point id>` (e.g. `gls_parcelshop:95558`; an id has a digit); it becomes `parcelShopId`. A code without one
  sends none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crossdock.connectors.peakwms.shapes import (
    PAYMENT_AUTHORIZED,
    PAYMENT_CAPTURED,
    PAYMENT_PENDING,
    PAYMENT_REFUNDED,
    Address,
    SalesOrderDraft,
    SalesOrderLine,
    sales_order_body,
)
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.peakwms_shopify.order_payload import WarehouseAddress, WarehouseLine, WarehouseOrder

PIECE_PLACES = Decimal("0.0001")  # per-piece amounts: quantity × piece lands on the shop's cent
CENT = Decimal("0.01")

PAYMENT_STATUS = {
    "pending": PAYMENT_PENDING,
    "authorized": PAYMENT_AUTHORIZED,
    "partially_paid": PAYMENT_CAPTURED,
    "paid": PAYMENT_CAPTURED,
    "partially_refunded": PAYMENT_CAPTURED,  # what is left is captured money
    "refunded": PAYMENT_REFUNDED,
    "voided": PAYMENT_PENDING,
}

# Where a line's PeakWMS product is: (productId, variantId), or a PermanentError's reason naming the field.
ProductKeys = Callable[[WarehouseLine, int], tuple[str, str] | str]


@dataclass(frozen=True)
class PlannedOrder:
    """The order as PeakWMS's sales order, before what needs a read of the shop (`transaction_number`, and the
    `warehouse` when locations are mapped), and the lines left out with why."""

    draft: SalesOrderDraft
    name: str
    left_out: tuple[str, ...]

    def fingerprint(self) -> str:
        """A hash of what the order's webhook body gives PeakWMS: equal fingerprints need no update (and no read)."""
        return _digest(sales_order_body(self.draft), 32)

    def address_fingerprint(self) -> str:
        draft = self.draft
        parts = [body_of(draft.billing_address), body_of(draft.shipping_address), draft.parcel_shop_id]
        return _digest(parts, 16)

    def line_summary(self) -> str:
        """`<line id>:<quantity>` per line: what a warehouse worker can miss once the order is picked (ids and
        counts only: the binding holds nothing about the customer)."""
        return ",".join(f"{line.order_line_id}:{line.quantity_requested}" for line in self.draft.lines)


class NothingToShip(PermanentError):
    """No line of the order is goods for the warehouse (any more): gift cards only, or every item refunded."""


def body_of(address: Address | None) -> dict[str, Any] | None:
    return address.body() if address is not None else None


def _digest(value: Any, length: int) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _no_variant(item: WarehouseLine, index: int) -> str:
    return (
        f"line_items[{index}].variant_id: the line '{item.title}' has no variant to pick "
        "(a custom line or a deleted product)"
    )


def main_shop_keys(line: WarehouseLine, index: int) -> tuple[str, str] | str:
    """The main shop's product keys: its own product and variant ids."""
    if line.variant_id is None:
        return _no_variant(line, index)
    if line.product_id is None:
        return f"line_items[{index}].product_id: the line '{line.title}' names no product"
    return str(line.product_id), str(line.variant_id)


def plan_order(order: WarehouseOrder, keys: ProductKeys) -> PlannedOrder:
    """The order's PeakWMS form; `PermanentError` naming every line that cannot be picked (nothing is sent then),
    or saying that nothing in the order ships."""
    lines: list[SalesOrderLine] = []
    problems: list[str] = []
    left_out: list[str] = []
    for index, item in enumerate(order.line_items):
        if item.gift_card or not item.requires_shipping:
            left_out.append(f"'{item.title}' ({'a gift card' if item.gift_card else 'needs no shipping'})")
            continue
        if item.open_quantity <= 0:
            continue  # removed by an edit or refunded before it shipped
        # No variant: nothing PeakWMS could pick, whichever shop the order is from.
        found = _no_variant(item, index) if item.variant_id is None else keys(item, index)
        if isinstance(found, str):
            problems.append(found)
            continue
        lines.append(_line(item, found, order.taxes_included))
    if problems:
        raise PermanentError(f"Shopify order {order.name}: {'; '.join(problems)}", FailureClass.UNMAPPED)
    if not lines:
        raise NothingToShip(
            f"Shopify order {order.name} has nothing for the warehouse to ship", FailureClass.VALIDATION
        )
    shipping = [s for s in order.shipping_lines if not s.is_removed]
    shipping_cost = sum(
        (_net(_discounted(s.price, s.discounted_price), _rate(s.tax_lines), order.taxes_included) for s in shipping),
        Decimal(0),
    )
    discount = sum(((line.sales_discount_piece or Decimal(0)) * line.quantity_requested for line in lines), Decimal(0))
    draft = SalesOrderDraft(
        order_id=str(order.id),
        order_number=order.name.lstrip("#") or str(order.order_number or order.id),
        lines=tuple(lines),
        order_date_time=order.created_at or order.processed_at,
        billing_address=_address(order.billing_address, order),
        shipping_address=_address(order.shipping_address, order),
        parcel_shop_id=_parcel_shop(order),
        payment_status=PAYMENT_STATUS.get(order.financial_status or "pending", PAYMENT_PENDING),
        sales_currency=order.currency,
        shipping_cost=shipping_cost.quantize(CENT, ROUND_HALF_UP),
        shipping_tax_cost=sum((_tax(s.tax_lines) for s in shipping), Decimal(0)),
        discount_cost=discount.quantize(CENT, ROUND_HALF_UP),
        total_sales_price=order.total_price,
        comment=order.note or None,
    )
    return PlannedOrder(draft, order.name, tuple(left_out))


def _line(item: WarehouseLine, keys: tuple[str, str], taxes_included: bool) -> SalesOrderLine:
    rate = _rate(item.tax_lines)
    # Shopify's tax and discount amounts are for the line as ordered; per piece they are shared over that quantity.
    ordered = Decimal(item.quantity)
    return SalesOrderLine(
        order_line_id=str(item.id),
        product_id=keys[0],
        variant_id=keys[1],
        quantity_requested=item.open_quantity,
        sales_price_piece=_piece(_net(item.price, rate, taxes_included)),
        sales_price_tax_piece=_piece(_tax(item.tax_lines) / ordered),
        sales_discount_piece=_piece(_net(item.discount, rate, taxes_included) / ordered),
    )


def _address(address: WarehouseAddress | None, order: WarehouseOrder) -> Address | None:
    if address is None:
        return None
    person = " ".join(p for p in (address.first_name, address.last_name) if p)
    found = Address(
        customer_name=address.name or person or None,
        address1=address.address1 or None,
        address2=address.address2 or None,
        postal_code=address.zip or None,
        city=address.city or None,
        state_code=address.province_code or None,
        country=address.country_code or None,
        company=address.company or None,
        email=order.buyer_email,
        phone=address.phone or order.phone or None,
    )
    # Every part empty (redacted, or a POS sale without a customer): no address rather than an empty one.
    return None if not (found.customer_name or found.address1 or found.city) else found


def _parcel_shop(order: WarehouseOrder) -> str | None:
    for shipping in order.shipping_lines:
        code = (shipping.code or "").strip()
        method, _, point = code.rpartition(":")
        # A point's id has a digit in it ("95558", "DK-2000-117"); `dhl:express` names a product, not a point.
        if method and any(character.isdigit() for character in point):
            return point.strip()
    return None


def _rate(tax_lines: list[Any]) -> Decimal:
    return sum((Decimal(t.rate) for t in tax_lines), Decimal(0))


def _tax(tax_lines: list[Any]) -> Decimal:
    return sum((Decimal(t.price) for t in tax_lines), Decimal(0))


def _discounted(price: Decimal, discounted: Decimal | None) -> Decimal:
    return price if discounted is None else discounted


def _net(amount: Decimal, rate: Decimal, taxes_included: bool) -> Decimal:
    if not taxes_included or rate == 0:
        return amount
    return amount / (1 + rate)


def _piece(amount: Decimal) -> Decimal:
    return amount.quantize(PIECE_PLACES, ROUND_HALF_UP)
