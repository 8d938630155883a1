"""The Rackbeat simulator's after-sale side: credit notes made from booked invoices (stock goes back when one is
booked), order cancellation and per-customer item prices.

`Credit` is part of `RackbeatSimulator` (`rackbeat.py`, whose docstring gives the conventions) the way
`rackbeat_stock.Inventory` is: it works on the same account state, under the same lock and account context. The
fact sheet only says that a credit note is made with `POST /customer-invoices/{n}/create-creditnote`, that invoices
carry `stock_returned`, and that orders show `is_cancelled`; everything else here is marked "Guess:".

Credit model: a credit note's lines are priced like order lines. Per item, what all credit notes of an invoice
credit (booked or not) may not exceed what the invoice's positive lines invoiced; the invoice lines'
`credited_quantity` shows that spread over the invoice's lines of each item in order. Booking a credit note made with
`stock_return` puts its quantities back into stock, the reverse of shipping them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat import (
    AccountState,
    Errors,
    Record,
    SimulatorPart,
    _body,
    _copy_text,
    _int,
    _invalid,
    _next_number,
    _not_found,
    _now,
    _page_response,
    _raise_if,
    _render,
    _truthy,
)

Handler = Callable[..., SimResponse]

# Guess: which credit note fields are filterable and searched (the brief needs number, invoice_number and
# other_reference; the rest follow the invoices list).
CREDIT_NOTE_FILTERS = frozenset(
    {"number", "invoice_number", "order_number", "customer_id", "other_reference", "is_booked"}
)
CREDIT_NOTE_SEARCH = ("number", "invoice_number", "order_number", "other_reference", "heading")
# Guess: customer prices filter on product and currency.
PRICE_FILTERS = frozenset({"product_number", "currency"})
# Guess: a credit line takes what its body leaves out (or sends as null) from the invoice's first line of the item,
# so a refund credits the price the customer paid and returns the stock where it was shipped from.
INVOICE_LINE_DEFAULTS = ("name", "line_price", "discount_percentage", "vat_percentage", "location_id")
# Why an order can't be cancelled, in the order the reasons are checked.
CANCEL_BLOCKERS = (("is_shipped", "shipped"), ("is_partly_shipped", "partly shipped"), ("is_invoiced", "invoiced"))


def _per_item(lines: Iterable[Record]) -> dict[str, Decimal]:
    """Quantity per item number over the positive lines (negative lines are discounts or corrections)."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        if line["quantity"] > 0:
            totals[line["item_id"]] = totals.get(line["item_id"], Decimal(0)) + line["quantity"]
    return totals


def _wire(value: Any) -> Any:
    """A stored value as a request body would send it (the line validator reads money from numbers or text)."""
    return str(value) if isinstance(value, Decimal) else value


def _count(quantity: Decimal) -> str:
    return str(int(quantity)) if quantity == quantity.to_integral_value() else str(quantity.normalize())


def seed_customer_price(
    account: AccountState, customer_number: int, product_number: str, sales_price: Decimal, currency: str
) -> Record:
    """Store a customer's price for a product (the caller holds the lock); KeyError if either is unknown.

    Guess: one price per customer and product, so seeding again replaces it; `min_quantity` is always 1."""
    if customer_number not in account.customers:
        raise KeyError(f"unknown customer {customer_number}")
    if product_number not in account.products:
        raise KeyError(f"unknown product {product_number}")
    row: Record = {
        "product_number": product_number,
        "sales_price": sales_price,
        "currency": currency,
        "min_quantity": 1,
    }
    account.customer_prices.setdefault(customer_number, {})[product_number] = row
    return row


class Credit(SimulatorPart):
    """Credit notes, order cancellation and customer prices of a `RackbeatSimulator`."""

    def routes(self) -> list[tuple[str, str, Handler]]:
        # Each pattern ends in a literal segment or is anchored on its own prefix, so none shadows a route of
        # rackbeat.py or rackbeat_stock.py (`/orders/{number}/cancel` cannot match `/orders/shipments/{id}`).
        return [
            ("POST", "/customer-invoices/{number}/create-creditnote", self._create_credit_note),
            # Guess: the list and item paths of credit notes, by analogy with /customer-invoices.
            ("GET", "/customer-credit-notes", self._list_credit_notes),
            ("GET", "/customer-credit-notes/{number}", self._get_credit_note),
            ("POST", "/customer-credit-notes/{number}/book", self._book_credit_note_route),
            # Guess: the sheet shows only the is_cancelled flag, not how an order gets it.
            ("POST", "/orders/{number}/cancel", self._cancel_order),
            # Guess: Rackbeat has per-customer item prices; the path and row shape are not in the sheet.
            ("GET", "/customers/{number}/product-prices", self._list_customer_prices),
        ]

    # ---- credit notes: creation ------------------------------------------------------------------------------------

    def _create_credit_note(self, request: SimRequest, number: str) -> SimResponse:
        invoice = self._sim._invoice(number)
        body = _body(request)
        if not invoice["is_booked"]:
            # Guess: only a booked invoice can be credited (an unbooked one can still simply be changed).
            raise _invalid({"invoice": ["The invoice must be booked before it can be credited."]})
        errors: Errors = {}
        header: Record = {}
        _copy_text(body, ("other_reference", "heading"), header, errors)
        lines = self._credit_lines(invoice, body.get("lines"), errors)
        _raise_if(errors)
        # Guess: stock goes back by default (Rackbeat's form has it ticked), and the note is left unbooked by default.
        note = self._new_credit_note(invoice, header, lines, stock_return=_truthy(body.get("stock_return", True)))
        self._acct.credit_notes[note["number"]] = note
        self._spread_credit(invoice)
        self._sim._emit("customer_credit_note.created", note["number"])  # Guess: event name
        if _truthy(body.get("book", False)):
            self._book(note)
        return json_response(201, {"customer_credit_note": _render(note)})

    def _credit_lines(self, invoice: Record, raw_lines: Any, errors: Errors) -> list[Record]:
        """The priced lines of a new credit note, each checked against what is left to credit of its item."""
        if raw_lines is None:
            # Guess: without lines the whole invoice is credited (its positive lines as invoiced); once anything of
            # it is credited, that is refused line by line like any over-credit.
            raw_lines = [self._as_body_line(line) for line in invoice["lines"] if line["quantity"] > 0]
        elif not isinstance(raw_lines, list) or not raw_lines:
            errors["lines"] = ["The lines must be a non-empty array."]  # Guess: wording
            return []
        left = self._creditable(invoice)
        lines: list[Record] = []
        for index, raw in enumerate(raw_lines):
            filled = self._with_invoice_defaults(raw, invoice)
            line = self._sim._order_line(filled, index, invoice["vat_zone"], errors)
            if line is not None and self._fits(line, index, left, errors):
                lines.append(line)
        return lines

    @staticmethod
    def _as_body_line(line: Record) -> Record:
        return {key: _wire(line[key]) for key in ("item_id", "quantity", *INVOICE_LINE_DEFAULTS)}

    @staticmethod
    def _with_invoice_defaults(raw: Any, invoice: Record) -> Any:
        if not isinstance(raw, dict) or raw.get("item_id") is None:
            return raw  # the line validator reports it
        source = next((line for line in invoice["lines"] if line["item_id"] == str(raw["item_id"])), None)
        if source is None:
            return raw  # not on the invoice: nothing is left to credit of it, which _fits reports
        return {**raw, **{k: _wire(source[k]) for k in INVOICE_LINE_DEFAULTS if raw.get(k) is None}}

    def _creditable(self, invoice: Record) -> dict[str, Decimal]:
        """Item number → quantity still open to credit on `invoice` (credit notes booked or not count)."""
        invoiced = _per_item(invoice["lines"])
        credited = _per_item(line for note in self._notes_of(invoice) for line in note["lines"])
        return {item: quantity - credited.get(item, Decimal(0)) for item, quantity in invoiced.items()}

    @staticmethod
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

    def _new_credit_note(self, invoice: Record, header: Record, lines: list[Record], *, stock_return: bool) -> Record:
        stamp = _now()
        return {
            "number": _next_number(self._acct.credit_notes),  # Guess: an own number series per account
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
            **self._sim._totals(lines),
            "is_booked": False,
            "booked_at": None,
            "stock_return": stock_return,
            "stock_returned": False,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _notes_of(self, invoice: Record) -> list[Record]:
        return [note for note in self._acct.credit_notes.values() if note["invoice_number"] == invoice["number"]]

    def _spread_credit(self, invoice: Record) -> None:
        """Show on each invoice line how much of it is credited, filling the item's lines in order."""
        left = _per_item(line for note in self._notes_of(invoice) for line in note["lines"])
        for line in invoice["lines"]:
            open_quantity = left.get(line["item_id"], Decimal(0))
            taken = min(line["quantity"], open_quantity) if line["quantity"] > 0 else Decimal(0)
            line["credited_quantity"] = taken
            left[line["item_id"]] = open_quantity - taken
        invoice["updated_at"] = _now()

    # ---- credit notes: reading and booking -------------------------------------------------------------------------

    def _credit_note(self, number: str) -> Record:
        note = self._acct.credit_notes.get(_int(number) or 0)
        if note is None:
            raise _not_found()
        return note

    def _list_credit_notes(self, request: SimRequest) -> SimResponse:
        notes = self._acct.credit_notes
        rows = [notes[number] for number in sorted(notes)]
        # Guess: the list's plural key, following the singular `customer_credit_note`.
        return _page_response(request, "customer_credit_notes", rows, _render, CREDIT_NOTE_FILTERS, CREDIT_NOTE_SEARCH)

    def _get_credit_note(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"customer_credit_note": _render(self._credit_note(number))})

    def _book_credit_note_route(self, request: SimRequest, number: str) -> SimResponse:
        note = self._credit_note(number)
        _body(request)  # an empty body or {} is expected; nothing in it changes the booking
        self._book(note)
        return json_response(200, {"customer_credit_note": _render(note)})  # Guess: 200 with the credit note

    def _book(self, note: Record) -> None:
        if note["is_booked"]:
            raise _invalid({"customer_credit_note": ["Credit note is already booked"]})  # Guess: key and wording
        stamp = _now()
        note.update(is_booked=True, booked_at=stamp, updated_at=stamp)
        returned = self._return_stock(note) if note["stock_return"] else []
        self._sim._emit("customer_credit_note.booked", note["number"])  # Guess: like customer_invoice.booked
        for item in returned:
            self._sim._emit("product.stock_changed", item)
        self._mark_invoice_stock_returned(self._acct.invoices[note["invoice_number"]])

    def _return_stock(self, note: Record) -> list[str]:
        """Put the credited quantities back; returns the stock-keeping items whose stock changed.

        A return is a shipment in reverse, so it reuses the shipping code with negative quantities; items that
        keep no stock (or no longer exist) are skipped there as they are when shipping."""
        returns = [
            {"item_id": line["item_id"], "quantity": -line["quantity"], "location_id": self._return_location(line)}
            for line in note["lines"]
        ]
        changed = self._sim._draw_stock(returns)
        # Guess: the note counts as having returned its stock even when none of its items keep stock.
        note["stock_returned"] = True
        return changed

    def _return_location(self, line: Record) -> str | None:
        """Where returned stock goes: the line's location, else (Guess) the item's default location when that is a
        known location, else only the item's total, as an adjustment without a location does."""
        if line["location_id"] is not None:
            location: str = line["location_id"]
            return location
        product = self._acct.products.get(line["item_id"]) or {}
        default = product.get("default_location")
        number = default.get("number") if isinstance(default, dict) else None
        return str(number) if number is not None and str(number) in self._acct.locations else None

    def _mark_invoice_stock_returned(self, invoice: Record) -> None:
        """Guess: an invoice's `stock_returned` turns true once booked credit notes with stock return have taken
        back every stock-keeping quantity it invoiced (an invoice without such items never turns)."""
        if invoice["stock_returned"]:
            return
        stocked = {item: q for item, q in _per_item(invoice["lines"]).items() if self._keeps_stock(item)}
        returned = _per_item(
            line for note in self._notes_of(invoice) if note["stock_returned"] for line in note["lines"]
        )
        if stocked and all(returned.get(item, Decimal(0)) >= quantity for item, quantity in stocked.items()):
            invoice.update(stock_returned=True, updated_at=_now())

    def _keeps_stock(self, item: str) -> bool:
        product = self._acct.products.get(item)
        return product is not None and bool(product["inventory_enabled"])

    # ---- order cancellation ----------------------------------------------------------------------------------------

    def _cancel_order(self, request: SimRequest, number: str) -> SimResponse:
        order = self._sim._order(number)
        _body(request)  # Guess: the body carries nothing the simulator acts on
        self._refuse_cancel(order)
        held_stock = order["is_booked"]  # only a booked order reserves its lines' stock
        for shipment in self._sim._order_shipments(order):
            if not shipment["is_shipped"]:  # Guess: unshipped shipments go with the order
                del self._acct.shipments[shipment["id"]]
        # Guess: the order keeps is_booked as it was; is_cancelled closes it (see _refuse_if_cancelled).
        order.update(is_cancelled=True, updated_at=_now())
        self._sim._refresh_flags(order)
        self._sim._emit("order.cancelled", order["number"])  # Guess: event name
        if held_stock:
            # Its reservations are gone, so availability changed: announced as booking and reopening do.
            self._sim._announce_reservations(order)
        return json_response(200, {"order": _render(order)})  # Guess: 200 with the order

    @staticmethod
    def _refuse_cancel(order: Record) -> None:
        if order["is_cancelled"]:
            raise _invalid({"order": ["Order is already cancelled"]})
        for flag, reason in CANCEL_BLOCKERS:
            if order[flag]:
                # Guess: goods that left the warehouse or were invoiced are handled by a credit note instead.
                raise _invalid({"order": [f"Order is {reason} and can not be cancelled"]})

    # ---- customer prices -------------------------------------------------------------------------------------------

    def _list_customer_prices(self, request: SimRequest, number: str) -> SimResponse:
        customer = self._sim._customer(number)
        prices = self._acct.customer_prices.get(customer["number"], {})
        rows = [prices[product] for product in sorted(prices)]
        return _page_response(request, "product_prices", rows, _render, PRICE_FILTERS, ("product_number",))
