"""Pricing an order line, and an order's (or credit note's) totals.

Rounding: a line's net is `quantity * line_price * (1 - discount_percentage / 100)` and its VAT is
`net * vat_percentage / 100`, both kept exact. Each line shows them rounded half-up to 2 dp; the order's
`total_excl_vat` and `total_vat` are the exact sums rounded half-up to 2 dp and `total` is their sum. So the shown
line amounts can differ from the order totals by a cent; the order totals are authoritative. Input money may be a
JSON number or a string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock_local.sims.rackbeat.session import Session
from crossdock_local.sims.rackbeat.state import Errors, Record
from crossdock_local.sims.rackbeat.wire import decimal, label, round_cents

VAT_ZONES = ("domestic", "eu", "abroad")
# Guess: the default VAT rate of a line when the body gives none (Danish 25 % at home, 0 % for EU/abroad).
DEFAULT_VAT = {"domestic": Decimal(25), "eu": Decimal(0), "abroad": Decimal(0)}


def order_line(session: Session, raw: Any, index: int, vat_zone: str, errors: Errors) -> Record | None:
    prefix = f"lines.{index}."
    if not isinstance(raw, dict):
        errors[f"lines.{index}"] = ["The line must be an object."]
        return None
    product = session.account.products.get(str(raw.get("item_id"))) if raw.get("item_id") is not None else None
    if product is None:
        errors[prefix + "item_id"] = ["Product needed"]
    location = raw.get("location_id")
    if location is not None and str(location) not in session.account.locations:
        errors[prefix + "location_id"] = ["The selected location id is invalid."]
    defaults = {
        "quantity": None,
        "line_price": product["sales_price"] if product else Decimal(0),
        "discount_percentage": Decimal(0),
        "vat_percentage": DEFAULT_VAT[vat_zone],
    }
    amounts = {key: line_amount(raw, key, default, prefix, errors) for key, default in defaults.items()}
    discount = amounts["discount_percentage"]
    if discount is not None and not 0 <= discount <= 100:
        errors[prefix + "discount_percentage"] = ["The discount percentage must be between 0 and 100."]
    if product is None or None in amounts.values() or prefix + "discount_percentage" in errors:
        return None
    text = raw.get("name")
    return priced_line(
        session,
        product,
        text if isinstance(text, str) and text else product["name"],
        location,
        **{key: value for key, value in amounts.items() if value is not None},
    )


def line_amount(raw: Record, key: str, default: Decimal | None, prefix: str, errors: Errors) -> Decimal | None:
    """A numeric line field, its default when absent/null; records a 422 message when missing or not numeric."""
    if raw.get(key) is None:
        if default is None:
            errors[prefix + key] = [f"The {label(key)} field is required."]
        return default
    amount = decimal(raw[key])
    if amount is None:
        errors[prefix + key] = [f"The {label(key)} must be a number."]
    return amount


def priced_line(
    session: Session,
    product: Record,
    name: str,
    location: Any,
    *,
    quantity: Decimal,
    line_price: Decimal,
    discount_percentage: Decimal,
    vat_percentage: Decimal,
) -> Record:
    net = quantity * line_price * (1 - discount_percentage / 100)
    vat = net * vat_percentage / 100
    return {
        "id": session.next_id("line"),
        "item_id": product["number"],
        "name": name,
        "quantity": quantity,
        "line_price": line_price,
        "discount_percentage": discount_percentage,
        "vat_percentage": vat_percentage,
        "location_id": None if location is None else str(location),
        # Guess: field names of the per-line amounts.
        "line_total_excl_vat": round_cents(net),
        "line_vat": round_cents(vat),
        "line_total": round_cents(net) + round_cents(vat),
        "_net": net,
        "_vat": vat,
    }


def order_lines(session: Session, raw_lines: Any, vat_zone: str, errors: Errors) -> list[Record]:
    if raw_lines is None:
        return []
    if not isinstance(raw_lines, list):
        errors["lines"] = ["The lines must be an array."]
        return []
    lines = [order_line(session, raw, index, vat_zone, errors) for index, raw in enumerate(raw_lines)]
    return [line for line in lines if line is not None]


def totals(lines: list[Record]) -> Record:
    net = round_cents(sum((line["_net"] for line in lines), Decimal(0)))
    vat = round_cents(sum((line["_vat"] for line in lines), Decimal(0)))
    return {"total_excl_vat": net, "total_vat": vat, "total": net + vat}
