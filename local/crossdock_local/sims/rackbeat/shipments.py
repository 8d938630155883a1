"""Rackbeat's order shipments: created from a booked order (`POST /orders/{number}/create-shipment`, whole or,
guess, partial), listed per order, and marked shipped, which draws the stock (`order_shipment.shipped`, then one
`product.stock_changed` per item)."""

from __future__ import annotations

from decimal import Decimal

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.fulfilment import (
    draw_stock,
    find_order,
    order_shipments,
    quantities_on_shipments,
    refresh_flags,
    refuse_if_cancelled,
)
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, Record
from crossdock_local.sims.rackbeat.wire import body_of, decimal, integer, invalid, not_found, now, raise_if, render


def _shipment_lines(account: AccountState, order: Record, body: Record) -> list[Record]:
    """Lines for a new shipment: everything not yet on a shipment, or (guess) the body's
    `lines: [{"line_id", "quantity"}]` for a partial shipment."""
    taken = quantities_on_shipments(account, order, shipped_only=False)
    remaining = {line["id"]: line["quantity"] - taken[line["id"]] for line in order["lines"]}
    by_id = {line["id"]: line for line in order["lines"]}
    wanted: list[tuple[int, Decimal]] = [(k, v) for k, v in remaining.items() if v > 0]
    if isinstance(body.get("lines"), list):
        errors: Errors = {}
        wanted = []
        for index, raw in enumerate(body["lines"]):
            line_id = integer(raw.get("line_id")) if isinstance(raw, dict) else None
            quantity = decimal(raw.get("quantity")) if isinstance(raw, dict) else None
            if line_id is None or line_id not in remaining:
                errors[f"lines.{index}.line_id"] = ["The selected line id is invalid."]
            elif quantity is None or not 0 < quantity <= remaining[line_id]:
                errors[f"lines.{index}.quantity"] = ["The quantity exceeds what is left to ship."]
            else:
                wanted.append((line_id, quantity))
        raise_if(errors)
    return [
        {
            "line_id": line_id,
            "item_id": by_id[line_id]["item_id"],
            "name": by_id[line_id]["name"],
            "quantity": quantity,
            "location_id": by_id[line_id]["location_id"],
        }
        for line_id, quantity in wanted
    ]


def _create_shipment(session: Session, request: SimRequest, number: str) -> SimResponse:
    order = find_order(session.account, number)
    refuse_if_cancelled(order, "shipped")
    if not order["is_booked"] or order["is_cancelled"]:
        raise invalid({"order": ["Order must be booked before it can be shipped"]})
    if order["is_shipped"]:
        raise invalid({"order": ["Order is already shipped"]})
    lines = _shipment_lines(session.account, order, body_of(request))
    if not lines:
        raise invalid({"order": ["Order has nothing left to ship"]})
    shipment_id = session.next_id("shipment")
    shipment = {
        "id": shipment_id,
        "order_number": order["number"],
        "is_shipped": False,
        "shipped_at": None,
        "lines": lines,
        "created_at": now(),
    }
    session.account.shipments[shipment_id] = shipment
    return json_response(201, {"order_shipment": render(shipment)})


def _shipment(account: AccountState, shipment_id: str) -> Record:
    shipment = account.shipments.get(integer(shipment_id) or 0)
    if shipment is None:
        raise not_found()
    return shipment


def _get_shipment(session: Session, request: SimRequest, shipment_id: str) -> SimResponse:
    return json_response(200, {"order_shipment": render(_shipment(session.account, shipment_id))})


def _list_shipments(session: Session, request: SimRequest, number: str) -> SimResponse:
    rows = sorted(order_shipments(session.account, find_order(session.account, number)), key=lambda s: s["id"])
    return page_response(request, "order_shipments", rows, render, frozenset({"id", "is_shipped"}), ())


def _mark_shipped(session: Session, request: SimRequest, shipment_id: str) -> SimResponse:
    shipment = _shipment(session.account, shipment_id)
    body_of(request)  # Guess: {"pick": true} — stock is drawn either way; the flag's exact effect is unknown.
    if shipment["is_shipped"]:
        raise invalid({"order_shipment": ["Shipment is already shipped"]})
    shipment.update(is_shipped=True, shipped_at=now())
    changed = draw_stock(session.account, shipment["lines"])
    order = session.account.orders[shipment["order_number"]]
    refresh_flags(session.account, order)
    order["updated_at"] = now()
    session.emit("order_shipment.shipped", shipment["id"], key_name="id")
    for number in changed:
        session.emit("product.stock_changed", number)
    return json_response(200, {"order_shipment": render(shipment)})


# `/orders/shipments/{shipment_id}` before `/orders/{number}/shipments`: `/orders/shipments/shipments` matches both,
# and the router takes the first match.
ROUTES: list[Route] = [
    ("GET", "/orders/shipments/{shipment_id}", _get_shipment),
    ("POST", "/orders/shipments/{shipment_id}/mark-shipped", _mark_shipped),
    ("POST", "/orders/{number}/create-shipment", _create_shipment),
    ("GET", "/orders/{number}/shipments", _list_shipments),
]
