"""What a shop sold, per variant and day, from a start date: one bulk export of its orders (`bulk_export`).

The export has a line per order followed by its line items (`__parentId`). Counted: what the order still holds
of each line (`currentQuantity`: after edits and refunds that removed items), for orders that are not cancelled and
not test orders, on the UTC day the order was placed (the date part of `createdAt`: GraphQL's DateTime is UTC;
a shop far from UTC sees its late-evening sales on the next day). Lines without a variant (custom items, deleted
products) are counted apart: nothing in a warehouse is theirs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Final

from crossdock.connectors.shopify import bulk_export
from crossdock.connectors.shopify.catalog_export import numeric_id

ORDERS_SINCE: Final = """
{
  orders(query: "created_at:>='%s'") {
    edges {
      node {
        id
        createdAt
        cancelledAt
        test
        lineItems {
          edges { node { id sku quantity currentQuantity variant { id } product { id } } }
        }
      }
    }
  }
}
"""


def orders_since(start: date) -> str:
    """The bulk query of every order placed on or after `start` (a date: no user text reaches the query)."""
    return ORDERS_SINCE % start.isoformat()


@dataclass(frozen=True)
class SoldDay:
    product_id: str
    variant_id: str
    sku: str
    day: date
    quantity: int


@dataclass(frozen=True)
class SalesHistory:
    days: tuple[SoldDay, ...]  # sorted by day, product, variant: the same export always gives the same order
    orders: int
    without_variant: int  # line items counted apart


def sold_per_day(url: str) -> SalesHistory:
    totals: dict[tuple[date, str, str], int] = defaultdict(int)
    skus: dict[tuple[str, str], str] = {}
    counted: dict[str, date] = {}  # order gid → its day, for the orders that count
    orders = without_variant = 0
    for raw in bulk_export.raw_lines(url):
        line = json.loads(raw)
        parent = line.get("__parentId")
        if parent is None:
            if line.get("cancelledAt") or line.get("test"):
                continue
            orders += 1
            counted[line["id"]] = date.fromisoformat(str(line["createdAt"])[:10])
            continue
        day = counted.get(parent)
        if day is None:
            continue
        quantity = int(line.get("currentQuantity", line.get("quantity")) or 0)
        variant, product = line.get("variant"), line.get("product")
        if not variant or not product:
            without_variant += 1
            continue
        key = (numeric_id(product["id"]), numeric_id(variant["id"]))
        if quantity > 0:
            totals[(day, *key)] += quantity
        skus.setdefault(key, str(line.get("sku") or "").strip())
    days = tuple(
        SoldDay(product_id, variant_id, skus.get((product_id, variant_id), ""), day, quantity)
        for (day, product_id, variant_id), quantity in sorted(totals.items())
    )
    return SalesHistory(days, orders, without_variant)
