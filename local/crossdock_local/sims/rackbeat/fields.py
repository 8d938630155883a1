"""Rackbeat's custom fields: their definitions (`/fields?for=item|customer`) and an item's values
(`/products/{number}/fields`). Filtering item lists on a value (`field_eq[<field id>]`) is in catalogue.py."""

from __future__ import annotations

import re
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.catalogue import find_product, plain, unset_value
from crossdock_local.sims.rackbeat.paging import page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, Record
from crossdock_local.sims.rackbeat.wire import body_of, decimal, integer, invalid, not_found, now, render

FIELD_FILTERS = frozenset({"id", "name", "type"})
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHECKBOX_TEXT = {"1": True, "true": True, "0": False, "false": False}


def _field_value(field: Record, value: Any) -> Any:
    """The value to store for `field`, checked against its type; raises a 422 on `value` otherwise.

    Guess: the value rules per type (checkbox true/false or 1/0, number, date `YYYY-MM-DD`, text a string; other
    types take any scalar); null clears the value."""
    kind = field["type"]
    if value is None:
        return unset_value(field)
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | str) and str(value).strip().lower() in CHECKBOX_TEXT:
            return CHECKBOX_TEXT[str(value).strip().lower()]
        raise invalid({"value": ["The value must be true or false."]})
    if kind == "number":
        number = decimal(value)
        if number is None:
            raise invalid({"value": ["The value must be a number."]})
        return number
    if kind == "date":
        if not isinstance(value, str) or not DATE.fullmatch(value):
            raise invalid({"value": ["The value does not match the format Y-m-d."]})
        return value
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            raise invalid({"value": ["The value must be a string."]})
        return value
    if isinstance(value, dict | list):
        raise invalid({"value": ["The value must be a single value."]})
    return value


def _list_fields(session: Session, request: SimRequest) -> SimResponse:
    wanted = request.arg("for")
    # Guess: without `for` every field is listed, item and customer fields alike.
    rows = [f for _, f in sorted(session.account.fields.items()) if not wanted or f["for"] == wanted]
    return page_response(request, "fields", rows, render, FIELD_FILTERS, ("name",))


def _item_field(account: AccountState, field_id: Any) -> Record:
    number = integer(field_id)
    field = account.fields.get(number if number is not None else -1)
    if field is None or field["for"] != "item":
        raise not_found()  # guess: an unknown (or customer) field in the path is a 404, like an unknown item
    return field


def _value_row(item: Record, field: Record) -> Record:
    value = item["_field_values"].get(field["id"], unset_value(field))
    return {"field": {"id": field["id"], "name": field["name"], "type": field["type"]}, "value": plain(value)}


def _list_field_values(session: Session, request: SimRequest, number: str) -> SimResponse:
    product = find_product(session.account, number)
    # Guess: every item field is listed, set or not, so a client sees unticked checkboxes as false.
    fields = [f for _, f in sorted(session.account.fields.items()) if f["for"] == "item"]
    rows = [_value_row(product, field) for field in fields]
    return page_response(request, "field_values", rows, lambda row: row, frozenset(), ())


def _put_field_value(session: Session, request: SimRequest, number: str, field_id: str) -> SimResponse:
    product = find_product(session.account, number)
    body = body_of(request)
    if "value" not in body:
        raise invalid({"value": ["The value field is required."]})
    # Guess: the answer's envelope `{"field_value": {...}}`, shaped like one row of the list.
    return json_response(200, {"field_value": _set_value(session, product, field_id, body["value"])})


def set_field_value(session: Session, number: str, field_id: int, value: Any) -> Record:
    """The control method's entry (account context set by the caller): the number is not URL-encoded."""
    product = session.account.products.get(number)
    if product is None:
        raise not_found()
    return _set_value(session, product, field_id, value)


def _set_value(session: Session, product: Record, field_id: Any, value: Any) -> Record:
    field = _item_field(session.account, field_id)
    product["_field_values"][field["id"]] = _field_value(field, value)
    product["updated_at"] = now()  # so `updated_at_from` polling sees the change too
    session.emit("product.updated", product["number"])  # guess: a field value change is a product update
    return _value_row(product, field)


ROUTES: list[Route] = [
    ("GET", "/fields", _list_fields),
    ("GET", "/products/{number}/fields", _list_field_values),
    ("PUT", "/products/{number}/fields/{field_id}", _put_field_value),
]
