"""Rackbeat's customer credit notes: made from a booked invoice (`POST /customer-invoices/{n}/create-creditnote`),
listed, read and booked; booking one made with `stock_return` puts its quantities back into stock.

The fact sheet only says that a credit note is made with that path and that invoices carry `stock_returned`;
everything else here is marked "Guess:".

Credit model: a credit note's lines are priced like order lines (pricing.py). Per item, what all credit notes of an
invoice credit (booked or not) may not exceed what the invoice's positive lines invoiced; the invoice lines'
`credited_quantity` shows that spread over the invoice's lines of each item in order. A stock return is a shipment in
reverse (fulfilment.draw_stock with negative quantities).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.fulfilment import draw_stock, find_invoice
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.pricing import order_line, totals
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import Errors, Record
from crossdock_local.sims.rackbeat.wire import (
    body_of,
    copy_text,
    integer,
    invalid,
    next_number,
    not_found,
    now,
    raise_if,
    render,
    truthy,
)

# Guess: which credit note fields are filterable and searched (the brief needs number, invoice_number and
# other_reference; the rest follow the invoices list).
CREDIT_NOTE_FILTERS = frozenset(
    {"number", "invoice_number", "order_number", "customer_id", "other_reference", "is_booked"}
)
CREDIT_NOTE_SEARCH = ("number", "invoice_number", "order_number", "other_reference", "heading")
# Guess: a credit line takes what its body leaves out (or sends as null) from the invoice's first line of the item,
# so a refund credits the price the customer paid and returns the stock where it was shipped from.
INVOICE_LINE_DEFAULTS = ("name", "line_price", "discount_percentage", "vat_percentage", "location_id")


def _per_item(lines: Iterable[Record]) -> dict[str, Decimal]:
    """Quantity per item number over the positive lines (negative lines are discounts or corrections)."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        if line["quantity"] > 0:
            totals[line["item_id"]] = totals.get(line["item_id"], Decimal(0)) + line["quantity"]
    return totals


def _as_sent(value: Any) -> Any:
    """A stored value as a request body would send it (the line validator reads money from numbers or text)."""
    return str(value) if isinstance(value, Decimal) else value


def _count(quantity: Decimal) -> str:
    return str(int(quantity)) if quantity == quantity.to_integral_value() else str(quantity.normalize())


# ---- credit notes: creation ------------------------------------------------------------------------------------


def _create_credit_note(session: Session, request: SimRequest, number: str) -> SimResponse:
    invoice = find_invoice(session.account, number)
    body = body_of(request)
    if not invoice["is_booked"]:
        # Guess: only a booked invoice can be credited (an unbooked one can still simply be changed).
        raise invalid({"invoice": ["The invoice must be booked before it can be credited."]})
    errors: Errors = {}
    header: Record = {}
    copy_text(body, ("other_reference", "heading"), header, errors)
    lines = _credit_lines(session, invoice, body.get("lines"), errors)
    raise_if(errors)
    # Guess: stock goes back by default (Rackbeat's form has it ticked), and the note is left unbooked by default.
    note = _new_credit_note(session, invoice, header, lines, stock_return=truthy(body.get("stock_return", True)))
    session.account.credit_notes[note["number"]] = note
    _spread_credit(session, invoice)
    session.emit("customer_credit_note.created", note["number"])  # Guess: event name
    if truthy(body.get("book", False)):
        _book(session, note)
    return json_response(201, {"customer_credit_note": render(note)})


def _credit_lines(session: Session, invoice: Record, raw_lines: Any, errors: Errors) -> list[Record]:
    """The priced lines of a new credit note, each checked against what is left to credit of its item."""
    if raw_lines is None:
        # Guess: without lines the whole invoice is credited (its positive lines as invoiced); once anything of
        # it is credited, that is refused line by line like any over-credit.
        raw_lines = [_as_body_line(line) for line in invoice["lines"] if line["quantity"] > 0]
    elif not isinstance(raw_lines, list) or not raw_lines:
        errors["lines"] = ["The lines must be a non-empty array."]  # Guess: wording
        return []
    left = _creditable(session, invoice)
    lines: list[Record] = []
    for index, raw in enumerate(raw_lines):
        filled = _with_invoice_defaults(raw, invoice)
        line = order_line(session, filled, index, invoice["vat_zone"], errors)
        if line is not None and _fits(line, index, left, errors):
            lines.append(line)
    return lines


def _as_body_line(line: Record) -> Record:
    return {key: _as_sent(line[key]) for key in ("item_id", "quantity", *INVOICE_LINE_DEFAULTS)}


def _with_invoice_defaults(raw: Any, invoice: Record) -> Any:
    if not isinstance(raw, dict) or raw.get("item_id") is None:
        return raw  # the line validator reports it
    source = next((line for line in invoice["lines"] if line["item_id"] == str(raw["item_id"])), None)
    if source is None:
        return raw  # not on the invoice: nothing is left to credit of it, which _fits reports
    return {**raw, **{k: _as_sent(source[k]) for k in INVOICE_LINE_DEFAULTS if raw.get(k) is None}}


def _creditable(session: Session, invoice: Record) -> dict[str, Decimal]:
    """Item number → quantity still open to credit on `invoice` (credit notes booked or not count)."""
    invoiced = _per_item(invoice["lines"])
    credited = _per_item(line for note in _notes_of(session, invoice) for line in note["lines"])
    return {item: quantity - credited.get(item, Decimal(0)) for item, quantity in invoiced.items()}


def _fits(line: Record, index: int, left: dict[str, Decimal], errors: Errors) -> bool:
    """Take the line's quantity off what is left of its item, or record why it can't be credited."""
    key = f"lines.{index}.quantity"
    item, quantity = line["item_id"], line["quantity"]
    remaining = left.get(item, Decimal(0))
    if quantity <= 0:
        errors[key] = ["The quantity must be greater than 0."]  # Guess: a credit line takes back, never adds
        return False
    if quantity > remaining:
        # Guess: wording; it says how many remain so a caller can credit the rest.
        errors[key] = [f"Only {_count(remaining)} of item {item} can still be credited on this invoice."]
        return False
    left[item] = remaining - quantity
    return True


def _new_credit_note(
    session: Session, invoice: Record, header: Record, lines: list[Record], *, stock_return: bool
) -> Record:
    stamp = now()
    return {
        "number": next_number(session.account.credit_notes),  # Guess: an own number series per account
        "invoice_number": invoice["number"],
        "order_number": invoice["order_number"],
        "customer_id": invoice["customer_id"],
        "customer": copy.deepcopy(invoice["customer"]),
        "currency": invoice["currency"],
        "vat_zone": invoice["vat_zone"],
        # Guess: the reference and heading are the invoice's unless the body gives its own.
        "other_reference": header.get("other_reference", invoice["other_reference"]),
        "heading": header.get("heading", invoice["heading"]),
        "lines": lines,
        **totals(lines),
        "is_booked": False,
        "booked_at": None,
        "stock_return": stock_return,
        "stock_returned": False,
        "created_at": stamp,
        "updated_at": stamp,
    }


def _notes_of(session: Session, invoice: Record) -> list[Record]:
    return [note for note in session.account.credit_notes.values() if note["invoice_number"] == invoice["number"]]


def _spread_credit(session: Session, invoice: Record) -> None:
    """Show on each invoice line how much of it is credited, filling the item's lines in order."""
    left = _per_item(line for note in _notes_of(session, invoice) for line in note["lines"])
    for line in invoice["lines"]:
        open_quantity = left.get(line["item_id"], Decimal(0))
        taken = min(line["quantity"], open_quantity) if line["quantity"] > 0 else Decimal(0)
        line["credited_quantity"] = taken
        left[line["item_id"]] = open_quantity - taken
    invoice["updated_at"] = now()


# ---- credit notes: reading and booking -------------------------------------------------------------------------


def _credit_note(session: Session, number: str) -> Record:
    note = session.account.credit_notes.get(integer(number) or 0)
    if note is None:
        raise not_found()
    return note


def _list_credit_notes(session: Session, request: SimRequest) -> SimResponse:
    notes = session.account.credit_notes
    rows = [notes[number] for number in sorted(notes)]
    # Guess: the list's plural key, following the singular `customer_credit_note`.
    return page_response(request, "customer_credit_notes", rows, render, CREDIT_NOTE_FILTERS, CREDIT_NOTE_SEARCH)


def _get_credit_note(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"customer_credit_note": render(_credit_note(session, number))})


def _book_credit_note_route(session: Session, request: SimRequest, number: str) -> SimResponse:
    note = _credit_note(session, number)
    body_of(request)  # an empty body or {} is expected; nothing in it changes the booking
    _book(session, note)
    return json_response(200, {"customer_credit_note": render(note)})  # Guess: 200 with the credit note


def _book(session: Session, note: Record) -> None:
    if note["is_booked"]:
        raise invalid({"customer_credit_note": ["Credit note is already booked"]})  # Guess: key and wording
    stamp = now()
    note.update(is_booked=True, booked_at=stamp, updated_at=stamp)
    returned = _return_stock(session, note) if note["stock_return"] else []
    session.emit("customer_credit_note.booked", note["number"])  # Guess: like customer_invoice.booked
    for item in returned:
        session.emit("product.stock_changed", item)
    _mark_invoice_stock_returned(session, session.account.invoices[note["invoice_number"]])


def _return_stock(session: Session, note: Record) -> list[str]:
    """Put the credited quantities back; returns the stock-keeping items whose stock changed.

    A return is a shipment in reverse, so it reuses the shipping code with negative quantities; items that
    keep no stock (or no longer exist) are skipped there as they are when shipping."""
    returns = [
        {"item_id": line["item_id"], "quantity": -line["quantity"], "location_id": _return_location(session, line)}
        for line in note["lines"]
    ]
    changed = draw_stock(session.account, returns)
    # Guess: the note counts as having returned its stock even when none of its items keep stock.
    note["stock_returned"] = True
    return changed


def _return_location(session: Session, line: Record) -> str | None:
    """Where returned stock goes: the line's location, else (Guess) the item's default location when that is a
    known location, else only the item's total, as an adjustment without a location does."""
    if line["location_id"] is not None:
        location: str = line["location_id"]
        return location
    product = session.account.products.get(line["item_id"]) or {}
    default = product.get("default_location")
    number = default.get("number") if isinstance(default, dict) else None
    return str(number) if number is not None and str(number) in session.account.locations else None


def _mark_invoice_stock_returned(session: Session, invoice: Record) -> None:
    """Guess: an invoice's `stock_returned` turns true once booked credit notes with stock return have taken
    back every stock-keeping quantity it invoiced (an invoice without such items never turns)."""
    if invoice["stock_returned"]:
        return
    stocked = {item: q for item, q in _per_item(invoice["lines"]).items() if _keeps_stock(session, item)}
    returned = _per_item(
        line for note in _notes_of(session, invoice) if note["stock_returned"] for line in note["lines"]
    )
    if stocked and all(returned.get(item, Decimal(0)) >= quantity for item, quantity in stocked.items()):
        invoice.update(stock_returned=True, updated_at=now())


def _keeps_stock(session: Session, item: str) -> bool:
    product = session.account.products.get(item)
    return product is not None and bool(product["inventory_enabled"])


ROUTES: list[Route] = [
    ("POST", "/customer-invoices/{number}/create-creditnote", _create_credit_note),
    # Guess: the list and item paths of credit notes, by analogy with /customer-invoices.
    ("GET", "/customer-credit-notes", _list_credit_notes),
    ("GET", "/customer-credit-notes/{number}", _get_credit_note),
    ("POST", "/customer-credit-notes/{number}/book", _book_credit_note_route),
]
