"""GraphQL orders and refunds in the REST shape webhooks carry (reference/shopify.md, "Order payload (REST shape)").

Crossdock reads orders and refunds in one shape: what `orders/*` and `refunds/create` webhooks deliver, parsed by
`orders.parse_order` and `refunds.parse_refund`. An order fetched through the Admin GraphQL API (the reconciliation
sweep, an operator's resync) is converted here into that shape, field for field, so everything downstream of the
webhook handles it unchanged. Only the fields Crossdock maps are produced; money stays the decimal text Shopify sent
(GraphQL writes "149.0" where REST writes "149.00"; both parse to the same `Decimal`), in the shop's currency.

Mapping notes (GraphQL → REST):
- Numeric ids come from `legacyResourceId`, or the tail of the GID where a type has none (line items).
- `displayFinancialStatus` PAID → `financial_status` "paid" (every value lower-cased: the enums share their names);
  `displayFulfillmentStatus` FULFILLED/PARTIALLY_FULFILLED/RESTOCKED → "fulfilled"/"partial"/"restocked", and every
  other value (UNFULFILLED, OPEN, IN_PROGRESS, ON_HOLD, …) → null, as REST knows no more.
- `number` → `order_number` (the number in the name: 1001 for "#1001").
- A line's `product` is null once the product was deleted → `product_exists: false`; `variant` likewise → `variant_id`.
- Refund lines: `restockType` RETURN → `restock_type` "return"; `subtotalSet` is taken in the order's own tax
  convention, as REST's `subtotal` is (Guess: Shopify documents it only as "the subtotal price").
- Refund order adjustments become `kind: "refund_discrepancy"` (Guess: since 2024-10 refunded shipping is in
  `refundShippingLines` and the GraphQL `OrderAdjustment` no longer carries REST's kind). A discrepancy is reported
  by the refund flow, never credited, so a wrong guess shows up in a reason instead of in a credit note.
- Timestamps stay GraphQL's UTC (`…Z`); REST writes the shop's offset, which names the same moment.
"""

from __future__ import annotations

from typing import Any

_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def legacy_id(gid: Any) -> int | None:
    """`gid://shopify/LineItem/466157049` → 466157049 (None for null)."""
    if gid is None:
        return None
    tail = str(gid).rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def amount(bag: Any) -> str | None:
    """The shop-currency amount of a `MoneyBag` (`{shopMoney {amount}}`)."""
    if not isinstance(bag, dict) or not isinstance(bag.get("shopMoney"), dict):
        return None
    value = bag["shopMoney"].get("amount")
    return None if value is None else str(value)


def _money_set(bag: Any) -> dict[str, Any] | None:
    value = amount(bag)
    if value is None:
        return None
    return {"shop_money": {"amount": value, "currency_code": bag["shopMoney"].get("currencyCode")}}


def financial_status(display: Any) -> str | None:
    return str(display).lower() if display else None


def fulfillment_status(display: Any) -> str | None:
    return _FULFILLMENT.get(str(display)) if display else None


def _nodes(connection: Any) -> list[dict[str, Any]]:
    if not isinstance(connection, dict):
        return []
    return [node for node in connection.get("nodes") or [] if isinstance(node, dict)]


def _tax_lines(lines: Any) -> list[dict[str, Any]]:
    return [
        {"title": line.get("title"), "rate": line.get("rate"), "price": amount(line.get("priceSet"))}
        for line in lines or []
    ]


def _address(address: Any) -> dict[str, Any] | None:
    if not isinstance(address, dict):
        return None
    return {
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province": address.get("province"),
        "province_code": address.get("provinceCode"),
        "country": address.get("country"),
        "country_code": address.get("countryCodeV2"),
        "phone": address.get("phone"),
    }


def _customer(customer: Any) -> dict[str, Any] | None:
    if not isinstance(customer, dict):
        return None
    return {
        "id": _int(customer.get("legacyResourceId")),
        "email": customer.get("email"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "phone": customer.get("phone"),
    }


def line_item(node: dict[str, Any]) -> dict[str, Any]:
    variant, product = node.get("variant"), node.get("product")
    return {
        "id": legacy_id(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "sku": node.get("sku"),
        "title": node.get("title") or "",
        "quantity": node.get("quantity"),
        "price": amount(node.get("originalUnitPriceSet")),
        "total_discount": amount(node.get("totalDiscountSet")) or "0",
        "variant_id": _int(variant.get("legacyResourceId")) if isinstance(variant, dict) else None,
        "product_id": legacy_id(product.get("id")) if isinstance(product, dict) else None,
        "product_exists": isinstance(product, dict),
        "gift_card": bool(node.get("isGiftCard")),
        "discount_allocations": [
            {"amount": amount(allocation.get("allocatedAmountSet"))}
            for allocation in node.get("discountAllocations") or []
        ],
        "tax_lines": _tax_lines(node.get("taxLines")),
    }


def _shipping_line(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": legacy_id(node.get("id")),
        "title": node.get("title"),
        "code": node.get("code"),
        "price": amount(node.get("originalPriceSet")),
        "discounted_price": amount(node.get("discountedPriceSet")),
        "tax_lines": _tax_lines(node.get("taxLines")),
    }


def rest_order(node: dict[str, Any], line_items: list[dict[str, Any]]) -> dict[str, Any]:
    """The webhook-shaped order of a GraphQL `Order` node; `line_items` are all its line item nodes (the node's
    own connection holds only the first page)."""
    return {
        "id": _int(node.get("legacyResourceId")),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "order_number": node.get("number"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": node.get("currencyCode"),
        "taxes_included": bool(node.get("taxesIncluded")),
        "financial_status": financial_status(node.get("displayFinancialStatus")),
        "fulfillment_status": fulfillment_status(node.get("displayFulfillmentStatus")),
        "cancelled_at": node.get("cancelledAt"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "source_name": node.get("sourceName"),
        "customer": _customer(node.get("customer")),
        "billing_address": _address(node.get("billingAddress")),
        "shipping_address": _address(node.get("shippingAddress")),
        "line_items": [line_item(item) for item in line_items],
        "shipping_lines": [_shipping_line(line) for line in _nodes(node.get("shippingLines"))],
        "subtotal_price": amount(node.get("subtotalPriceSet")),
        "total_discounts": amount(node.get("totalDiscountsSet")),
        "total_tax": amount(node.get("totalTaxSet")) or "0",
        "total_price": amount(node.get("totalPriceSet")),
    }


def _refund_line(node: dict[str, Any]) -> dict[str, Any]:
    item = line_item(node.get("lineItem") or {})
    location = node.get("location")
    return {
        # Null only on suggested refunds, which are never read here; the line's own id then stands in.
        "id": legacy_id(node.get("id")) or item["id"],
        "line_item_id": item["id"],
        "quantity": node.get("quantity"),
        "restock_type": str(node.get("restockType") or "NO_RESTOCK").lower(),
        "location_id": _int(location.get("legacyResourceId")) if isinstance(location, dict) else None,
        "subtotal": amount(node.get("subtotalSet")) or "0",
        "total_tax": amount(node.get("totalTaxSet")) or "0",
        "line_item": item,
    }


def rest_refund(node: dict[str, Any], order_id: str, line_items: list[dict[str, Any]]) -> dict[str, Any]:
    """The `refunds/create`-shaped refund of a GraphQL `Refund` node of order `order_id`; `line_items` are all its
    refund line item nodes."""
    return {
        "id": _int(node.get("legacyResourceId")),
        "admin_graphql_api_id": node.get("id"),
        "order_id": legacy_id(order_id) if order_id.startswith("gid://") else _int(order_id),
        "created_at": node.get("createdAt"),
        "note": node.get("note"),
        "refund_line_items": [_refund_line(row) for row in line_items],
        "refund_shipping_lines": [
            {
                "id": legacy_id(row.get("id")),
                "shipping_line_id": legacy_id((row.get("shippingLine") or {}).get("id")),
                "subtotal_amount_set": _money_set(row.get("subtotalAmountSet")),
                "tax_amount_set": _money_set(row.get("taxAmountSet")),
            }
            for row in _nodes(node.get("refundShippingLines"))
        ],
        "order_adjustments": [
            {
                "id": legacy_id(row.get("id")),
                "kind": "refund_discrepancy",
                "amount": amount(row.get("amountSet")) or "0",
                "tax_amount": amount(row.get("taxAmountSet")) or "0",
            }
            for row in _nodes(node.get("orderAdjustments"))
        ],
        "transactions": [
            {
                "id": legacy_id(row.get("id")),
                "kind": str(row.get("kind") or "").lower() or None,
                "status": str(row.get("status") or "").lower() or None,
                "gateway": row.get("gateway"),
                "amount": amount(row.get("amountSet")) or "0",
            }
            for row in _nodes(node.get("transactions"))
        ],
    }


def _int(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None
