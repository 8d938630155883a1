"""Rackbeat items (products and BOMs), their custom fields, stock and inventory adjustments (reference/rackbeat.md).

Every write here passes `suppress_webhooks=true`: a change Crossdock makes must not come back to it as a Rackbeat
webhook and bounce into another sync (SPEC §1.3 echo prevention).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient, Unprocessable, item_path
from crossdock.model.product import CENT, CatalogItem, money

DANISH_VAT = Decimal("1.25")
ItemKind = Literal["product", "lot"]
# Rackbeat webhook event → kind of item it names. Rackbeat does not publish the stock event's name; the
# simulator's guess lives here only (reference/rackbeat.md "Webhooks": keep the mapping in one table).
ITEM_EVENTS: dict[str, ItemKind] = {
    "product.created": "product",
    "product.updated": "product",
    "lot.created": "lot",
    "lot.updated": "lot",
}
STOCK_EVENTS = frozenset({"product.stock_changed"})
SUPPRESS = {"suppress_webhooks": "true"}


def read_item(client: RackbeatClient, number: str, kind: ItemKind = "product") -> dict[str, Any] | None:
    try:
        body = client.get(f"{'products' if kind == 'product' else 'lots'}/{item_path(number)}")
    except NotFound:
        return None
    item: dict[str, Any] = body[kind]
    return item


def is_online(client: RackbeatClient, number: str, online_availability: str) -> bool:
    """`always_online`, or the chosen checkbox custom field is ticked on the item (SPEC §1.3)."""
    if online_availability == "always_online":
        return True
    body = client.get(f"products/{item_path(number)}/fields", limit=1000)
    for value in body.get("field_values", []):
        if str((value.get("field") or {}).get("id")) == online_availability:
            return value.get("value") in (True, 1, "1", "true", "yes")
    return False


def to_catalog_item(item: dict[str, Any], *, prices_exclude_vat: bool, cost_price: str, published: bool) -> CatalogItem:
    """What the shop should show for a Rackbeat item: prices with VAT added when Rackbeat's exclude it, and the
    cost price Rackbeat calls `recommended` or `actual` (or none)."""
    price = money(item.get("sales_price"))
    if price is not None and prices_exclude_vat:
        price = (price * DANISH_VAT).quantize(CENT, ROUND_HALF_UP)
    cost_field = {"recommended": "recommended_cost_price", "actual": "cost_price"}.get(cost_price)
    group = item.get("group") or {}
    return CatalogItem(
        number=str(item["number"]),
        name=str(item.get("name") or item["number"]),
        description=item.get("description") or None,
        sales_price=price,
        barcode=item.get("barcode") or None,
        category=group.get("name") if isinstance(group, dict) else None,
        cost=money(item.get(cost_field)) if cost_field else None,
        published=published and not item.get("is_barred", False),
        sellable=not item.get("is_barred", False),
    )


def stock_quantity(
    client: RackbeatClient, number: str, quantity: Literal["in_stock", "available"], location: str | None
) -> int | None:
    """The absolute quantity to show in the shop, or None when the item is gone or keeps no stock."""
    field = "stock_quantity" if quantity == "in_stock" else "available_quantity"
    try:
        if location is None:
            product = client.get(f"products/{item_path(number)}")["product"]
            if not product.get("inventory_enabled", True):
                return None
            return _whole(product.get(field))
        rows = client.get(f"products/{item_path(number)}/locations", limit=1000)["product_locations"]
    except NotFound:
        return None
    for row in rows:
        if str(row.get("number")) == location:
            return _whole(row.get(field, row.get("stock_quantity")))
    return 0  # never stocked at that location


def _whole(value: Any) -> int:
    # Shops sell whole units: 2.5 on hand is 2 sellable.
    return int(Decimal(str(value or 0)).to_integral_value(ROUND_FLOOR))


def item_body(item: CatalogItem, group: int | None) -> dict[str, Any]:
    """Fields moved Shopify → Rackbeat (SPEC §1.3): name, number, description, sales price incl. VAT, weight."""
    body: dict[str, Any] = {"number": item.number, "name": item.name, "description": item.description or ""}
    if item.sales_price is not None:
        body["sales_price"] = str(item.sales_price)
    if item.barcode:
        body["barcode"] = item.barcode
    if item.weight is not None:
        body["physical"] = {"weight": str(item.weight), "weight_unit": item.weight_unit or "g"}
    if group is not None:
        body["group"] = {"number": group}
    return body


def create_item(client: RackbeatClient, item: CatalogItem, group: int | None) -> bool:
    """Create the item; False when Rackbeat already has that number (item numbers are unique, so a repeated
    create after a lost response cannot make a second item)."""
    try:
        client.post("products", item_body(item, group), **SUPPRESS)
    except Unprocessable as refused:
        if any("taken" in message for message in refused.errors.get("number", [])):
            return False
        raise
    return True


def upsert_item(client: RackbeatClient, item: CatalogItem, group: int | None) -> str:
    """Create or update; an existing item keeps its group and every field Shopify does not master."""
    existing = read_item(client, item.number)
    if existing is None:
        return "created" if create_item(client, item, group) else "unchanged"
    wanted = item_body(item, None)
    changes = {key: value for key, value in wanted.items() if not _same(existing.get(key), value)}
    if not changes:
        return "unchanged"
    client.put(f"products/{item_path(item.number)}", changes, **SUPPRESS)
    return "updated"


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_same(current.get(k), v) for k, v in wanted.items())
    try:
        return Decimal(str(current)) == Decimal(str(wanted))
    except ArithmeticError:
        return (current or "") == (wanted or "")


# ---- inventory adjustments ----------------------------------------------------------------------------------------


def find_adjustment(client: RackbeatClient, reason: str) -> dict[str, Any] | None:
    rows = client.get("inventory-adjustments", search=reason, limit=50).get("inventory_adjustments", [])
    matches = [row for row in rows if row.get("reason") == reason]
    return matches[0] if matches else None


def register_stock(client: RackbeatClient, reason: str, lines: Iterable[tuple[str, int]], location: str | None) -> int:
    """Books one adjustment with a line per (item, quantity added); `reason` is its idempotency key: an
    adjustment with that reason found booked means the stock is registered already. Returns lines booked."""
    wanted = [{"item_id": number, "quantity": qty, "location": location} for number, qty in lines if qty]
    if not wanted:
        return 0
    existing = find_adjustment(client, reason)
    if existing is None:
        body = {"adjustment_type": "quantity", "reason": reason, "lines": wanted}
        existing = client.post("inventory-adjustments", body, **SUPPRESS)["inventory_regulation"]
    if not existing.get("is_booked"):
        client.post(f"inventory-adjustments/{existing['id']}/book", {}, **SUPPRESS)
    return len(existing.get("lines") or wanted)
