"""The catalogue's items as every resource sees them: building and validating a product (or lot) body, finding
one, showing it with its group and what booked orders hold of it, and the custom-field filter of item lists.

Products and lots share these rules and one number space (`/items/{number}` names exactly one of them). Stock only
moves through booked adjustments (stock.py), shipped shipments and returned credit notes (fulfilment.py); either
marks the product as having stock movements, which stops it from being deleted.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from crossdock_local.sims.base import SimRequest
from crossdock_local.sims.rackbeat.fulfilment import Reservations, reservations
from crossdock_local.sims.rackbeat.state import AccountState, Errors, Record
from crossdock_local.sims.rackbeat.wire import (
    copy_text,
    decimal,
    integer,
    invalid,
    label,
    not_found,
    now,
    raise_if,
    render,
    truthy,
)

PRODUCT_FILTERS = frozenset({"number", "barcode", "name", "is_barred"})
PRODUCT_SEARCH = ("number", "name", "description", "barcode")
PRODUCT_TEXT = ("name", "description", "barcode")
PRODUCT_MONEY = ("sales_price", "recommended_sales_price", "cost_price", "recommended_cost_price")


def new_product(number: str, name: str) -> Record:
    stamp = now()
    return {
        "number": number,
        "name": name,
        "description": None,
        "barcode": None,
        "sales_price": Decimal(0),
        "recommended_sales_price": Decimal(0),
        "cost_price": Decimal(0),
        "recommended_cost_price": Decimal(0),
        "group": None,
        "stock_quantity": Decimal(0),
        "is_barred": False,
        "inventory_enabled": True,
        "default_location": None,
        "physical": {"weight": Decimal(0), "weight_unit": "g"},
        "created_at": stamp,
        "updated_at": stamp,
        "_locations": {},  # location number → stock there
        "_field_values": {},  # custom field id → value
        "_stock_moved": False,  # set once stock is registered (adjustment booked, shipment shipped)
    }


def product_fields(account: AccountState, body: Record, creating: bool) -> Record:
    errors: Errors = {}
    out: Record = {}
    if creating and not (isinstance(body.get("name"), str) and body["name"].strip()):
        errors["name"] = ["The name field is required."]
    copy_text(body, PRODUCT_TEXT, out, errors)
    for name in PRODUCT_MONEY:
        if name in body:
            amount = decimal(body[name])
            if amount is None:
                errors[name] = [f"The {label(name)} must be a number."]
            out[name] = amount
    for flag in ("is_barred", "inventory_enabled"):
        if flag in body:
            out[flag] = truthy(body[flag])
    for nested in ("default_location", "physical"):
        if nested in body:
            out[nested] = copy.deepcopy(body[nested])
    if "group" in body:
        out["group"] = group_ref(account, body["group"], errors)
    # stock_quantity is not writable here: stock moves through adjustments and shipments.
    raise_if(errors)
    return out


def group_ref(account: AccountState, value: Any, errors: Errors) -> Record | None:
    """`group: {"number": n}` naming a product group of the account; null leaves the item without a group."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("number") is None:
        errors["group"] = ['The group must be an object like {"number": 1}.']
        return None
    group = account.product_groups.get(str(value["number"]))
    if group is None:
        errors["group.number"] = ["The selected group number is invalid."]
        return None
    return {"number": group["number"]}


def group_view(account: AccountState, ref: Any) -> Record | None:
    """How an item shows its group: number and the group's current name."""
    if ref is None:
        return None
    number = ref.get("number") if isinstance(ref, dict) else ref
    group = account.product_groups.get(str(number))
    return {"number": number, "name": group["name"] if group else None}


def new_item(account: AccountState, body: Record) -> Record:
    """A product or lot built from a create body, not yet stored. Products and lots share one number space so
    `/items/{number}` names exactly one of them."""
    number = body.get("number")
    errors: Errors = {}
    if not isinstance(number, str | int) or isinstance(number, bool) or not str(number).strip():
        errors["number"] = ["The number field is required."]
    elif str(number) in account.products or str(number) in account.lots:
        errors["number"] = ["The number has already been taken."]
    raise_if(errors)
    fields = product_fields(account, body, creating=True)
    if "inventory_enabled" not in body and fields.get("group") is not None:
        # Guess: a new item keeps stock or not as its product group says, unless the body says otherwise.
        group = account.product_groups[str(fields["group"]["number"])]
        fields["inventory_enabled"] = bool(group["has_inventory"])
    item = new_product(str(number), fields["name"])
    item.update(fields)
    return item


def find_product(account: AccountState, number: str) -> Record:
    product = account.products.get(unquote(number))
    if product is None:
        raise not_found()
    return product


def render_product(account: AccountState, product: Record, held: Reservations | None = None) -> Any:
    """A product (or lot) as the API shows it; `held` is `reservations()` when a list already computed it."""
    everything_held = reservations(account) if held is None else held
    reserved = sum(everything_held.get(product["number"], {}).values(), Decimal(0))
    return render(
        {
            **product,
            "group": group_view(account, product.get("group")),
            "in_order_quantity": reserved,
            "available_quantity": product["stock_quantity"] - reserved,
        }
    )


def plain(value: Any) -> Any:
    """A field value as JSON: numbers stay numbers (the money rendering would make "12.50" of them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def unset_value(field: Record) -> Any:
    # Guess: an unset checkbox reads as unticked (false); any other unset field reads as null.
    return False if field["type"] == "checkbox" else None


def _field_matches(field: Record, stored: Any, wanted: str) -> bool:
    if field["type"] == "checkbox":
        return bool(stored) == truthy(wanted)
    if isinstance(stored, Decimal):
        other = decimal(wanted)
        return other is not None and other == stored
    return ("" if stored is None else str(stored)) == wanted


def filter_field_eq(account: AccountState, request: SimRequest, rows: list[Record]) -> list[Record]:
    """The sheet's `field_eq[<field id>]=value` filter over items' custom field values."""
    for key, values in request.query.items():
        found = re.fullmatch(r"field_eq\[(\w+)\]", key)
        if found is None:
            continue
        field_id = integer(found.group(1))
        field = account.fields.get(field_id if field_id is not None else -1)
        if field is None or field["for"] != "item":
            raise invalid({key: [f"Property '{key}' is not filterable"]})  # guess: as for simple_filter
        rows = [
            row
            for row in rows
            if _field_matches(field, row["_field_values"].get(field["id"], unset_value(field)), values[0])
        ]
    return rows
