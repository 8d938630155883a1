"""Searching a shop's orders and reading their refunds through the simulator's Admin GraphQL API.

Follows the fact sheet `../shared/reference/shopify.md` ("Versions and API style": GraphQL derived from the stored
REST-shaped orders; "Limits": connections page ≤ 250 with `pageInfo { hasNextPage endCursor }`):

- `orders(first, after, query, sortKey, reverse)`: the search syntax of the catalog (`updated_at:>='…'`, `AND`,
  `OR`, `-`), on `created_at`, `updated_at`, `processed_at`, `name`, `financial_status`, `fulfillment_status`,
  `email` and `id`. `sortKey` orders by `ID` (Shopify's default), `CREATED_AT`, `UPDATED_AT`, `PROCESSED_AT` or
  `ORDER_NUMBER`, ties broken by id. A cursor names the last node's sort value and id (as Shopify's do), so an
  order that changes between two pages moves instead of making another order skip a page.
- `refund(id)`, and `Order.refunds(first)`: a plain list (not a connection), oldest first. Both derive from the REST
  order's `refunds[]` (the shape of `../shared/fixtures/shopify/2025-01/refund_*.json`): `refundLineItems`,
  `refundShippingLines`, `transactions` and `orderAdjustments` are connections; money is a `MoneyBag` in shop and
  presentment currency.
- `Order.number` is REST's `order_number` (the number in the name, "#1001"); `LineItem.isGiftCard` is `gift_card`.

Guesses: an order adjustment's `reason` is `REFUND_DISCREPANCY` for REST's `refund_discrepancy` and null for other
kinds; a refund line's `restocked` is true unless its `restock_type` is `no_restock`. Not modelled: the 60-day limit
on orders without the `read_all_orders` scope, and relevance sorting.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crossdock_local.sims.shopify import (
    Shop,
    _bag,
    _bag_of,
    _dec,
    _gql_line_item,
    _gql_shipping_line,
    connection,
    gid,
    gql_datetime,
    gql_order,
)
from crossdock_local.sims.shopify_catalog import Getter, _search, parse_search
from crossdock_local.sims.shopify_errors import ApiError
from crossdock_local.sims.shopify_graphql import GqlField
from crossdock_local.sims.shopify_paging import connection_page, first_or_last

if TYPE_CHECKING:
    from crossdock_local.sims.shopify import ShopifySimulator

# The OrderSortKeys the simulator sorts by; the schema holds every value, and the others are refused rather than
# answered in an order Shopify would not use.
_SORT_FIELDS = {
    "ID": None,
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "PROCESSED_AT": "processed_at",
    "ORDER_NUMBER": "order_number",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------------------------------------------------
# REST refund → GraphQL Refund
# --------------------------------------------------------------------------------------------------------------------


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


def _transaction(row: dict[str, Any], currencies: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": gid("OrderTransaction", row.get("id")),
        "kind": _upper(row.get("kind")),
        "status": _upper(row.get("status")),
        "gateway": row.get("gateway"),
        "createdAt": gql_datetime(row.get("created_at")),
        "processedAt": gql_datetime(row.get("processed_at")),
        "amountSet": _bag(row, "amount", currencies),
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
            _dec(t.get("amount"))
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
        "transactions": connection([_transaction(row, currencies) for row in refund.get("transactions") or []]),
        "orderAdjustments": connection([_adjustment(row, currencies) for row in refund.get("order_adjustments") or []]),
    }


def order_refunds(order: dict[str, Any]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """`Order.refunds(first:)`: the refunds oldest first, `first` of them when given."""

    def resolve(args: dict[str, Any]) -> list[dict[str, Any]]:
        refunds = [gql_refund(refund, order) for refund in order.get("refunds") or []]
        first = args.get("first")
        return refunds[:first] if isinstance(first, int) else refunds

    return resolve


# --------------------------------------------------------------------------------------------------------------------
# orders(query:, sortKey:)
# --------------------------------------------------------------------------------------------------------------------


def _moment(value: Any) -> datetime:
    if not value:
        return _EPOCH
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sort_value(order: dict[str, Any], sort_key: str) -> Any:
    field = _SORT_FIELDS[sort_key]
    if field is None:
        return int(order["id"])
    if field == "order_number":
        return int(order.get("order_number") or 0)
    return _moment(order.get(field))


def _cursor(order: dict[str, Any], sort_key: str) -> str:
    value = _sort_value(order, sort_key)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.b64encode(json.dumps({"last_id": int(order["id"]), "last_value": text}).encode()).decode()


def _decode(cursor: Any, sort_key: str) -> tuple[Any, int]:
    try:
        decoded = json.loads(base64.b64decode(str(cursor)))
        last_id, text = int(decoded["last_id"]), str(decoded["last_value"])
        field = _SORT_FIELDS[sort_key]
        value: Any = int(text) if field in (None, "order_number") else _moment(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(f"Invalid cursor '{cursor}'", "argumentLiteralsIncompatible") from exc
    return value, last_id


_ORDER_FIELDS: dict[str, Getter] = {
    "created_at": lambda order: order.get("created_at"),
    "updated_at": lambda order: order.get("updated_at"),
    "processed_at": lambda order: order.get("processed_at"),
    "name": lambda order: order.get("name"),
    "financial_status": lambda order: order.get("financial_status"),
    "fulfillment_status": lambda order: order.get("fulfillment_status") or "unfulfilled",
    "email": lambda order: order.get("email"),
    "id": lambda order: order.get("id"),
}


class OrderSearch:
    """Registers `orders` on the simulator; reads the shops' stored orders under the simulator's lock."""

    def __init__(self, sim: ShopifySimulator) -> None:
        self.sim = sim
        sim.resolvers["orders"] = self._resolve_orders
        sim.resolvers["refund"] = self._resolve_refund

    def _resolve_refund(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://shopify/Refund/(\d+)", str(f.args.get("id")))
        if match is None:
            raise ApiError(f"Invalid global id '{f.args.get('id')}'", "argumentLiteralsIncompatible")
        refund_id = int(match.group(1))
        for order in shop.orders.values():
            for refund in order.get("refunds") or []:
                if refund.get("id") == refund_id:
                    return gql_refund(refund, order)
        return None

    def _resolve_orders(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        args = f.args
        sort_key = str(args.get("sortKey") or "ID")
        if sort_key not in _SORT_FIELDS:
            raise ApiError(f"sortKey {sort_key} is not modelled by the simulator", "argumentLiteralsIncompatible")
        reverse = bool(args.get("reverse"))
        found = _search(shop.orders.values(), parse_search(args.get("query")), _ORDER_FIELDS, ("name", "email"))

        def key(order: dict[str, Any]) -> tuple[Any, int]:
            return _sort_value(order, sort_key), int(order["id"])

        ordered = sorted(found, key=key, reverse=reverse)
        if args.get("after"):
            mark = _decode(args["after"], sort_key)
            ordered = [order for order in ordered if (key(order) < mark if reverse else key(order) > mark)]
        if args.get("before"):
            mark = _decode(args["before"], sort_key)
            ordered = [order for order in ordered if (key(order) > mark if reverse else key(order) < mark)]
        more_before = bool(args.get("after"))
        window = first_or_last(ordered, args)
        edges = [{"cursor": _cursor(order, sort_key), "node": gql_order(order)} for order in window]
        return connection_page(
            edges,
            has_next_page=bool(window) and window[-1] is not ordered[-1],
            has_previous_page=more_before or (bool(window) and window[0] is not ordered[0]),
        )
