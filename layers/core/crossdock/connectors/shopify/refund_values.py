"""What a plausible Shopify refund holds, checked before the refund is read (`refunds.parse_refund`), as
`order_values` does for orders: ids are positive int64, quantities whole (a row of zero pieces is Shopify's for an
amount-only refund, and is not credited), amounts finite and bounded (a `"1e400"` subtotal was an `InvalidOperation`
in the unit price, a bug), refunded and line amounts never negative; only order adjustments carry a sign (Shopify
writes them from the order's side: a shipping refund is negative). The first problem names its field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from crossdock.connectors.shopify.order_values import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    LineItemValues,
    Money,
    ShopifyId,
    Text,
)

RefundedQuantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
SignedMoney = Annotated[Decimal, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=6, allow_inf_nan=False)]


class _Values(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RefundLineValues(_Values):
    id: ShopifyId
    line_item_id: ShopifyId
    quantity: RefundedQuantity
    restock_type: Text | None = None
    subtotal: Money = Decimal(0)
    total_tax: Money = Decimal(0)
    line_item: LineItemValues | None = None  # required by the refund model, which says so itself


class MoneyValues(_Values):
    amount: Money


class MoneySetValues(_Values):
    shop_money: MoneyValues


class RefundShippingValues(_Values):
    id: ShopifyId | None = None
    subtotal_amount_set: MoneySetValues | None = None
    tax_amount_set: MoneySetValues | None = None
    amount_set: MoneySetValues | None = None


class AdjustmentValues(_Values):
    kind: Text | None = None
    amount: SignedMoney = Decimal(0)
    tax_amount: SignedMoney = Decimal(0)


class TransactionValues(_Values):
    kind: Text | None = None
    status: Text | None = None
    amount: Money = Decimal(0)


class RefundValues(_Values):
    id: ShopifyId
    order_id: ShopifyId
    note: Text | None = None
    refund_line_items: list[RefundLineValues] = Field(default_factory=list)
    refund_shipping_lines: list[RefundShippingValues] = Field(default_factory=list)
    order_adjustments: list[AdjustmentValues] = Field(default_factory=list)
    transactions: list[TransactionValues] = Field(default_factory=list)


def check_refund_values(payload: dict[str, Any]) -> None:
    """Raises pydantic's `ValidationError` for the first implausible value, naming its field."""
    RefundValues.model_validate(payload)
