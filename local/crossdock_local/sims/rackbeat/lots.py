"""Rackbeat's lots (BOMs, `/lots`) and the read-only union of products and lots (`/items`).

A lot has a product's fields and rules (catalogue.py) and lines naming the products it is built from; lots and
products share one number space.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.catalogue import (
    PRODUCT_FILTERS,
    PRODUCT_SEARCH,
    filter_field_eq,
    new_item,
    plain,
    product_fields,
    render_product,
)
from crossdock_local.sims.rackbeat.fulfilment import Reservations, reservations
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, Record
from crossdock_local.sims.rackbeat.wire import body_of, decimal, not_found, now, raise_if

ITEM_FILTERS = PRODUCT_FILTERS | {"type"}


# ---- lots (BOMs) -----------------------------------------------------------------------------------------------


def _lot(account: AccountState, number: str) -> Record:
    lot = account.lots.get(unquote(number))
    if lot is None:
        raise not_found()
    return lot


def _lot_lines(account: AccountState, raw: Any, errors: Errors) -> list[Record]:
    """`lines: [{"item_id": <product number>, "quantity": n}]`; null or absent is a lot without lines (guess)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["lines"] = ["The lines must be an array."]
        return []
    lines: list[Record] = []
    for index, line in enumerate(raw):
        prefix = f"lines.{index}."
        if not isinstance(line, dict):
            errors[f"lines.{index}"] = ["The line must be an object."]
            continue
        item_id = line.get("item_id")
        # Guess: a lot is built from products only (no lot inside a lot); the message is the order lines' one.
        product = account.products.get(str(item_id)) if item_id is not None else None
        quantity = decimal(line.get("quantity"))
        if product is None:
            errors[prefix + "item_id"] = ["Product needed"]
        if quantity is None or quantity <= 0:
            errors[prefix + "quantity"] = ["The quantity must be a number greater than 0."]
        if product is not None and quantity is not None and quantity > 0:
            lines.append({"item_id": product["number"], "quantity": quantity})
    return lines


def _render_lot(account: AccountState, lot: Record, held: Reservations | None = None) -> Any:
    rendered = render_product(account, lot, held)
    rendered["lines"] = [
        {
            "item_id": line["item_id"],
            "name": account.products.get(line["item_id"], {}).get("name"),
            "quantity": plain(line["quantity"]),
        }
        for line in lot["lines"]
    ]
    return rendered


def _list_lots(session: Session, request: SimRequest) -> SimResponse:
    rows = filter_field_eq(session.account, request, [session.account.lots[n] for n in sorted(session.account.lots)])
    held = reservations(session.account)
    return page_response(
        request, "lots", rows, lambda row: _render_lot(session.account, row, held), PRODUCT_FILTERS, PRODUCT_SEARCH
    )


def _create_lot(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    lot = new_item(session.account, body)  # same fields and rules as a product, and never a product's number
    errors: Errors = {}
    lot["lines"] = _lot_lines(session.account, body.get("lines"), errors)
    raise_if(errors)
    session.account.lots[lot["number"]] = lot
    session.emit("lot.created", lot["number"])  # guess: event name by analogy with product.created
    return json_response(201, {"lot": _render_lot(session.account, lot)})


def _get_lot(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"lot": _render_lot(session.account, _lot(session.account, number))})


def _update_lot(session: Session, request: SimRequest, number: str) -> SimResponse:
    lot, body = _lot(session.account, number), body_of(request)
    errors: Errors = {}
    lines = (
        _lot_lines(session.account, body["lines"], errors) if "lines" in body else lot["lines"]
    )  # guess: lines replace
    raise_if(errors)
    lot.update(product_fields(session.account, body, creating=False), lines=lines, updated_at=now())
    session.emit("lot.updated", lot["number"])  # guess: event name
    return json_response(200, {"lot": _render_lot(session.account, lot)})


# ---- /items: products and lots together (read-only) ------------------------------------------------------------


def _render_item(account: AccountState, item: Record, held: Reservations | None = None) -> Any:
    return _render_lot(account, item, held) if item["type"] == "lot" else render_product(account, item, held)


def _list_items(session: Session, request: SimRequest) -> SimResponse:
    # Guess: `type` ("product" | "lot") tells the two apart; rows are ordered by number across both kinds.
    rows = [{**p, "type": "product"} for p in session.account.products.values()]
    rows += [{**lot, "type": "lot"} for lot in session.account.lots.values()]
    rows = filter_field_eq(session.account, request, sorted(rows, key=lambda row: str(row["number"])))
    held = reservations(session.account)
    return page_response(
        request, "items", rows, lambda row: _render_item(session.account, row, held), ITEM_FILTERS, PRODUCT_SEARCH
    )


def _get_item(session: Session, request: SimRequest, number: str) -> SimResponse:
    key = unquote(number)
    if key in session.account.products:
        item = {**session.account.products[key], "type": "product"}
    elif key in session.account.lots:
        item = {**session.account.lots[key], "type": "lot"}
    else:
        raise not_found()
    return json_response(200, {"item": _render_item(session.account, item)})


ROUTES: list[Route] = [
    ("GET", "/lots", _list_lots),
    ("POST", "/lots", _create_lot),
    ("GET", "/lots/{number}", _get_lot),
    ("PUT", "/lots/{number}", _update_lot),
    ("GET", "/items", _list_items),
    ("GET", "/items/{number}", _get_item),
]
