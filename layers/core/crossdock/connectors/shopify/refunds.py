"""Shopify's REST-shaped refund payload (`refunds/create` webhook body) and the credit it asks for.

Only what a credit note needs is modelled (reference/shopify.md, "Refund payload"): the refunded lines with their
quantities and amounts, refunded shipping (`refund_shipping_lines` in current API versions, `order_adjustments` of
kind `shipping_refund` in older ones), and whether the goods go back to stock. Amounts stay `Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crossdock.connectors.shopify.orders import LineItem, unmapped_reason
from crossdock.connectors.shopify.refund_values import check_refund_values

PRICE_PLACES = Decimal("0.000001")
NO_RESTOCK = "no_restock"


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Money(_Tolerant):
    amount: Decimal


class MoneySet(_Tolerant):
    shop_money: Money


class RefundLineItem(_Tolerant):
    id: int
    line_item_id: int
    quantity: int
    restock_type: str | None = None
    subtotal: Decimal = Decimal(0)
    total_tax: Decimal = Decimal(0)
    line_item: LineItem


class RefundShippingLine(_Tolerant):
    id: int | None = None
    subtotal_amount_set: MoneySet | None = None
    tax_amount_set: MoneySet | None = None
    amount_set: MoneySet | None = None


class OrderAdjustment(_Tolerant):
    kind: str | None = None
    amount: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)


class Transaction(_Tolerant):
    kind: str | None = None
    status: str | None = None
    amount: Decimal = Decimal(0)


class ShopifyRefund(_Tolerant):
    id: int
    order_id: int
    note: str | None = None
    restock: bool | None = None
    refund_line_items: list[RefundLineItem] = Field(default_factory=list)
    refund_shipping_lines: list[RefundShippingLine] = Field(default_factory=list)
    order_adjustments: list[OrderAdjustment] = Field(default_factory=list)
    transactions: list[Transaction] = Field(default_factory=list)

    @property
    def refunded_amount(self) -> Decimal:
        """What went back to the customer (successful refund transactions)."""
        return sum(
            (t.amount for t in self.transactions if t.kind == "refund" and t.status in (None, "success")),
            Decimal(0),
        )


def parse_refund(payload: dict[str, Any]) -> ShopifyRefund:
    if set(payload) == {"refund"}:  # the REST resource envelope, as in the fixtures
        payload = payload["refund"]
    check_refund_values(payload)  # an implausible value is refused naming its field, before anything reads it
    return ShopifyRefund.model_validate(payload)


@dataclass(frozen=True)
class CreditLine:
    """One line to credit, net of VAT, in the order's currency."""

    sku: str
    title: str
    quantity: int
    unit_price_excl_vat: Decimal
    vat_rate: Decimal
    restock: bool
    is_shipping: bool = False
    unmapped: str | None = None


def _rate(item: LineItem) -> Decimal:
    return sum((t.rate for t in item.tax_lines), Decimal(0))


def _net(subtotal: Decimal, tax: Decimal, taxes_included: bool) -> Decimal:
    # `subtotal` is in the order's own convention: it contains the tax when the order's prices include it.
    return subtotal - tax if taxes_included else subtotal


def credit_lines(refund: ShopifyRefund, taxes_included: bool) -> list[CreditLine]:
    lines = [
        CreditLine(
            sku=(row.line_item.sku or "").strip(),
            title=row.line_item.title,
            quantity=row.quantity,
            unit_price_excl_vat=(_net(row.subtotal, row.total_tax, taxes_included) / row.quantity).quantize(
                PRICE_PLACES
            ),
            vat_rate=_rate(row.line_item),
            restock=row.restock_type != NO_RESTOCK and refund.restock is not False,
            unmapped=unmapped_reason(row.line_item),
        )
        for row in refund.refund_line_items
        if row.quantity > 0
    ]
    for net, tax in _shipping_amounts(refund, taxes_included):
        if net:
            lines.append(
                CreditLine(
                    sku="",
                    title="Shipping",
                    quantity=1,
                    unit_price_excl_vat=net,
                    vat_rate=(tax / net).quantize(Decimal("0.0001")),
                    restock=False,
                    is_shipping=True,
                )
            )
    return lines


def credited_total(refund: ShopifyRefund, taxes_included: bool) -> Decimal:
    """What Shopify counts as refunded for the lines and shipping, VAT included: the figure a credit note must match.

    Shopify rounds VAT per line; Rackbeat works it out again from the net price and rate, which can be a cent away.
    """
    lines = sum(
        (row.subtotal if taxes_included else row.subtotal + row.total_tax for row in refund.refund_line_items),
        Decimal(0),
    )
    shipping = sum((net + tax for net, tax in _shipping_amounts(refund, taxes_included)), Decimal(0))
    return lines + shipping


def _shipping_amounts(refund: ShopifyRefund, taxes_included: bool) -> list[tuple[Decimal, Decimal]]:
    """(net, tax) per refunded shipping amount. Guess: a refund shipping line's `subtotal_amount_set` is in the
    order's tax convention like a refund line's `subtotal` (Shopify documents it only as "the subtotal amount")."""
    amounts = []
    for row in refund.refund_shipping_lines:
        tax = row.tax_amount_set.shop_money.amount if row.tax_amount_set else Decimal(0)
        if row.subtotal_amount_set is not None:
            amounts.append((_net(row.subtotal_amount_set.shop_money.amount, tax, taxes_included), tax))
        elif row.amount_set is not None:
            amounts.append((row.amount_set.shop_money.amount - tax, tax))
    for adjustment in refund.order_adjustments:
        if adjustment.kind == "shipping_refund":
            # Adjustments are negative from the order's point of view.
            amounts.append((-adjustment.amount, -adjustment.tax_amount))
    return amounts


def ignored_adjustments(refund: ShopifyRefund) -> Decimal:
    """Refunded amounts not tied to lines or shipping (`refund_discrepancy`): not credited, but reported."""
    return sum((-a.amount for a in refund.order_adjustments if a.kind == "refund_discrepancy"), Decimal(0))
