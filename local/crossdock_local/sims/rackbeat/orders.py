"""Rackbeat's orders: drafts and booked orders (`/orders`, `/orders/drafts`), editing, booking, reopening and
cancelling. Shipping and invoicing an order are in shipments.py and invoices.py; the flags they move are worked
out in fulfilment.py.

Guesses the sheet leaves open: `POST /orders` books unless told otherwise, and an order is cancelled with
`POST /orders/{number}/cancel` (the sheet shows only the `is_cancelled` flag).
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.fulfilment import (
    announce_reservations,
    find_order,
    order_shipments,
    refresh_flags,
    refuse_if_cancelled,
)
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.pricing import VAT_ZONES, order_lines, totals
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import Errors, Record
from crossdock_local.sims.rackbeat.wire import (
    body_of,
    claim_number,
    copy_refs,
    copy_text,
    integer,
    invalid,
    now,
    raise_if,
    render,
)

# Guess: `other_reference` is filterable (the sheet confirms only `number` and `ean` filters).
ORDER_FILTERS = frozenset({"number", "other_reference", "customer_id", "is_booked", "is_shipped", "is_invoiced"})
ORDER_SEARCH = ("number", "other_reference", "heading", "note")
ORDER_TEXT = ("other_reference", "heading", "note", "currency", "order_date", "deliver_at")
# Why an order can't be cancelled, in the order the reasons are checked.
CANCEL_BLOCKERS = (("is_shipped", "shipped"), ("is_partly_shipped", "partly shipped"), ("is_invoiced", "invoiced"))


def _order_customer(session: Session, body: Record, errors: Errors) -> Record | None:
    if body.get("customer_id") is None:
        errors["customer_id"] = ["The customer id field is required."]
        return None
    customer = session.account.customers.get(integer(body["customer_id"]) or 0)
    if customer is None:
        errors["customer_id"] = ["The selected customer id is invalid."]
    elif customer["is_barred"]:
        errors["customer_id"] = ["The customer is barred."]  # guess: wording
    return customer


def _order_header(session: Session, body: Record, errors: Errors) -> Record:
    """Header fields a draft body may set: texts, reference ids and address_* / delivery_address_* fields."""
    account = session.account
    out: Record = {}
    copy_text(body, ORDER_TEXT, out, errors)
    copy_text(body, [k for k in body if k.startswith(("address_", "delivery_address_"))], out, errors)
    copy_refs(
        body,
        {
            "layout_id": account.layouts,
            "employee_id": account.employees,
            "our_reference_id": account.employees,
            "payment_terms_id": account.payment_terms,
            "delivery_terms": account.delivery_terms,
        },
        out,
        errors,
    )
    if "vat_zone" in body:
        if body["vat_zone"] not in VAT_ZONES:
            errors["vat_zone"] = ["The selected vat zone is invalid."]
        out["vat_zone"] = body["vat_zone"]
    return out


def _new_order(session: Session, body: Record) -> Record:
    """Validate a draft body completely, then build the order record (not yet stored)."""
    errors: Errors = {}
    customer = _order_customer(session, body, errors)
    number = claim_number(session.account.orders, body.get("number"), errors)
    header = _order_header(session, body, errors)
    vat_zone = header.get("vat_zone") or (customer or {}).get("vat_zone") or "domestic"
    lines = order_lines(session, body.get("lines"), vat_zone if vat_zone in VAT_ZONES else "domestic", errors)
    raise_if(errors)
    assert customer is not None
    stamp = now()
    order: Record = {
        "number": number,
        "customer_id": customer["number"],
        "customer": {k: customer[k] for k in ("number", "company_name", "contact_email")},
        "currency": customer["currency"],
        "vat_zone": vat_zone,
        "layout_id": customer["layout_id"],
        "payment_terms_id": customer["payment_terms_id"],
        "employee_id": None,
        "our_reference_id": None,
        "delivery_terms": None,
        "other_reference": None,
        "heading": None,
        "note": None,
        "order_date": stamp[:10],
        "deliver_at": None,
    }
    order.update(header)
    order.update(
        lines=lines,
        **totals(lines),
        is_booked=False,
        is_shipped=False,
        is_partly_shipped=False,
        is_ready_for_shipping=False,
        is_invoiced=False,
        is_partly_invoiced=False,
        is_ready_for_invoicing=False,
        is_cancelled=False,
        booked_at=None,
        invoice_number=None,
        created_at=stamp,
        updated_at=stamp,
    )
    return order


def _store_order(session: Session, request: SimRequest, book_by_default: bool) -> SimResponse:
    body = body_of(request)
    order = _new_order(session, body)
    session.account.orders[order["number"]] = order
    session.emit("order.created", order["number"])
    # Guess: POST /orders books unless the body says "is_draft": true or "book": false.
    if book_by_default and body.get("is_draft") is not True and body.get("book") is not False:
        _book(session, order)
    return json_response(201, {"order": render(order)})


def _create_draft(session: Session, request: SimRequest) -> SimResponse:
    return _store_order(session, request, book_by_default=False)


def _create_booked_order(session: Session, request: SimRequest) -> SimResponse:
    return _store_order(session, request, book_by_default=True)


def _list_orders(session: Session, request: SimRequest) -> SimResponse:
    rows = [session.account.orders[n] for n in sorted(session.account.orders)]
    return page_response(request, "orders", rows, render, ORDER_FILTERS, ORDER_SEARCH)


def _get_order(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"order": render(find_order(session.account, number))})


def _update_order(session: Session, request: SimRequest, number: str) -> SimResponse:
    order, body = find_order(session.account, number), body_of(request)
    errors: Errors = {}
    if order["is_booked"] and "lines" in body:
        raise invalid({"lines": ["Lines of a booked order can not be edited."]})
    header = _order_header(session, body, errors)
    vat_zone = str(header.get("vat_zone") or order["vat_zone"])
    vat_zone = vat_zone if vat_zone in VAT_ZONES else "domestic"  # a bad zone is already a 422
    lines = order_lines(session, body["lines"], vat_zone, errors) if "lines" in body else order["lines"]
    raise_if(errors)
    order.update(header, lines=lines, **totals(lines), updated_at=now())
    session.emit("order.updated", order["number"])  # guess: event name
    return json_response(200, {"order": render(order)})


# ---- orders: transitions ---------------------------------------------------------------------------------------


def _book(session: Session, order: Record) -> None:
    order.update(is_booked=True, booked_at=now(), updated_at=now())
    refresh_flags(session.account, order)
    session.emit("order.booked", order["number"])
    announce_reservations(session, order)


def _book_order_route(session: Session, request: SimRequest, number: str) -> SimResponse:
    order = find_order(session.account, number)
    body_of(request)  # {"mail": {"send": false}} is accepted; no mail is simulated
    refuse_if_cancelled(order, "booked")
    if order["is_booked"]:
        raise invalid({"order": ["Order is already booked"]})
    if not order["lines"]:
        raise invalid({"lines": ["An order without lines can not be booked."]})  # guess
    _book(session, order)
    return json_response(200, {"order": render(order)})


def _reopen_order(session: Session, request: SimRequest, number: str) -> SimResponse:
    order = find_order(session.account, number)
    if not order["is_booked"]:
        raise invalid({"order": ["Order is not booked"]})
    if order["is_invoiced"] or order_shipments(session.account, order):
        # Guess: an order with shipments or an invoice can't be reopened.
        raise invalid({"order": ["Order has shipments or invoices and can not be reopened"]})
    order.update(is_booked=False, booked_at=None, updated_at=now())
    refresh_flags(session.account, order)
    announce_reservations(session, order)
    return json_response(200, {"order": render(order)})


# ---- orders: cancellation ----------------------------------------------------------------------------------------


def _cancel_order(session: Session, request: SimRequest, number: str) -> SimResponse:
    order = find_order(session.account, number)
    body_of(request)  # Guess: the body carries nothing the simulator acts on
    _refuse_cancel(order)
    held_stock = order["is_booked"]  # only a booked order reserves its lines' stock
    for shipment in order_shipments(session.account, order):
        if not shipment["is_shipped"]:  # Guess: unshipped shipments go with the order
            del session.account.shipments[shipment["id"]]
    # Guess: the order keeps is_booked as it was; is_cancelled closes it (see refuse_if_cancelled).
    order.update(is_cancelled=True, updated_at=now())
    refresh_flags(session.account, order)
    session.emit("order.cancelled", order["number"])  # Guess: event name
    if held_stock:
        # Its reservations are gone, so availability changed: announced as booking and reopening do.
        announce_reservations(session, order)
    return json_response(200, {"order": render(order)})  # Guess: 200 with the order


def _refuse_cancel(order: Record) -> None:
    if order["is_cancelled"]:
        raise invalid({"order": ["Order is already cancelled"]})
    for flag, reason in CANCEL_BLOCKERS:
        if order[flag]:
            # Guess: goods that left the warehouse or were invoiced are handled by a credit note instead.
            raise invalid({"order": [f"Order is {reason} and can not be cancelled"]})


# Literal paths before `{number}` patterns: the router takes the first match.
ROUTES: list[Route] = [
    ("GET", "/orders", _list_orders),
    ("POST", "/orders", _create_booked_order),
    ("POST", "/orders/drafts", _create_draft),
    ("GET", "/orders/{number}", _get_order),
    ("PUT", "/orders/{number}", _update_order),
    ("POST", "/orders/{number}/book", _book_order_route),
    ("POST", "/orders/{number}/reopen", _reopen_order),
    # Guess: the sheet shows only the is_cancelled flag, not how an order gets it.
    ("POST", "/orders/{number}/cancel", _cancel_order),
]
