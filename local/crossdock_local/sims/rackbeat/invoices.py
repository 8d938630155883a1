"""Rackbeat's customer invoices: an order converted to an invoice (`POST /orders/{number}/convert-to-invoice`,
answered `{"invoice_id": n}`), listed, read and booked (`customer_invoice.booked`). Crediting one is in
credit_notes.py."""

from __future__ import annotations

import copy
from decimal import Decimal

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.fulfilment import find_invoice, find_order, refresh_flags, refuse_if_cancelled
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.wire import invalid, next_number, now, render, truthy

# Guess: `order_number` is filterable (the sheet confirms only `number` and `ean` filters).
INVOICE_FILTERS = frozenset({"number", "order_number", "customer_id", "other_reference", "is_booked"})
INVOICE_SEARCH = ("number", "order_number", "other_reference", "heading")


def _convert_to_invoice(session: Session, request: SimRequest, number: str) -> SimResponse:
    order = find_order(session.account, number)
    refuse_if_cancelled(order, "invoiced")
    if order["is_invoiced"]:
        raise invalid({"order": ["Order is already invoiced"]})
    if not order["is_booked"]:
        raise invalid({"order": ["Order must be booked before it can be invoiced"]})  # guess
    book = truthy(request.arg("book", "false"))  # guess: default is not to book
    invoice_number = next_number(session.account.invoices)
    stamp = now()
    invoice = {
        "number": invoice_number,
        "order_number": order["number"],
        "customer_id": order["customer_id"],
        "customer": copy.deepcopy(order["customer"]),
        "currency": order["currency"],
        "vat_zone": order["vat_zone"],
        "other_reference": order["other_reference"],
        "heading": order["heading"],
        "note": order["note"],
        # Guess: each invoice line counts how much of it credit notes took back (see credit_notes.py).
        "lines": [{**line, "credited_quantity": Decimal(0)} for line in copy.deepcopy(order["lines"])],
        "total_excl_vat": order["total_excl_vat"],
        "total_vat": order["total_vat"],
        "total": order["total"],
        "is_booked": book,
        "booked_at": stamp if book else None,
        "stock_returned": False,
        "invoice_date": stamp[:10],
        "created_at": stamp,
        "updated_at": stamp,
    }
    session.account.invoices[invoice_number] = invoice
    order.update(is_invoiced=True, invoice_number=invoice_number, updated_at=stamp)
    refresh_flags(session.account, order)
    if book:
        session.emit("customer_invoice.booked", invoice_number)
    return json_response(201, {"invoice_id": invoice_number})


def _list_invoices(session: Session, request: SimRequest) -> SimResponse:
    rows = [session.account.invoices[n] for n in sorted(session.account.invoices)]
    return page_response(request, "customer_invoices", rows, render, INVOICE_FILTERS, INVOICE_SEARCH)


def _get_invoice(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"customer_invoice": render(find_invoice(session.account, number))})


def _book_invoice(session: Session, request: SimRequest, number: str) -> SimResponse:
    invoice = find_invoice(session.account, number)
    if invoice["is_booked"]:
        raise invalid({"customer_invoice": ["Invoice is already booked"]})
    invoice.update(is_booked=True, booked_at=now(), updated_at=now())
    session.emit("customer_invoice.booked", invoice["number"])
    return json_response(200, {"customer_invoice": render(invoice)})


ROUTES: list[Route] = [
    ("POST", "/orders/{number}/convert-to-invoice", _convert_to_invoice),
    ("GET", "/customer-invoices", _list_invoices),
    ("GET", "/customer-invoices/{number}", _get_invoice),
    ("POST", "/customer-invoices/{number}/book", _book_invoice),
]
