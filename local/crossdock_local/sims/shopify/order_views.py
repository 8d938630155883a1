"""The Admin GraphQL `Order` and `Refund`, derived from the stored REST order (fact sheet "Order payload").

Money is a `MoneyBag` in shop and presentment currency; `Decimal` amounts as Shopify writes them ("149.0");
connections stay lazy, paged when a query selects them. Guesses (from the fixtures, where Shopify's documentation is
silent): an order adjustment's `reason` is `REFUND_DISCREPANCY` for REST's `refund_discrepancy` and null for other
kinds; a refund line's `restocked` is true unless its `restock_type` is `no_restock`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crossdock_local.sims.shopify.paging import LazyConnection, connection
from crossdock_local.sims.shopify.values import decimal_of, gid, gql_datetime, gql_decimal


def _bag_of(amount: Any, currencies: tuple[str, str]) -> dict[str, Any]:
    shop_currency, presentment_currency = currencies
    return {
        "shopMoney": {"amount": gql_decimal(amount), "currencyCode": shop_currency},
        "presentmentMoney": {"amount": gql_decimal(amount), "currencyCode": presentment_currency},
    }


def _bag(rest: dict[str, Any], key: str, currencies: tuple[str, str]) -> dict[str, Any]:
    """A MoneyBag from REST's `<key>_set` when present (it has both currencies), else from the `<key>` amount."""
    money_set = rest.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop = money_set["shop_money"]
        presentment = money_set.get("presentment_money") or shop
        return {
            "shopMoney": {"amount": gql_decimal(shop.get("amount")), "currencyCode": shop.get("currency_code")},
            "presentmentMoney": {
                "amount": gql_decimal(presentment.get("amount")),
                "currencyCode": presentment.get("currency_code"),
            },
        }
    return _bag_of(rest.get(key), currencies)


def _gql_tax_line(tax: dict[str, Any], currencies: tuple[str, str]) -> dict[str, Any]:
    rate = tax.get("rate")
    return {
        "title": tax.get("title"),
        "rate": rate,
        "ratePercentage": None if rate is None else float(decimal_of(rate) * 100),
        "channelLiable": tax.get("channel_liable"),
        "priceSet": _bag(tax, "price", currencies),
    }


# REST `discount_applications[].type` → the GraphQL type implementing the DiscountApplication interface.
_DISCOUNT_APPLICATION_TYPES = {
    "discount_code": "DiscountCodeApplication",
    "manual": "ManualDiscountApplication",
    "automatic": "AutomaticDiscountApplication",
    "script": "ScriptDiscountApplication",
}


def _gql_allocations(
    allocations: list[dict[str, Any]], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> list[dict[str, Any]]:
    result = []
    for allocation in allocations:
        index = allocation.get("discount_application_index")
        application = applications[index] if isinstance(index, int) and index < len(applications) else {}
        result.append(
            {
                "allocatedAmountSet": _bag(allocation, "amount", currencies),
                "discountApplication": {
                    "__typename": _DISCOUNT_APPLICATION_TYPES.get(
                        str(application.get("type")), "DiscountCodeApplication"
                    ),
                    "index": index if isinstance(index, int) else 0,
                    # Guess: REST leaves these out on some applications; Shopify's defaults fill in.
                    "allocationMethod": str(application.get("allocation_method") or "across").upper(),
                    "targetSelection": str(application.get("target_selection") or "all").upper(),
                    "targetType": str(application.get("target_type") or "line_item").upper(),
                },
            }
        )
    return result


def _gql_line_item(
    item: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    quantity = int(item.get("quantity") or 0)
    original_total = decimal_of(item.get("price")) * quantity
    allocations = item.get("discount_allocations") or []
    # REST's line `total_discount` is often "0.00" while the allocations hold the discount; GraphQL sums them.
    discount = sum((decimal_of(a.get("amount")) for a in allocations), Decimal("0"))
    variant_id, product_id = item.get("variant_id"), item.get("product_id")
    return {
        "id": item.get("admin_graphql_api_id") or gid("LineItem", item.get("id")),
        "sku": item.get("sku"),
        "title": item.get("title"),
        "name": item.get("name") or item.get("title"),
        "variantTitle": item.get("variant_title"),
        "vendor": item.get("vendor"),
        "quantity": quantity,
        "currentQuantity": item.get("current_quantity", quantity),
        "requiresShipping": item.get("requires_shipping", True),
        "taxable": item.get("taxable", True),
        "isGiftCard": bool(item.get("gift_card")),
        "originalUnitPriceSet": _bag(item, "price", currencies),
        "originalTotalSet": _bag_of(original_total, currencies),
        "discountedTotalSet": _bag_of(original_total - discount, currencies),
        "totalDiscountSet": _bag_of(discount, currencies),
        "discountAllocations": _gql_allocations(allocations, applications, currencies),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in item.get("tax_lines") or []],
        "variant": None
        if variant_id is None
        else {
            "id": gid("ProductVariant", variant_id),
            "legacyResourceId": str(variant_id),
            "sku": item.get("sku"),
            "title": item.get("variant_title"),
        },
        "product": None
        if product_id is None
        else {"id": gid("Product", product_id), "legacyResourceId": str(product_id), "title": item.get("title")},
    }


def _gql_shipping_line(
    line: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    discounted_key = "discounted_price" if line.get("discounted_price") is not None else "price"
    return {
        "id": gid("ShippingLine", line.get("id")),
        "title": line.get("title"),
        "code": line.get("code"),
        "source": line.get("source"),
        "carrierIdentifier": line.get("carrier_identifier"),
        "originalPriceSet": _bag(line, "price", currencies),
        "discountedPriceSet": _bag(line, discounted_key, currencies),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in line.get("tax_lines") or []],
        "discountAllocations": _gql_allocations(line.get("discount_allocations") or [], applications, currencies),
    }


def _gql_address(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    return {
        "firstName": address.get("first_name"),
        "lastName": address.get("last_name"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"),
        "latitude": address.get("latitude"),
        "longitude": address.get("longitude"),
    }


def _gql_customer(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    if not customer:
        return None
    first, last = customer.get("first_name"), customer.get("last_name")
    return {
        "id": customer.get("admin_graphql_api_id") or gid("Customer", customer.get("id")),
        "legacyResourceId": str(customer.get("id")),
        "email": customer.get("email"),
        "phone": customer.get("phone"),
        "firstName": first,
        "lastName": last,
        "displayName": " ".join(part for part in (first, last) if part) or customer.get("email"),
    }


def gql_line_item_of(order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL `LineItem` of one of the order's lines (what a fulfillment order line points at)."""
    return _gql_line_item(item, order.get("discount_applications") or [], _currencies(order))


_FULFILLMENT_DISPLAY = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED"}


def _shipping_total(order: dict[str, Any]) -> Any:
    if isinstance(order.get("total_shipping_price_set"), dict):
        return order["total_shipping_price_set"]["shop_money"]["amount"]
    return sum((decimal_of(line.get("price")) for line in order.get("shipping_lines") or []), Decimal("0"))


def gql_order(order: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL Admin `Order` derived from a stored REST order (connections stay lazy)."""
    currencies = (order.get("currency") or "DKK", order.get("presentment_currency") or order.get("currency") or "DKK")
    applications = order.get("discount_applications") or []
    codes = [code.get("code") for code in order.get("discount_codes") or []]
    fulfillment = order.get("fulfillment_status")
    return {
        "id": order.get("admin_graphql_api_id") or gid("Order", order.get("id")),
        "legacyResourceId": str(order.get("id")),
        "name": order.get("name"),
        "number": order.get("order_number"),
        "email": order.get("email"),
        "phone": order.get("phone"),
        "note": order.get("note"),
        "tags": [tag.strip() for tag in str(order.get("tags") or "").split(",") if tag.strip()],
        "test": bool(order.get("test")),
        "sourceName": order.get("source_name"),
        "confirmed": order.get("confirmed", True),
        "closed": order.get("closed_at") is not None,
        "closedAt": gql_datetime(order.get("closed_at")),
        "cancelledAt": gql_datetime(order.get("cancelled_at")),
        "cancelReason": str(order["cancel_reason"]).upper() if order.get("cancel_reason") else None,
        "createdAt": gql_datetime(order.get("created_at")),
        "updatedAt": gql_datetime(order.get("updated_at")),
        "processedAt": gql_datetime(order.get("processed_at")),
        "displayFinancialStatus": str(order.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": _FULFILLMENT_DISPLAY.get(fulfillment, str(fulfillment).upper()),
        "fullyPaid": order.get("financial_status") == "paid",
        "taxesIncluded": bool(order.get("taxes_included")),
        "currencyCode": currencies[0],
        "presentmentCurrencyCode": currencies[1],
        "discountCode": codes[0] if codes else None,
        "discountCodes": codes,
        "totalPriceSet": _bag(order, "total_price", currencies),
        "subtotalPriceSet": _bag(order, "subtotal_price", currencies),
        "totalTaxSet": _bag(order, "total_tax", currencies),
        "totalDiscountsSet": _bag(order, "total_discounts", currencies),
        "totalShippingPriceSet": _bag_of(_shipping_total(order), currencies),
        "currentTotalPriceSet": _bag(order, "current_total_price", currencies)
        if "current_total_price" in order
        else _bag(order, "total_price", currencies),
        "currentSubtotalPriceSet": _bag(order, "current_subtotal_price", currencies)
        if "current_subtotal_price" in order
        else _bag(order, "subtotal_price", currencies),
        "currentTotalTaxSet": _bag(order, "current_total_tax", currencies)
        if "current_total_tax" in order
        else _bag(order, "total_tax", currencies),
        "currentTotalDiscountsSet": _bag(order, "current_total_discounts", currencies)
        if "current_total_discounts" in order
        else _bag(order, "total_discounts", currencies),
        "totalOutstandingSet": _bag_of(order.get("total_outstanding", order.get("total_price")), currencies),
        "customer": _gql_customer(order.get("customer")),
        "shippingAddress": _gql_address(order.get("shipping_address")),
        "billingAddress": _gql_address(order.get("billing_address")),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in order.get("tax_lines") or []],
        # Lazy, so a bulk export writes the line items as child lines (`__parentId`), as Shopify's does.
        "lineItems": LazyConnection(
            lambda: [_gql_line_item(item, applications, currencies) for item in order.get("line_items") or []]
        ),
        "shippingLines": connection(
            [_gql_shipping_line(line, applications, currencies) for line in order.get("shipping_lines") or []]
        ),
        "refunds": order_refunds(order),
    }


# ---- refunds ------------------------------------------------------------------------------------------------------


def _currencies(order: dict[str, Any]) -> tuple[str, str]:
    currency = str(order.get("currency") or "DKK")
    return currency, str(order.get("presentment_currency") or currency)


def _upper(value: Any) -> str | None:
    return str(value).upper() if value else None


def _refund_line_item(
    row: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    item = row.get("line_item") or {}
    location_id = row.get("location_id")
    return {
        "id": gid("RefundLineItem", row.get("id")),
        "quantity": int(row.get("quantity") or 0),
        "restockType": _upper(row.get("restock_type")) or "NO_RESTOCK",
        "restocked": row.get("restock_type") not in (None, "no_restock"),
        "lineItem": _gql_line_item(item, applications, currencies),
        "location": None
        if location_id is None
        else {"id": gid("Location", location_id), "legacyResourceId": str(location_id)},
        "priceSet": _bag(item, "price", currencies),
        "subtotalSet": _bag(row, "subtotal", currencies),
        "totalTaxSet": _bag(row, "total_tax", currencies),
    }


def _refund_shipping_line(
    row: dict[str, Any], order: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    shipping: dict[str, Any] = row.get("shipping_line") or next(
        (line for line in order.get("shipping_lines") or [] if line.get("id") == row.get("shipping_line_id")), {}
    )
    return {
        "id": gid("RefundShippingLine", row.get("id")),
        "shippingLine": _gql_shipping_line(shipping, applications, currencies),
        "subtotalAmountSet": _bag(row, "subtotal_amount", currencies),
        "taxAmountSet": _bag(row, "tax_amount", currencies),
    }


def gql_transaction(row: dict[str, Any], currencies: tuple[str, str]) -> dict[str, Any]:
    """A REST transaction (a refund's) as the GraphQL `OrderTransaction`, without its parent."""
    return {
        "id": gid("OrderTransaction", row.get("id")),
        "kind": _upper(row.get("kind")),
        "status": _upper(row.get("status")),
        "gateway": row.get("gateway"),
        "createdAt": gql_datetime(row.get("created_at")),
        "processedAt": gql_datetime(row.get("processed_at")),
        "amountSet": _bag(row, "amount", currencies),
        "test": bool(row.get("test")),
        "parentTransaction": None,
        "manuallyCapturable": False,
        "multiCapturable": False,
        "authorizationExpiresAt": None,
        "totalUnsettledSet": None,
    }


def _adjustment(row: dict[str, Any], currencies: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": gid("OrderAdjustment", row.get("id")),
        "reason": "REFUND_DISCREPANCY" if row.get("kind") == "refund_discrepancy" else None,
        "amountSet": _bag(row, "amount", currencies),
        "taxAmountSet": _bag(row, "tax_amount", currencies),
    }


def _refunded(refund: dict[str, Any]) -> Decimal:
    return sum(
        (
            decimal_of(t.get("amount"))
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"
        ),
        Decimal("0"),
    )


def gql_refund(refund: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL Admin `Refund` derived from a REST refund stored on `order`."""
    if set(refund) == {"refund"}:  # the envelope of the REST resource, as in the fixtures
        refund = refund["refund"]
    currencies = _currencies(order)
    applications = order.get("discount_applications") or []
    return {
        "id": refund.get("admin_graphql_api_id") or gid("Refund", refund.get("id")),
        "legacyResourceId": str(refund.get("id")),
        "note": refund.get("note"),
        "createdAt": gql_datetime(refund.get("created_at")),
        "updatedAt": gql_datetime(refund.get("processed_at") or refund.get("created_at")),
        "totalRefundedSet": _bag_of(_refunded(refund), currencies),
        "refundLineItems": connection(
            [_refund_line_item(row, applications, currencies) for row in refund.get("refund_line_items") or []]
        ),
        "refundShippingLines": connection(
            [
                _refund_shipping_line(row, order, applications, currencies)
                for row in refund.get("refund_shipping_lines") or []
            ]
        ),
        "transactions": connection([gql_transaction(row, currencies) for row in refund.get("transactions") or []]),
        "orderAdjustments": connection([_adjustment(row, currencies) for row in refund.get("order_adjustments") or []]),
    }


def order_refunds(order: dict[str, Any]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """`Order.refunds(first:)`: the refunds oldest first, `first` of them when given."""

    def resolve(args: dict[str, Any]) -> list[dict[str, Any]]:
        refunds = [gql_refund(refund, order) for refund in order.get("refunds") or []]
        first = args.get("first")
        return refunds[:first] if isinstance(first, int) else refunds

    return resolve
