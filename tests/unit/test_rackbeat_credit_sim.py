"""The Rackbeat simulator's credit notes, order cancellation and customer prices (`rackbeat_credit.py`), plus the
order-creation refusals other code relies on, seen through a real httpx client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from rackbeat_api import product, rackbeat_client, sent, subscribe

from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "key-credit"
MUG_LINE = {"item_id": "MUG", "quantity": 2, "line_price": "99.50", "vat_percentage": 25, "location_id": "L1"}
TEA_LINE = {"item_id": "TEA", "quantity": 3, "line_price": 10, "discount_percentage": "10", "vat_percentage": 25}


@pytest.fixture
def sim() -> RackbeatSimulator:
    """Two locations; MUG stocked at L1, TEA stocked in total with L2 as its default location, SVC without stock."""
    sim = RackbeatSimulator()
    account = sim.add_account(KEY)
    sim.seed_location(account, "L1", "Main warehouse")
    sim.seed_location(account, "L2", "Returns shelf")
    sim.seed_product(account, "MUG", "Blue mug", "99.50", location_stock={"L1": 10})
    sim.seed_product(account, "TEA", "Green tea", 40, stock_quantity=20, default_location={"number": "L2"})
    sim.seed_product(account, "SVC", "Gift wrapping", 15, inventory_enabled=False)
    sim.seed_customer(account, 1, "Kaffe ApS")
    sim.seed_customer(account, 2, "Te ApS")
    return sim


@pytest.fixture
def api(sim: RackbeatSimulator) -> httpx.Client:
    return rackbeat_client(sim, KEY)


def stock_at(api: httpx.Client, number: str, location: str) -> Any:
    rows = api.get(f"products/{number}/locations").json()["product_locations"]
    return next((row["stock_quantity"] for row in rows if row["number"] == location), 0)


def invoice_shipped_order(api: httpx.Client, *lines: dict[str, Any], book_invoice: bool = True) -> int:
    """Book an order (MUG x2 at L1 and TEA x3 unless told otherwise), ship all of it and invoice it."""
    body = {"customer_id": 1, "other_reference": "shop-1001", "lines": list(lines) or [MUG_LINE, TEA_LINE]}
    number = api.post("orders", json=body).json()["order"]["number"]
    shipment = api.post(f"orders/{number}/create-shipment").json()["order_shipment"]
    assert api.post(f"orders/shipments/{shipment['id']}/mark-shipped").status_code == 200
    converted = api.post(f"orders/{number}/convert-to-invoice", params={"book": str(book_invoice).lower()})
    invoice_number: int = converted.json()["invoice_id"]
    return invoice_number


def credit(api: httpx.Client, invoice: int, body: dict[str, Any] | None = None, **params: str) -> httpx.Response:
    return api.post(f"customer-invoices/{invoice}/create-creditnote", json=body or {}, params=params)


def invoice_lines(api: httpx.Client, invoice: int) -> list[tuple[str, Any, Any]]:
    lines = api.get(f"customer-invoices/{invoice}").json()["customer_invoice"]["lines"]
    return [(line["item_id"], line["quantity"], line["credited_quantity"]) for line in lines]


# --- credit notes: creating --------------------------------------------------------------------------------------


def test_credit_note_without_lines_credits_the_whole_invoice(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN a booked invoice for 2 MUG and 3 TEA (226.00 + 56.50 VAT)
    invoice = invoice_shipped_order(api)
    # WHEN a credit note is made from it without lines
    response = credit(api, invoice)
    # THEN it credits every line at the invoiced price, unbooked, with stock return asked for
    assert response.status_code == 201
    note = response.json()["customer_credit_note"]
    assert (note["number"], note["invoice_number"], note["order_number"], note["customer_id"]) == (1, invoice, 1, 1)
    assert (note["total_excl_vat"], note["total_vat"], note["total"]) == ("226.00", "56.50", "282.50")
    assert [(line["item_id"], line["quantity"], line["location_id"]) for line in note["lines"]] == [
        ("MUG", 2, "L1"),
        ("TEA", 3, None),
    ]
    assert (note["currency"], note["vat_zone"], note["other_reference"]) == ("DKK", "domestic", "shop-1001")
    assert (note["is_booked"], note["booked_at"], note["stock_return"], note["stock_returned"]) == (
        False,
        None,
        True,
        False,
    )
    # AND the invoice shows everything as credited; the note reads back the same by API and from Python
    assert invoice_lines(api, invoice) == [("MUG", 2, 2), ("TEA", 3, 3)]
    assert api.get("customer-credit-notes/1").json() == {"customer_credit_note": note}
    assert sim.credit_notes(1) == [note]


def test_partial_credit_note_takes_prices_from_the_invoice(api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    # WHEN one MUG is credited, giving only item and quantity
    body = {"lines": [{"item_id": "MUG", "quantity": 1}], "other_reference": "refund-7", "heading": "Broken"}
    note = credit(api, invoice, body).json()["customer_credit_note"]
    # THEN it is priced as invoiced (99.50 + 25 % VAT, rounded half-up) and keeps its own reference and heading
    assert (note["total_excl_vat"], note["total_vat"], note["total"]) == ("99.50", "24.88", "124.38")
    assert note["lines"][0]["location_id"] == "L1" and note["lines"][0]["name"] == "Blue mug"
    assert (note["other_reference"], note["heading"]) == ("refund-7", "Broken")
    assert invoice_lines(api, invoice) == [("MUG", 2, 1), ("TEA", 3, 0)]


def test_credit_notes_may_not_credit_more_than_was_invoiced(sim: RackbeatSimulator, api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    # GIVEN two partial credit notes: 1 MUG, then 2 TEA
    assert credit(api, invoice, {"lines": [{"item_id": "MUG", "quantity": 1}]}).status_code == 201
    assert credit(api, invoice, {"lines": [{"item_id": "TEA", "quantity": 2}]}).status_code == 201
    # WHEN a third asks for 1 MUG (fits) and 2 TEA (only 1 left)
    lines = [{"item_id": "MUG", "quantity": 1}, {"item_id": "TEA", "quantity": 2}]
    response = credit(api, invoice, {"lines": lines})
    # THEN it is refused naming the line and how many remain, and nothing is stored
    assert response.status_code == 422
    message = "Only 1 of item TEA can still be credited on this invoice."
    assert response.json() == {"errors": {"lines.1.quantity": [message]}}
    assert len(sim.credit_notes(1)) == 2
    assert invoice_lines(api, invoice) == [("MUG", 2, 1), ("TEA", 3, 2)]
    # AND crediting the whole invoice again is refused too, while the exact rest still fits
    assert credit(api, invoice).status_code == 422
    rest = [{"item_id": "MUG", "quantity": 1}, {"item_id": "TEA", "quantity": 1}]
    assert credit(api, invoice, {"lines": rest}).status_code == 201
    assert invoice_lines(api, invoice) == [("MUG", 2, 2), ("TEA", 3, 3)]


def test_credit_lines_are_validated_like_order_lines(api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    lines = [
        {"item_id": "GHOST", "quantity": 1},  # unknown item
        {"item_id": "SVC", "quantity": 1},  # known, but not on the invoice
        {"item_id": "MUG", "quantity": 0},
        {"item_id": "TEA", "quantity": 1, "location_id": "NOWHERE"},
    ]
    errors = credit(api, invoice, {"lines": lines}).json()["errors"]
    assert errors["lines.0.item_id"] == ["Product needed"]
    assert errors["lines.1.quantity"] == ["Only 0 of item SVC can still be credited on this invoice."]
    assert errors["lines.2.quantity"] == ["The quantity must be greater than 0."]
    assert "lines.3.location_id" in errors
    assert credit(api, invoice, {"lines": []}).json() == {"errors": {"lines": ["The lines must be a non-empty array."]}}


def test_unbooked_invoice_can_not_be_credited(sim: RackbeatSimulator, api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api, book_invoice=False)
    response = credit(api, invoice)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["invoice"] and "booked" in response.json()["errors"]["invoice"][0]
    assert sim.credit_notes(1) == []
    assert credit(api, 404).status_code == 404


# --- credit notes: booking and stock --------------------------------------------------------------------------------


def test_booking_returns_stock_where_it_belongs_and_announces_it(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN a shipped invoice for MUG (from L1), TEA (no location; default L2) and SVC (keeps no stock)
    invoice = invoice_shipped_order(api, MUG_LINE, TEA_LINE, {"item_id": "SVC", "quantity": 1})
    assert (stock_at(api, "MUG", "L1"), product(api, "TEA")["stock_quantity"]) == (8, 17)
    credit(api, invoice)
    subscribe(api, "product.stock_changed", "customer_credit_note.booked")
    # WHEN the credit note is booked
    response = api.post("customer-credit-notes/1/book")
    # THEN MUG is back at L1, TEA lands at its default location, and each stocked item is announced once
    assert response.status_code == 200
    note = response.json()["customer_credit_note"]
    assert note["is_booked"] is True and note["booked_at"] and note["stock_returned"] is True
    assert (stock_at(api, "MUG", "L1"), product(api, "MUG")["stock_quantity"]) == (10, 10)
    assert (stock_at(api, "TEA", "L2"), product(api, "TEA")["stock_quantity"]) == (3, 20)
    assert sent(sim) == [
        ("customer_credit_note.booked", "1"),
        ("product.stock_changed", "MUG"),
        ("product.stock_changed", "TEA"),
    ]
    # AND the invoice has had all of its stock returned
    assert api.get(f"customer-invoices/{invoice}").json()["customer_invoice"]["stock_returned"] is True


def test_invoice_stock_returned_waits_for_every_stocked_quantity(api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    credit(api, invoice, {"lines": [{"item_id": "MUG", "quantity": 2}], "book": True})
    assert api.get(f"customer-invoices/{invoice}").json()["customer_invoice"]["stock_returned"] is False
    credit(api, invoice, {"lines": [{"item_id": "TEA", "quantity": 3}], "book": True})
    assert api.get(f"customer-invoices/{invoice}").json()["customer_invoice"]["stock_returned"] is True


def test_suppressed_booking_returns_stock_silently(sim: RackbeatSimulator, api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    credit(api, invoice, {"lines": [{"item_id": "MUG", "quantity": 1}]})
    subscribe(api, "product.stock_changed", "customer_credit_note.booked")
    assert api.post("customer-credit-notes/1/book", params={"suppress_webhooks": "true"}).status_code == 200
    assert sent(sim) == []
    assert stock_at(api, "MUG", "L1") == 9


def test_booking_twice_is_refused(api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    credit(api, invoice)
    assert api.post("customer-credit-notes/1/book").status_code == 200
    again = api.post("customer-credit-notes/1/book")
    assert again.status_code == 422
    assert again.json() == {"errors": {"customer_credit_note": ["Credit note is already booked"]}}
    assert stock_at(api, "MUG", "L1") == 10  # returned once only
    assert api.post("customer-credit-notes/99/book").status_code == 404


def test_book_on_create_books_in_the_same_call(sim: RackbeatSimulator, api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    subscribe(api, "customer_credit_note.created", "customer_credit_note.booked", "product.stock_changed")
    response = credit(api, invoice, {"lines": [{"item_id": "MUG", "quantity": 2}], "book": True})
    assert response.status_code == 201
    note = response.json()["customer_credit_note"]
    assert (note["is_booked"], note["stock_returned"]) == (True, True)
    assert stock_at(api, "MUG", "L1") == 10
    assert sent(sim) == [
        ("customer_credit_note.created", "1"),
        ("customer_credit_note.booked", "1"),
        ("product.stock_changed", "MUG"),
    ]


def test_credit_without_stock_return_leaves_stock_alone(sim: RackbeatSimulator, api: httpx.Client) -> None:
    invoice = invoice_shipped_order(api)
    subscribe(api, "product.stock_changed")
    note = credit(api, invoice, {"stock_return": False, "book": True}).json()["customer_credit_note"]
    assert (note["is_booked"], note["stock_return"], note["stock_returned"]) == (True, False, False)
    assert stock_at(api, "MUG", "L1") == 8
    assert sent(sim) == []
    assert api.get(f"customer-invoices/{invoice}").json()["customer_invoice"]["stock_returned"] is False


def test_credit_notes_list_filters_and_searches(api: httpx.Client) -> None:
    first = invoice_shipped_order(api)
    second = invoice_shipped_order(api)
    credit(api, first, {"lines": [{"item_id": "MUG", "quantity": 1}], "other_reference": "refund-1"})
    credit(api, second, {"lines": [{"item_id": "MUG", "quantity": 1}], "other_reference": "refund-2"})
    listed = api.get("customer-credit-notes")
    assert listed.status_code == 206
    assert {k: listed.json()[k] for k in ("total", "pages", "limit", "page")} == {
        "total": 2,
        "pages": 1,
        "limit": 20,
        "page": 1,
    }

    def numbers(**params: str) -> list[int]:
        return [n["number"] for n in api.get("customer-credit-notes", params=params).json()["customer_credit_notes"]]

    assert numbers(**{"simple_filter[other_reference]": "refund-2"}) == [2]
    assert numbers(**{"simple_filter[invoice_number]": str(first)}) == [1]
    assert numbers(**{"simple_filter[number]": "1"}) == [1]
    assert numbers(search="REFUND") == [1, 2]
    assert api.get("customer-credit-notes", params={"simple_filter[total]": "1"}).status_code == 422
    assert api.get("customer-credit-notes/3").status_code == 404


# --- order cancellation --------------------------------------------------------------------------------------------


def test_cancel_a_draft(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "order.cancelled", "product.stock_changed")
    api.post("orders/drafts", json={"customer_id": 1, "lines": [MUG_LINE]})
    response = api.post("orders/1/cancel")
    assert response.status_code == 200
    order = response.json()["order"]
    assert (order["is_cancelled"], order["is_booked"], order["is_ready_for_shipping"]) == (True, False, False)
    assert sent(sim) == [("order.cancelled", "1")]  # a draft reserved nothing
    assert api.get("orders/1").json()["order"]["is_cancelled"] is True


def test_cancel_a_booked_order_releases_its_reservation(sim: RackbeatSimulator, api: httpx.Client) -> None:
    api.post("orders", json={"customer_id": 1, "lines": [MUG_LINE, {"item_id": "SVC", "quantity": 1}]})
    assert product(api, "MUG")["available_quantity"] == 8
    subscribe(api, "order.cancelled", "product.stock_changed")
    response = api.post("orders/1/cancel")
    assert response.status_code == 200
    order = response.json()["order"]
    assert (order["is_cancelled"], order["is_ready_for_shipping"], order["is_ready_for_invoicing"]) == (
        True,
        False,
        False,
    )
    mug = product(api, "MUG")
    assert (mug["stock_quantity"], mug["in_order_quantity"], mug["available_quantity"]) == (10, 0, 10)
    assert sent(sim) == [("order.cancelled", "1"), ("product.stock_changed", "MUG")]


def test_cancel_removes_unshipped_shipments(sim: RackbeatSimulator, api: httpx.Client) -> None:
    api.post("orders", json={"customer_id": 1, "lines": [MUG_LINE]})
    shipment_id = api.post("orders/1/create-shipment").json()["order_shipment"]["id"]
    assert api.post("orders/1/cancel").status_code == 200
    assert api.get("orders/1/shipments").json()["order_shipments"] == []
    assert api.get(f"orders/shipments/{shipment_id}").status_code == 404
    assert product(api, "MUG")["available_quantity"] == 10
    assert stock_at(api, "MUG", "L1") == 10  # nothing was drawn


@pytest.mark.parametrize(
    ("ship", "invoice", "reason"),
    [("all", False, "shipped"), ("one", False, "partly shipped"), ("none", True, "invoiced")],
)
def test_shipped_or_invoiced_orders_can_not_be_cancelled(
    sim: RackbeatSimulator, api: httpx.Client, ship: str, invoice: bool, reason: str
) -> None:
    api.post("orders", json={"customer_id": 1, "lines": [MUG_LINE]})
    if ship != "none":
        line_id = api.get("orders/1").json()["order"]["lines"][0]["id"]
        body = {"lines": [{"line_id": line_id, "quantity": 2 if ship == "all" else 1}]}
        shipment_id = api.post("orders/1/create-shipment", json=body).json()["order_shipment"]["id"]
        api.post(f"orders/shipments/{shipment_id}/mark-shipped")
    if invoice:
        api.post("orders/1/convert-to-invoice")
    response = api.post("orders/1/cancel")
    assert response.status_code == 422
    assert response.json() == {"errors": {"order": [f"Order is {reason} and can not be cancelled"]}}
    assert sim.state(1).orders[1]["is_cancelled"] is False


def test_cancel_twice_is_refused(api: httpx.Client) -> None:
    api.post("orders", json={"customer_id": 1, "lines": [MUG_LINE]})
    assert api.post("orders/1/cancel").status_code == 200
    again = api.post("orders/1/cancel")
    assert again.status_code == 422
    assert again.json() == {"errors": {"order": ["Order is already cancelled"]}}
    assert api.post("orders/99/cancel").status_code == 404


def test_cancelled_orders_can_not_be_booked_shipped_or_invoiced(api: httpx.Client) -> None:
    api.post("orders/drafts", json={"customer_id": 1, "lines": [MUG_LINE]})
    api.post("orders", json={"customer_id": 1, "lines": [MUG_LINE]})
    api.post("orders/1/cancel")
    api.post("orders/2/cancel")
    booked = api.post("orders/1/book")
    assert booked.status_code == 422
    assert booked.json() == {"errors": {"order": ["Order is cancelled and can not be booked"]}}
    assert api.post("orders/2/create-shipment").json() == {
        "errors": {"order": ["Order is cancelled and can not be shipped"]}
    }
    assert api.post("orders/2/convert-to-invoice").json() == {
        "errors": {"order": ["Order is cancelled and can not be invoiced"]}
    }
    assert product(api, "MUG")["available_quantity"] == 10


# --- customer prices ---------------------------------------------------------------------------------------------


def test_customer_prices_list_and_filter(sim: RackbeatSimulator, api: httpx.Client) -> None:
    sim.seed_customer_price(1, 1, "TEA", "35.5")
    sim.seed_customer_price(1, 1, "MUG", 80, currency="EUR")
    sim.seed_customer_price(1, 2, "MUG", "70.00")
    response = api.get("customers/1/product-prices")
    assert response.status_code == 206
    assert response.json() == {
        "product_prices": [
            {"product_number": "MUG", "sales_price": "80.00", "currency": "EUR", "min_quantity": 1},
            {"product_number": "TEA", "sales_price": "35.50", "currency": "DKK", "min_quantity": 1},
        ],
        "total": 2,
        "pages": 1,
        "limit": 20,
        "page": 1,
    }
    filtered = api.get("customers/1/product-prices", params={"simple_filter[product_number]": "TEA", "limit": 1})
    assert [row["sales_price"] for row in filtered.json()["product_prices"]] == ["35.50"]
    paged = api.get("customers/1/product-prices", params={"limit": 1, "page": 2}).json()
    assert [row["product_number"] for row in paged["product_prices"]] == ["TEA"] and paged["pages"] == 2


def test_customer_prices_of_unknown_or_priceless_customers(sim: RackbeatSimulator, api: httpx.Client) -> None:
    assert api.get("customers/404/product-prices").status_code == 404
    assert api.get("customers/2/product-prices").json()["product_prices"] == []
    with pytest.raises(KeyError):
        sim.seed_customer_price(1, 1, "GHOST", 1)
    with pytest.raises(KeyError):
        sim.seed_customer_price(1, 404, "MUG", 1)


def test_seeding_a_customer_price_again_replaces_it(sim: RackbeatSimulator, api: httpx.Client) -> None:
    sim.seed_customer_price(1, 1, "MUG", 80)
    row = sim.seed_customer_price(1, 1, "MUG", "75.25")
    assert row["sales_price"] == Decimal("75.25")
    assert [r["sales_price"] for r in api.get("customers/1/product-prices").json()["product_prices"]] == ["75.25"]


# --- order creation refusals other code relies on ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["orders/drafts", "orders"])
def test_taken_order_number_is_422_and_changes_nothing(sim: RackbeatSimulator, api: httpx.Client, path: str) -> None:
    first = {"customer_id": 1, "number": 5, "other_reference": "first"}
    assert api.post("orders/drafts", json=first).status_code == 201
    subscribe(api, "order.created", "order.booked", "product.stock_changed")
    body = {"customer_id": 2, "number": 5, "other_reference": "second", "lines": [MUG_LINE]}
    response = api.post(path, json=body)
    assert response.status_code == 422
    assert response.json() == {"errors": {"number": ["The number has already been taken."]}}
    assert list(sim.state(1).orders) == [5]
    order = api.get("orders/5").json()["order"]
    assert (order["customer_id"], order["other_reference"], order["lines"]) == (1, "first", [])
    assert sent(sim) == []
    assert product(api, "MUG")["available_quantity"] == 10


@pytest.mark.parametrize("path", ["orders/drafts", "orders"])
def test_unknown_item_names_the_line(sim: RackbeatSimulator, api: httpx.Client, path: str) -> None:
    response = api.post(path, json={"customer_id": 1, "lines": [MUG_LINE, {"item_id": "GHOST", "quantity": 1}]})
    assert response.status_code == 422
    assert response.json() == {"errors": {"lines.1.item_id": ["Product needed"]}}
    assert sim.state(1).orders == {}
