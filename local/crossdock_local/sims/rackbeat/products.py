"""Rackbeat's products (`/products`, with their stock per location) and product groups (`/product-groups`).

How a product is built, validated and shown is in catalogue.py, shared with lots; `stock_quantity` is not writable
here: stock moves through adjustments (stock.py) and shipments.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.catalogue import (
    PRODUCT_FILTERS,
    PRODUCT_SEARCH,
    filter_field_eq,
    find_product,
    new_item,
    product_fields,
    render_product,
)
from crossdock_local.sims.rackbeat.fulfilment import reservations
from crossdock_local.sims.rackbeat.paging import REFERENCE_FILTERS, REFERENCE_SEARCH, page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.wire import body_of, invalid, not_found, now, render

GROUP_FILTERS = frozenset({"number", "name", "has_inventory"})


def _list_products(session: Session, request: SimRequest) -> SimResponse:
    rows = filter_field_eq(
        session.account, request, [session.account.products[n] for n in sorted(session.account.products)]
    )
    held = reservations(session.account)
    return page_response(
        request,
        "products",
        rows,
        lambda row: render_product(session.account, row, held),
        PRODUCT_FILTERS,
        PRODUCT_SEARCH,
    )


def _create_product(session: Session, request: SimRequest) -> SimResponse:
    product = new_item(session.account, body_of(request))
    session.account.products[product["number"]] = product
    session.emit("product.created", product["number"])
    return json_response(201, {"product": render_product(session.account, product)})


def _get_product(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"product": render_product(session.account, find_product(session.account, number))})


def _update_product(session: Session, request: SimRequest, number: str) -> SimResponse:
    product = find_product(session.account, number)
    product.update(product_fields(session.account, body_of(request), creating=False), updated_at=now())
    session.emit("product.updated", product["number"])
    return json_response(200, {"product": render_product(session.account, product)})


def _delete_product(session: Session, request: SimRequest, number: str) -> SimResponse:
    product = find_product(session.account, number)
    if product.get("_stock_moved"):
        # SPEC: an item with registered stock can't be deleted (it would orphan its stock history).
        raise invalid({"number": ["Item has stock movements and cannot be deleted"]})
    if any(line["item_id"] == product["number"] for lot in session.account.lots.values() for line in lot["lines"]):
        # Guess: nor can a component of a lot, which would be left pointing at nothing.
        raise invalid({"number": ["Item is used in a lot and cannot be deleted"]})
    del session.account.products[product["number"]]
    session.emit("product.deleted", product["number"])  # guess: event name by analogy with product.created
    return SimResponse(204)


def _product_locations(session: Session, request: SimRequest, number: str) -> SimResponse:
    product = find_product(session.account, number)
    stock: dict[str, Decimal] = product["_locations"]
    held = reservations(session.account).get(product["number"], {})
    # Guess: a location where booked orders reserve the item shows up even if it never held stock (available
    # goes negative there), as the product's own available_quantity can.
    numbers = sorted(set(stock) | {location for location in held if location is not None})
    rows = [
        {
            "number": location,
            "name": session.account.locations.get(location, {}).get("name"),
            "stock_quantity": stock.get(location, Decimal(0)),
            "in_order_quantity": held.get(location, Decimal(0)),
            "available_quantity": stock.get(location, Decimal(0)) - held.get(location, Decimal(0)),
        }
        for location in numbers
    ]
    return page_response(request, "product_locations", rows, render, REFERENCE_FILTERS, REFERENCE_SEARCH)


# ---- product groups --------------------------------------------------------------------------------------------


def _list_groups(session: Session, request: SimRequest) -> SimResponse:
    rows = list(session.account.product_groups.values())
    return page_response(request, "product_groups", rows, render, GROUP_FILTERS, REFERENCE_SEARCH)


def _get_group(session: Session, request: SimRequest, number: str) -> SimResponse:
    group = session.account.product_groups.get(unquote(number))
    if group is None:
        raise not_found()
    return json_response(200, {"product_group": render(group)})


# Each `{...}` pattern is anchored and ends before the next segment, so none shadows another
# (`/products/{number}/locations` cannot match `/products/{number}`).
ROUTES: list[Route] = [
    ("GET", "/products", _list_products),
    ("POST", "/products", _create_product),
    ("GET", "/products/{number}", _get_product),
    ("PUT", "/products/{number}", _update_product),
    ("DELETE", "/products/{number}", _delete_product),
    ("GET", "/products/{number}/locations", _product_locations),
    ("GET", "/product-groups", _list_groups),
    ("GET", "/product-groups/{number}", _get_group),
]
