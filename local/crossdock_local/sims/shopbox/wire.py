"""The small rules every Shopbox resource shares: the error envelope, reading JSON values, rendering a record.

Pure functions over requests and records. A refusal is raised as `Refused` before anything is written and the
simulator answers it. Errors use the envelope the fact sheet shows first, `{"error": {"name", "message", "code",
"status"}}` [seen S1]; a refused field is also named under `error.errors` (Guess: the sheet shows no field list).
"""

from __future__ import annotations

import copy
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.base.refusal import Refused as Refused
from crossdock_local.sims.shopbox.rules import ShopboxRules
from crossdock_local.sims.shopbox.state import Record

# Guess: the error names follow the HTTP reason phrases, as S1's "Unauthorized" does.
ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    422: "ValidationError",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def error_body(status: int, message: str, errors: dict[str, str] | None = None) -> Record:
    error: Record = {"name": ERROR_NAMES.get(status, "Error"), "message": message, "code": 0, "status": status}
    if errors:
        error["errors"] = errors
    return {"error": error}


def reshaped(response: SimResponse, rules: ShopboxRules) -> SimResponse:
    """A refusal worded in `rules.error_shape`; the router's own 404 and 405 (`{"message"}`) are worded so too."""
    if response.status < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        return response
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message", ""))
    elif isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    else:
        return response
    if rules.error_shape == "error_object":
        if isinstance(error, dict):
            return response
        return json_response(response.status, error_body(response.status, message), response.headers)
    key = "message" if rules.error_shape == "message" else "error"
    return json_response(response.status, {key: message}, response.headers)


def refuse(status: int, message: str, errors: dict[str, str] | None = None) -> Refused:
    return Refused(json_response(status, error_body(status, message, errors)))


def invalid(name: str, message: str) -> Refused:
    """422 naming the field (a path such as `lines[0].quantity`) that is wrong."""
    return refuse(422, f"{name}: {message}", {name: message})


def not_found(what: str) -> Refused:
    return refuse(404, f"{what} not found")


def body_of(request: SimRequest) -> Record:
    if not request.body.strip():
        return {}
    try:
        body = request.json()
    except ValueError:
        raise refuse(400, "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise refuse(400, "The body must be a JSON object")
    return body


def integer(value: Any, name: str, *, minimum: int | None = None) -> int:
    """A JSON integer (never a bool, a float or a string: money is whole øre); refused naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "must be an integer" + (" number of øre" if "price" in name or "amount" in name else ""))
    if minimum is not None and value < minimum:
        raise invalid(name, f"must be at least {minimum}")
    return value


def optional_integer(body: Record, name: str, default: int | None, *, minimum: int | None = None) -> int | None:
    value = body.get(name)
    return default if value is None else integer(value, name, minimum=minimum)


def text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid(name, "is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def uid_param(raw: str, what: str) -> int:
    """A uid from the path; a non-number names nothing that exists, so it is a 404 as an unknown one is."""
    if not raw.isdigit():
        raise not_found(what)
    return int(raw)


def render(record: Record) -> Record:
    """A JSON-ready deep copy without the `_private` keys."""
    return {k: _render_value(v) for k, v in record.items() if not k.startswith("_")}


def _render_value(value: Any) -> Any:
    if isinstance(value, dict):
        return render(value)
    if isinstance(value, list):
        return [_render_value(item) for item in value]
    return copy.copy(value)


def single(rules: ShopboxRules, record: Record, status: int = 200) -> SimResponse:
    """One resource, in `{"data": ...}` or bare as `rules.wrap_single` says (both were seen)."""
    shown = render(record)
    return json_response(status, {"data": shown} if rules.wrap_single else shown)
