"""Stock: stock items per product variant and warehouse (`GET /stock/keySet`, `GET /stock/{productId}?variantId=`,
seen P1), their movement log (`GET /stockAction`, seen P3), and what orders reserve.

A stock item is `{id, productId, variantId, itemNumber, quantity, reservedQuantity}` (seen P1) plus
`warehouseName` (guess: the sheet shows warehouses only by name, in the movement log). `quantity` is what is on
the shelf; `reservedQuantity` what released orders hold and have not packed yet. Orders on hold reserve nothing
(seed 004: an order is not released until every line can be met, so it takes nothing from the orders before it).
Every product gets a stock item in the default warehouse when it is created (guess: a WMS lists every item, at 0).
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms.paging import keyset, param
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import (
    DEFAULT_WAREHOUSE,
    CustomerState,
    Record,
)
from crossdock_local.sims.peakwms.wire import invalid, not_found, render

OPEN_STATES = frozenset({0, 1, 2, 7})  # orders whose unpacked lines still want stock


def item(customer: CustomerState, product_id: str, variant_id: str, warehouse: str | None = None) -> Record | None:
    wanted = warehouse or customer.warehouses[0]
    for row in customer.stock_items(product_id):
        if row["variantId"] == variant_id and row["warehouseName"] == wanted:
            return row
    return None


def ensure_item(
    customer: CustomerState, product_id: str, variant_id: str, item_number: str, warehouse: str | None = None
) -> Record:
    found = item(customer, product_id, variant_id, warehouse)
    if found is not None:
        return found
    row: Record = {
        "id": customer.next_id("stock"),
        "productId": product_id,
        "variantId": variant_id,
        "itemNumber": item_number,
        "quantity": 0,
        "reservedQuantity": 0,
        "warehouseName": warehouse or customer.warehouses[0],
    }
    customer.add_stock(row)
    return row


def items_of(customer: CustomerState, product_id: str, variant_id: str | None = None) -> list[Record]:
    return [row for row in customer.stock_items(product_id) if variant_id is None or row["variantId"] == variant_id]


def free(row: Record) -> int:
    return int(row["quantity"]) - int(row["reservedQuantity"])


def held_demand(customer: CustomerState, product_id: str, variant_id: str) -> int:
    """What orders on hold want of a variant (they reserve nothing yet)."""
    wanted = 0
    for order in customer.held_orders():
        for line in order["orderLines"]:
            if line["productId"] == product_id and line["variantId"] == variant_id:
                wanted += int(line["quantityRequested"]) - int(line["quantityPacked"])
    return wanted


def product_figures(customer: CustomerState, product_id: str, variant_id: str) -> Record:
    """Seen P1/P2: `availableToSell` (Setono publishes it as shop stock), `availableInStock`, `orderedByCustomers`.
    Guess: in stock = on the shelves; ordered = reserved plus what held orders want; to sell = in stock − ordered,
    never below 0."""
    rows = items_of(customer, product_id, variant_id)
    in_stock = sum(int(r["quantity"]) for r in rows)
    ordered = sum(int(r["reservedQuantity"]) for r in rows) + held_demand(customer, product_id, variant_id)
    return {"availableInStock": in_stock, "orderedByCustomers": ordered, "availableToSell": max(0, in_stock - ordered)}


def log_action(
    session: Session, row: Record, adjusted: int, kind: str, reason: str, lot_number: str | None = None
) -> Record:
    """A row of the movement log (seen P3's fields)."""
    action: Record = {
        "id": session.customer.next_id("stock_actions"),
        "adjustmentTime": session.timestamp(),
        "adjustmentType": kind,
        "adjustmentReasonName": reason,
        "itemNumber": row["itemNumber"],
        "quantityAdjusted": adjusted,
        "totalQuantity": row["quantity"],
        "warehouseName": row["warehouseName"],
        "lotNumber": lot_number,
        "bestBeforeDate": None,
    }
    session.customer.of("stock_actions")[action["id"]] = action
    return action


def announce(session: Session, row: Record, adjusted: int, reason: str, lot_number: str | None = None) -> None:
    """Seen P1: the StockAdjust (100) payload, `quantity` the new absolute total of the stock item."""
    body: Record = {
        "productId": row["productId"],
        "variantId": row["variantId"],
        "adjustedQuantity": adjusted,
        "quantity": row["quantity"],
        "warehouseHostId": row["warehouseName"],
        "stockHostIdentifier": row["itemNumber"],
        "lotNumber": lot_number,
        "adjustmentReason": reason,
        "stockItemId": row["id"],
    }
    session.send(100, body, str(row["id"]))


def change(session: Session, row: Record, adjusted: int, kind: str, reason: str) -> None:
    """Stock on the shelf changes by `adjusted`: logged and announced (100); never below what is reserved."""
    if int(row["quantity"]) + adjusted < int(row["reservedQuantity"]):
        raise invalid("quantity", f"would fall below the {row['reservedQuantity']} reserved by released orders")
    row["quantity"] = int(row["quantity"]) + adjusted
    log_action(session, row, adjusted, kind, reason)
    announce(session, row, adjusted, reason)


# ---- the API ------------------------------------------------------------------------------------------------------


def stock_key_set(session: Session, request: SimRequest) -> SimResponse:
    return keyset(request, session.rules, session.customer.of("stock"))


def stock_of_product(session: Session, request: SimRequest, productId: str) -> SimResponse:
    variant = param(request, session.rules, "VariantId")
    rows = items_of(session.customer, productId, variant)
    if not rows:
        raise not_found("stock of product", productId if variant is None else f"{productId}/{variant}")
    return json_response(200, [render(r) for r in rows])


def stock_actions(session: Session, request: SimRequest) -> SimResponse:
    """Seen P3: `fromTime`/`toTime` as `yyyy-MM-ddTHH:mm:ss`; compared as text, which orders such stamps."""
    start = param(request, session.rules, "FromTime") or ""
    end = param(request, session.rules, "ToTime") or "9999"
    actions = session.customer.of("stock_actions")
    rows = {i: a for i, a in actions.items() if start <= a["adjustmentTime"][:19] <= end}
    return keyset(request, session.rules, rows)


def default_warehouse(customer: CustomerState) -> str:
    return customer.warehouses[0] if customer.warehouses else DEFAULT_WAREHOUSE


ROUTES: tuple[Route, ...] = (
    ("GET", "/stock/keySet", stock_key_set),
    ("GET", "/stock/{productId}", stock_of_product),
    ("GET", "/stockAction", stock_actions),
)
