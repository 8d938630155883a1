"""Rackbeat's customers (`/customers`) and their own item prices (`/customers/{number}/product-prices`).

Omitting `number` on create assigns the next free number (the fact sheet's guess, which the simulator follows).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.pricing import VAT_ZONES
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Errors, Record
from crossdock_local.sims.rackbeat.wire import (
    body_of,
    claim_number,
    copy_refs,
    copy_text,
    integer,
    not_found,
    now,
    raise_if,
    render,
    truthy,
)

# Guess: `contact_email` is filterable (the sheet confirms only `number` and `ean`).
CUSTOMER_FILTERS = frozenset({"number", "contact_email", "ean", "company_name", "customer_group_id", "is_barred"})
CUSTOMER_SEARCH = ("number", "company_name", "contact_email", "contact_phone", "ean")
CUSTOMER_TEXT = ("company_name", "contact_email", "contact_phone", "currency", "locale", "ean")
ADDRESS_TYPES = ("invoice", "delivery")
ADDRESS_PARTS = ("name", "street", "zipcode", "city", "country")
# Guess: customer prices filter on product and currency.
PRICE_FILTERS = frozenset({"product_number", "currency"})


def new_customer(number: int) -> Record:
    stamp = now()
    # Guess: defaults for a Danish company (DKK, da, domestic).
    return {
        "number": number,
        "company_name": "",
        "contact_email": None,
        "contact_phone": None,
        "currency": "DKK",
        "locale": "da",
        "vat_zone": "domestic",
        "customer_group_id": None,
        "layout_id": None,
        "payment_terms_id": None,
        "ean": None,
        "is_barred": False,
        "addresses": [],
        "created_at": stamp,
        "updated_at": stamp,
    }


def customer_fields(account: AccountState, body: Record, creating: bool) -> Record:
    errors: Errors = {}
    out: Record = {}
    if creating and not (isinstance(body.get("company_name"), str) and body["company_name"].strip()):
        errors["company_name"] = ["The company name field is required."]
    copy_text(body, CUSTOMER_TEXT, out, errors)
    copy_refs(
        body,
        {
            "customer_group_id": account.customer_groups,
            "layout_id": account.layouts,
            "payment_terms_id": account.payment_terms,
        },
        out,
        errors,
    )
    email = out.get("contact_email")
    if email and "@" not in email:
        errors["contact_email"] = ["The contact email must be a valid email address."]
    if "vat_zone" in body:
        if body["vat_zone"] not in VAT_ZONES:
            errors["vat_zone"] = ["The selected vat zone is invalid."]
        out["vat_zone"] = body["vat_zone"]
    if "is_barred" in body:
        out["is_barred"] = truthy(body["is_barred"])
    if "addresses" in body:
        _check_addresses(body["addresses"], errors)
        out["addresses"] = copy.deepcopy(body["addresses"])
    raise_if(errors)
    return out


def _check_addresses(addresses: Any, errors: Errors) -> None:
    """Guess: an entry is `{type: invoice|delivery, name, street, zipcode, city, country}`, each part text or null."""
    if not isinstance(addresses, list):
        errors["addresses"] = ["The addresses must be an array."]
        return
    for index, entry in enumerate(addresses):
        if not isinstance(entry, dict):
            errors[f"addresses.{index}"] = ["The address must be an object."]
            continue
        if entry.get("type") not in ADDRESS_TYPES:
            errors[f"addresses.{index}.type"] = ["The selected type is invalid."]
        for part in ADDRESS_PARTS:
            if entry.get(part) is not None and not isinstance(entry[part], str):
                errors[f"addresses.{index}.{part}"] = [f"The {part} must be a string."]


def find_customer(account: AccountState, number: str) -> Record:
    customer = account.customers.get(integer(number) or 0)
    if customer is None:
        raise not_found()
    return customer


def _list_customers(session: Session, request: SimRequest) -> SimResponse:
    rows = [session.account.customers[n] for n in sorted(session.account.customers)]
    return page_response(request, "customers", rows, render, CUSTOMER_FILTERS, CUSTOMER_SEARCH)


def _create_customer(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    errors: Errors = {}
    number = claim_number(session.account.customers, body.get("number"), errors)
    raise_if(errors)
    fields = customer_fields(session.account, body, creating=True)
    customer = new_customer(number)
    customer.update(fields)
    session.account.customers[number] = customer
    session.emit("customer.created", number)
    return json_response(201, {"customer": render(customer)})


def _get_customer(session: Session, request: SimRequest, number: str) -> SimResponse:
    return json_response(200, {"customer": render(find_customer(session.account, number))})


def _update_customer(session: Session, request: SimRequest, number: str) -> SimResponse:
    customer = find_customer(session.account, number)
    customer.update(customer_fields(session.account, body_of(request), creating=False), updated_at=now())
    session.emit("customer.updated", customer["number"])  # guess: event name by analogy with product.updated
    return json_response(200, {"customer": render(customer)})


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


def _list_customer_prices(session: Session, request: SimRequest, number: str) -> SimResponse:
    customer = find_customer(session.account, number)
    prices = session.account.customer_prices.get(customer["number"], {})
    rows = [prices[product] for product in sorted(prices)]
    return page_response(request, "product_prices", rows, render, PRICE_FILTERS, ("product_number",))


ROUTES: list[Route] = [
    ("GET", "/customers", _list_customers),
    ("POST", "/customers", _create_customer),
    ("GET", "/customers/{number}", _get_customer),
    ("PUT", "/customers/{number}", _update_customer),
    # Guess: Rackbeat has per-customer item prices; the path and row shape are not in the sheet.
    ("GET", "/customers/{number}/product-prices", _list_customer_prices),
]
