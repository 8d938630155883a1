"""Rackbeat's stock movements by hand: inventory adjustments (the fact sheet's "Stock adjustment",
`/inventory-adjustments`), made and then booked, and the warehouse-side control calls built on them.

Stock model: a product has `stock_quantity` (its total) and `_locations` (location number → stock there). Stock only
moves through booked adjustments (here), shipped shipments and returned credit notes (fulfilment.py); either marks
the product as having stock movements, which stops it from being deleted. What booked orders reserve is worked out
in fulfilment.py. Everything the fact sheet does not say is marked "Guess:".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, Record
from crossdock_local.sims.rackbeat.wire import (
    STAMP,
    body_of,
    decimal,
    integer,
    invalid,
    not_found,
    now,
    raise_if,
    render,
)

# Guess: which adjustment fields are filterable (the brief for Crossdock needs `is_booked`; `search=` covers reason).
ADJUSTMENT_FILTERS = frozenset({"id", "is_booked", "adjustment_type"})
ADJUSTMENT_SEARCH = ("reason",)


def _adjustment_line(account: AccountState, raw: Any, prefix: str, errors: Errors) -> Record | None:
    """One line of an adjustment (`prefix` "" for the single form, "lines.N." for the multi-line form)."""
    if not isinstance(raw, dict):
        errors[prefix.rstrip(".")] = ["The line must be an object."]
        return None
    problems: Errors = {}
    item_id = raw.get("item_id")
    product = account.products.get(str(item_id)) if item_id is not None else None
    if item_id is None:
        problems[prefix + "item_id"] = ["The item id field is required."]
    elif product is None:
        # Guess: adjustments register stock of products; a lot's stock is not simulated.
        known_lot = str(item_id) in account.lots
        problems[prefix + "item_id"] = [
            "Stock of a lot can not be adjusted." if known_lot else "The selected item id is invalid."
        ]
    elif not product["inventory_enabled"]:
        problems[prefix + "item_id"] = ["The item does not keep inventory."]  # guess: wording
    # Guess: `quantity` is a change (+ adds, - removes), not the counted total; the sheet's "zero-change
    # adjustment is rejected" fits a delta.
    quantity = decimal(raw.get("quantity"))
    if quantity is None:
        problems[prefix + "quantity"] = ["The quantity field is required and must be a number."]
    elif quantity == 0:
        problems[prefix + "quantity"] = ["The quantity can not be 0."]
    location = raw.get("location")
    if isinstance(location, dict):
        location = location.get("number")  # guess: tolerate {"number": ...} like other references
    if location is not None and str(location) not in account.locations:
        problems[prefix + "location"] = ["The selected location is invalid."]
    errors.update(problems)
    if problems or product is None or quantity is None:
        return None
    return {
        "item_id": product["number"],
        "quantity": quantity,
        "location": None if location is None else str(location),
    }


def create_adjustment(session: Session, body: Record) -> Record:
    """Validate a POST /inventory-adjustments body completely, then store the (unbooked) adjustment."""
    errors: Errors = {}
    kind = body.get("adjustment_type")
    if kind is None:
        errors["adjustment_type"] = ["The adjustment type field is required."]
    elif kind != "quantity":
        # Guess: only quantity adjustments are simulated; the sheet shows no other type.
        errors["adjustment_type"] = ["The selected adjustment type is invalid."]
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = ["The reason must be a string."]
    regulated_at = body.get("regulated_at")
    if regulated_at is not None and not (isinstance(regulated_at, str) and STAMP.fullmatch(regulated_at)):
        errors["regulated_at"] = ["The regulated at does not match the format Y-m-d H:i:s."]
    if "lines" in body:
        # Guess: a multi-line form `{adjustment_type, reason, regulated_at, lines: [{item_id, quantity,
        # location}]}`. The sheet documents only the single-item form; Rackbeat's UI regulations have lines,
        # and Crossdock books bulk stock imports this way, so the simulator accepts both.
        raw_lines = body["lines"]
        if "item_id" in body:
            errors["item_id"] = ["Give either item_id or lines, not both."]  # guess
        if not isinstance(raw_lines, list) or not raw_lines:
            errors["lines"] = ["The lines must be a non-empty array."]
            raw_lines = []
        lines = [_adjustment_line(session.account, raw, f"lines.{i}.", errors) for i, raw in enumerate(raw_lines)]
    else:
        lines = [_adjustment_line(session.account, body, "", errors)]
    raise_if(errors)
    stamp = now()
    regulation: Record = {
        "id": session.next_id("adjustment"),
        "adjustment_type": "quantity",
        "reason": reason,
        "regulated_at": regulated_at or stamp,  # guess: defaults to the moment it is made
        "is_booked": False,
        "booked_at": None,
        "lines": [line for line in lines if line is not None],
        "created_at": stamp,
        "updated_at": stamp,
    }
    session.account.adjustments[regulation["id"]] = regulation
    return regulation


def book_adjustment(session: Session, regulation: Record) -> None:
    """Apply every line to its product's total and location stock, all or nothing; one `product.stock_changed`
    per item whose stock really changed."""
    if regulation["is_booked"]:
        raise invalid({"inventory_regulation": ["The adjustment is already booked."]})  # guess: key and wording
    products = session.account.products
    # The items may have changed since the adjustment was made (deleted, stock switched off): check again first.
    errors: Errors = {}
    for index, line in enumerate(regulation["lines"]):
        product = products.get(line["item_id"])
        if product is None or not product["inventory_enabled"]:
            errors[f"lines.{index}.item_id"] = ["The item no longer keeps inventory."]
    raise_if(errors)
    stamp = now()
    moved: dict[str, dict[str | None, Decimal]] = {}  # item → location (None: the total only) → net change
    for line in regulation["lines"]:
        product = products[line["item_id"]]
        product["stock_quantity"] += line["quantity"]
        if line["location"] is not None:
            per_location = product["_locations"]
            per_location[line["location"]] = per_location.get(line["location"], Decimal(0)) + line["quantity"]
        product.update(updated_at=stamp, _stock_moved=True)
        net = moved.setdefault(product["number"], {})
        net[line["location"]] = net.get(line["location"], Decimal(0)) + line["quantity"]
    regulation.update(is_booked=True, booked_at=stamp, updated_at=stamp)
    # +2 and -2 at the same place leave the item as it was: nothing to announce then.
    for number, net in moved.items():
        if any(net.values()):
            session.emit("product.stock_changed", number)


def adjust(session: Session, number: str, delta: Decimal, location: str | None, reason: str) -> Record:
    """Create and book a one-line adjustment, as a warehouse worker does in Rackbeat's UI."""
    body = {
        "adjustment_type": "quantity",
        "item_id": number,
        "quantity": str(delta),
        "location": location,
        "reason": reason,
    }
    regulation = create_adjustment(session, body)
    book_adjustment(session, regulation)
    return regulation


def stock_of(account: AccountState, number: str, location: str | None) -> Decimal:
    product = account.products.get(number)
    if product is None:
        raise invalid({"item_id": ["The selected item id is invalid."]})
    if location is None:
        total: Decimal = product["stock_quantity"]
        return total
    if str(location) not in account.locations:
        raise invalid({"location": ["The selected location is invalid."]})
    return Decimal(product["_locations"].get(str(location), Decimal(0)))


def _adjustment(account: AccountState, regulation_id: str) -> Record:
    regulation = account.adjustments.get(integer(regulation_id) or 0)
    if regulation is None:
        raise not_found()
    return regulation


def _list_adjustments(session: Session, request: SimRequest) -> SimResponse:
    rows = [session.account.adjustments[i] for i in sorted(session.account.adjustments)]
    # Guess: the list's plural key follows the path (`inventory_adjustments`), while one adjustment comes as
    # `inventory_regulation` (seen).
    return page_response(request, "inventory_adjustments", rows, render, ADJUSTMENT_FILTERS, ADJUSTMENT_SEARCH)


def _create_adjustment_route(session: Session, request: SimRequest) -> SimResponse:
    regulation = create_adjustment(session, body_of(request))
    return json_response(201, {"inventory_regulation": render(regulation)})


def _get_adjustment(session: Session, request: SimRequest, regulation_id: str) -> SimResponse:
    return json_response(200, {"inventory_regulation": render(_adjustment(session.account, regulation_id))})


def _book_adjustment_route(session: Session, request: SimRequest, regulation_id: str) -> SimResponse:
    regulation = _adjustment(session.account, regulation_id)
    body_of(request)  # an empty body or {} is expected; nothing in it changes the booking
    book_adjustment(session, regulation)
    return json_response(200, {"inventory_regulation": render(regulation)})  # guess: 200 with the adjustment


ROUTES: list[Route] = [
    ("GET", "/inventory-adjustments", _list_adjustments),
    ("POST", "/inventory-adjustments", _create_adjustment_route),
    ("GET", "/inventory-adjustments/{regulation_id}", _get_adjustment),
    ("POST", "/inventory-adjustments/{regulation_id}/book", _book_adjustment_route),
]
