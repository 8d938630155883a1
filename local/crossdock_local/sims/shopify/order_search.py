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
from datetime import UTC, datetime
from typing import Any

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.order_views import gql_refund
from crossdock_local.sims.shopify.paging import connection_page, first_or_last
from crossdock_local.sims.shopify.search import Getter, matching, parse_search
from crossdock_local.sims.shopify.state import Shop
from crossdock_local.sims.shopify.webhooks import WebhookDelivery

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


def bulk_orders(sim: WebhookDelivery, shop: Shop, args: dict[str, Any]) -> tuple[str, list[dict[str, Any]], Any, Any]:
    """`orders` as a bulk export's root (`bulk.Catalog._export`): the matching orders in id order, each node with its
    line items as a nested connection."""
    found = matching(shop.orders.values(), parse_search(args.get("query")), _ORDER_FIELDS, ("name", "email"))
    ordered = sorted(found, key=lambda order: int(order["id"]))
    return "Order", ordered, lambda order: int(order["id"]), lambda order: sim.order_view(shop, order)


class OrderSearch:
    """Registers `orders` on the simulator; reads the shops' stored orders under the simulator's lock."""

    def __init__(self, sim: WebhookDelivery) -> None:
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
        found = matching(shop.orders.values(), parse_search(args.get("query")), _ORDER_FIELDS, ("name", "email"))

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
        edges = [{"cursor": _cursor(order, sort_key), "node": self.sim.order_view(shop, order)} for order in window]
        return connection_page(
            edges,
            has_next_page=bool(window) and window[-1] is not ordered[-1],
            has_previous_page=more_before or (bool(window) and window[0] is not ordered[0]),
        )
