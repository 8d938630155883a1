"""Which Rackbeat item each order line is booked on, and at what price (SPEC §1.4 "Order mapping", §1.6).

Lines that cannot name an item by themselves (no SKU, a deleted product, a gift card) and lines whose SKU Rackbeat
does not know follow the connection's `orders.unmapped_lines` policy: `fail` stops the order as needs_attention
with every such line named, `fallback` books them on `orders.fallback_product_number` under their own title and
price, so the order total still equals Shopify's.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.model.order import Order, OrderLine

# Rackbeat names a refused line by its index: {"lines.2.item_id": ["Product needed"]}.
_LINE_ITEM_ERROR = re.compile(r"^lines\.(\d+)\.item_id$")


def _describe(line: OrderLine, why: str) -> str:
    return f"'{line.title}' ({why})" if not line.sku else f"'{line.title}' (SKU {line.sku}: {why})"


def _on_fallback(line: OrderLine, fallback: str, why: str) -> OrderLine:
    return replace(line, sku=fallback, title=f"{line.title} ({why})", unmapped=None)


def apply_unmapped_policy(order: Order, settings: RackbeatShopifySettings) -> Order:
    """The order with every line naming an item, or a PermanentError listing the lines that cannot."""
    unmapped = [line for line in order.lines if line.unmapped and not line.is_shipping]
    if not unmapped:
        return order
    fallback = settings.orders.fallback_product_number
    if settings.orders.unmapped_lines == "fail" or not fallback:
        raise PermanentError(
            f"order {order.name} has lines that cannot be matched to Rackbeat items: "
            + ", ".join(_describe(line, line.unmapped or "") for line in unmapped)
            + " (orders.unmapped_lines is 'fail')",
            FailureClass.UNMAPPED,
        )
    lines = tuple(
        _on_fallback(line, fallback, line.unmapped) if line.unmapped and not line.is_shipping else line
        for line in order.lines
    )
    return replace(order, lines=lines)


def refused_line_indexes(errors: dict[str, list[str]]) -> list[int]:
    """Indexes of the lines Rackbeat refused for their item (unknown item numbers)."""
    found = (_LINE_ITEM_ERROR.match(field) for field in errors)
    return sorted(int(match.group(1)) for match in found if match)


def replace_unknown_items(order: Order, indexes: list[int], settings: RackbeatShopifySettings) -> Order:
    """After Rackbeat refused the items of these lines: the order with them on the fallback item, or a
    PermanentError naming them when the policy is `fail` (or they were on the fallback item already)."""
    lines = list(order.lines)
    refused = [lines[i] for i in indexes if i < len(lines)]
    fallback = settings.orders.fallback_product_number
    if settings.orders.unmapped_lines == "fail" or not fallback or any(line.sku == fallback for line in refused):
        fields = ", ".join(f"lines.{i}.item_id" for i in indexes)
        raise PermanentError(
            f"order {order.name} has lines whose items do not exist in Rackbeat: "
            + ", ".join(_describe(line, "unknown item") for line in refused)
            + f" (Rackbeat refused {fields}; orders.unmapped_lines is '{settings.orders.unmapped_lines}')",
            FailureClass.UNMAPPED,
        )
    for i in indexes:
        if i < len(lines) and not lines[i].is_shipping:
            lines[i] = _on_fallback(lines[i], fallback, f"unknown SKU {lines[i].sku}")
    return replace(order, lines=tuple(lines))


def customer_prices_for(order: Order, prices: dict[str, Decimal]) -> dict[str, Decimal]:
    """The customer's own net prices for the items on the order (shipping and fallback lines keep Shopify's)."""
    return {line.sku: prices[line.sku] for line in order.lines if not line.is_shipping and line.sku in prices}
