"""The small rules every Rackbeat resource shares: reading JSON values, refusing a request, rendering a record.

Pure functions over requests and records; nothing here knows an account. A refusal is raised as `Refused` before
anything is written, and the simulator answers it; `render` is the one place that decides how state looks on the
wire (money as "199.00", quantities and percentages as JSON numbers, `_private` keys left out).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.state import Errors, Record

CENT = Decimal("0.01")
# Emitted as JSON numbers; every other Decimal is money and is emitted as a string.
NUMBER_KEYS = frozenset(
    {
        "quantity",
        "stock_quantity",
        "in_order_quantity",
        "available_quantity",
        "discount_percentage",
        "vat_percentage",
        "weight",
        "days",
        "credited_quantity",  # Guess: invoice lines count what credit notes took back (credit_notes.py)
        # Guess: a product group's VAT fields are percentages (the sheet names the fields only).
        "vat_domestic",
        "vat_eu",
        "vat_abroad",
    }
)
TOKEN_ALPHABET = string.ascii_letters + string.digits
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")


class Refused(Exception):
    """Aborts a handler with a ready answer; raised before anything is written."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


def now() -> str:
    # Guess: Rackbeat shows local (Copenhagen) time without a zone; the simulator uses UTC in the same format.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value is True or value == 1


def _money_text(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        value = value.quantize(CENT)
    return f"{value:f}"


def render(value: Any, key: str = "") -> Any:
    """JSON-ready copy: drops `_private` keys, money → "12.50", quantities/percentages → numbers."""
    if isinstance(value, dict):
        return {k: render(v, k) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [render(item, key) for item in value]
    if isinstance(value, Decimal):
        if key in NUMBER_KEYS:
            return int(value) if value == value.to_integral_value() else float(value)
        return _money_text(value)
    return value


def refuse(status: int, payload: Any) -> Refused:
    return Refused(json_response(status, payload))


def not_found() -> Refused:
    return refuse(404, {"message": "Not found"})


def invalid(errors: Errors) -> Refused:
    return refuse(422, {"errors": errors})


def raise_if(errors: Errors) -> None:
    if errors:
        raise invalid(errors)


def body_of(request: SimRequest) -> Record:
    if not request.body.strip():
        return {}
    try:
        body = request.json()
    except ValueError as error:
        raise refuse(400, {"message": "Invalid JSON"}) from error
    if not isinstance(body, dict):
        raise invalid({"body": ["The body must be a JSON object."]})
    return body


def wants_suppress(request: SimRequest) -> bool:
    if truthy(request.arg("suppress_webhooks", "")):
        return True
    try:
        body = request.json()
    except ValueError:
        return False
    return isinstance(body, dict) and truthy(body.get("suppress_webhooks"))


def bearer(request: SimRequest) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def label(name: str) -> str:
    return name.replace("_", " ")


def copy_text(body: Record, names: Iterable[str], out: Record, errors: Errors) -> None:
    for name in names:
        if name not in body:
            continue
        value = body[name]
        if value is not None and not isinstance(value, str):
            errors[name] = [f"The {label(name)} must be a string."]
        else:
            out[name] = value


def copy_refs(body: Record, refs: dict[str, dict[str, Record]], out: Record, errors: Errors) -> None:
    """Reference ids (layout, payment terms, ...) must name seeded reference data; null clears them."""
    for name, table in refs.items():
        if name not in body:
            continue
        value = body[name]
        if value is not None and str(value) not in table:
            errors[name] = [f"The selected {label(name)} is invalid."]
        else:
            out[name] = value


def next_number(existing: Iterable[int]) -> int:
    return max(existing, default=0) + 1


def claim_number(existing: dict[int, Record], given: Any, errors: Errors) -> int:
    """The number a new customer/order gets: the given one if free, else (null/absent) highest + 1.

    Guess: customer and order numbers are positive integers (webhook keys carry them as strings)."""
    if given is None:
        return next_number(existing)
    number = integer(given)
    if number is None or number < 1:
        errors["number"] = ["The number must be a positive integer."]
        return 0
    if number in existing:
        errors["number"] = ["The number has already been taken."]
    return number
