"""The parts of a Shopify order webhook body (REST shape) a PeakWMS sales order is made of.

`connectors.shopify.orders.ShopifyOrder` reads what every kind maps; a warehouse needs a little more of the same
body: each line's product (PeakWMS keys products by Shopify product + variant), what is left of a line after edits
and refunds (`current_quantity`), whether it ships at all, the address's parts as PeakWMS keeps them, the shipping
line's code (a drop point rides on it) and `updated_at` (which of two deliveries is newer). Unknown fields are
tolerated; an implausible value is refused naming its field (`orders.parse_order`'s checks run first).

`orders/delete` carries only the order's id (`{"id": 450789469}`), read by `deleted_order_id`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from crossdock.connectors.shopify.order_values import check_order_values
from crossdock.connectors.shopify.orders import Address, LineItem, ShippingLine, ShopifyOrder
from crossdock.errors import PermanentError
from crossdock.store.outcome import first_error


class WarehouseAddress(Address):
    first_name: str | None = None
    last_name: str | None = None
    province_code: str | None = None


class WarehouseLine(LineItem):
    product_id: int | None = None
    # What is left of the line after order edits and refunds that removed items; absent in older payloads.
    current_quantity: int | None = None
    requires_shipping: bool = True

    @property
    def open_quantity(self) -> int:
        return self.quantity if self.current_quantity is None else self.current_quantity


class WarehouseShipping(ShippingLine):
    is_removed: bool = False


class RefundedLine(BaseModel):
    line_item_id: int | None = None
    quantity: int = 0


class WarehouseRefund(BaseModel):
    """A refund on the order (REST `refunds[]`): its note (ours names our idempotency key) and the items it took."""

    id: int | None = None
    note: str | None = None
    refund_line_items: list[RefundedLine] = Field(default_factory=list)


class WarehouseOrder(ShopifyOrder):
    created_at: str | None = None
    updated_at: str | None = None
    processed_at: str | None = None
    phone: str | None = None
    note: str | None = None
    billing_address: WarehouseAddress | None = None
    shipping_address: WarehouseAddress | None = None
    # The same fields read with more of each line (pydantic validates the narrower item types; mypy sees the lists
    # as invariant).
    line_items: list[WarehouseLine]  # type: ignore[assignment]
    shipping_lines: list[WarehouseShipping] = Field(default_factory=list)  # type: ignore[assignment]
    refunds: list[WarehouseRefund] = Field(default_factory=list)

    def refunded_units(self) -> dict[str, int]:
        """Line item id → units the order's refunds took off it."""
        units: dict[str, int] = {}
        for refund in self.refunds:
            for row in refund.refund_line_items:
                if row.line_item_id is not None:
                    units[str(row.line_item_id)] = units.get(str(row.line_item_id), 0) + row.quantity
        return units

    @property
    def is_pos(self) -> bool:
        return self.source_name == "pos"

    @property
    def buyer_email(self) -> str | None:
        found = self.email or self.contact_email or (self.customer.email if self.customer else None)
        return found.strip() if found and found.strip() else None


def read_order(payload: dict[str, Any]) -> WarehouseOrder:
    """The order of a webhook body; `PermanentError` naming the first field that is wrong."""
    try:
        check_order_values(payload)
        return WarehouseOrder.model_validate(payload)
    except (ValidationError, ValueError) as invalid:
        raise PermanentError(f"Shopify order payload is invalid: {first_error(invalid)}") from None


def deleted_order_id(payload: dict[str, Any]) -> str:
    """The id an `orders/delete` body names; `PermanentError` naming `id` when it names none."""
    raw = payload.get("id")
    text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
    if not text.isdigit() or int(text) == 0:
        raise PermanentError(f"orders/delete payload is invalid: id: a Shopify order id expected, not {raw!r}")
    return str(int(text))
