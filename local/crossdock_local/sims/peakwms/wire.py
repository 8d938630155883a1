"""PeakWMS on the wire: its error bodies, reading a request's JSON, and checking fields (each refusal names the field).

Seen P1: errors are `{"message", "messageKey", "parameters", "errorCode", "translateParams"}`; cancelling a cancelled
order is 400 with errorCode "4148". The other error codes here are guesses (the sheet publishes no list), chosen
apart so a client that branches on one is caught if it mistakes another for it. A refusal is raised as `Refused`
before anything is written and the simulator answers it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from crossdock_local.sims.base import SimRequest, json_response
from crossdock_local.sims.base.records import render as render
from crossdock_local.sims.base.refusal import Refused as Refused
from crossdock_local.sims.peakwms.state import Record

ALREADY_CANCELLED_CODE = "4148"  # seen P1
VALIDATION_CODE = "4000"  # guess
NOT_FOUND_CODE = "4040"  # guess
DUPLICATE_ORDER_CODE = "4101"  # guess
DUPLICATE_PRODUCT_CODE = "4102"  # guess
WRONG_STATE_CODE = "4150"  # guess: an order in a state that does not allow the change
UNAUTHORIZED_CODE = "4010"  # guess
THROTTLED_CODE = "4290"  # guess
SERVER_ERROR_CODE = "5000"  # guess
COUNTRY = re.compile(r"^[A-Z]{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def error_body(message: str, error_code: str, message_key: str = "", parameters: list[str] | None = None) -> Record:
    return {
        "message": message,
        "messageKey": message_key or f"error.{error_code}",
        "parameters": parameters or [],
        "errorCode": error_code,
        "translateParams": {},
    }


def refuse(status: int, message: str, error_code: str, *parameters: str) -> Refused:
    return Refused(json_response(status, error_body(message, error_code, parameters=list(parameters))))


def invalid(field: str, detail: str) -> Refused:
    """400 naming the field in the message and in `parameters`."""
    return refuse(400, f"{field} {detail}", VALIDATION_CODE, field)


def not_found(what: str, key: object) -> Refused:
    return refuse(404, f"{what} {key} was not found", NOT_FOUND_CODE, str(key))


def body_of(request: SimRequest) -> Any:
    try:
        return request.json()
    except ValueError:
        raise invalid("body", "is not valid JSON") from None


def object_body(request: SimRequest) -> Record:
    body = body_of(request)
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    return body


def host_id(value: Any, field: str, *, required: bool = True) -> str:
    """A host id (`productId`, `variantId`, `orderId`, `orderLineId`): seen P1 as strings; guess: a number is
    read as its digits (a lenient model binder)."""
    if value is None or value == "":
        if required:
            raise invalid(field, "is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid(field, "must be a string")
    text = str(value).strip()
    if len(text) > 100:
        raise invalid(field, "must be at most 100 characters")
    return text


def text(value: Any, field: str, *, required: bool = False, max_length: int = 500) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid(field, "is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    if len(value) > max_length:
        raise invalid(field, f"must be at most {max_length} characters")
    return value


def number(value: Any, field: str, *, minimum: float | None = 0.0) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(field, "must be a number")
    if minimum is not None and value < minimum:
        raise invalid(field, f"must be at least {minimum:g}")
    return value


def whole(value: Any, field: str, *, minimum: int = 0, required: bool = True) -> int:
    if value is None and not required:
        return minimum
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise invalid(field, "must be a whole number")
    if value < minimum:
        raise invalid(field, f"must be at least {minimum}")
    return int(value)


def flag(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise invalid(field, "must be true or false")


def country(value: Any, field: str) -> str | None:
    found = text(value, field, max_length=2)
    if found and not COUNTRY.match(found):
        raise invalid(field, "must be an ISO 3166-1 alpha-2 code")
    return found
