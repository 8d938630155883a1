"""JSON:API on the wire: documents, error objects, and reading a request's resource object.

Pure functions over requests and records. A refusal is raised as `Refused` before anything is written and the
simulator answers it. Guess (the spec has no error schema): errors are JSON:API error objects,
`{"errors": [{"status", "title", "detail", "source": {"pointer"}}]}`; the detail names the field, so a client
that only logs the raw body (seen W5, W6) still says what was wrong.
"""

from __future__ import annotations

import json
import math
from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.base.http import json_default
from crossdock_local.sims.base.records import render as render
from crossdock_local.sims.base.refusal import Refused as Refused
from crossdock_local.sims.webshipper.state import Record

MEDIA_TYPE = "application/vnd.api+json"
# Seen W3: webhook deliveries say `;charset=utf-8`; API answers use the plain JSON:API media type.
ACCEPTED_BODY_TYPES = (MEDIA_TYPE, "application/json")  # seen W5: plain JSON works too
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def jsonapi(status: int, payload: Any, headers: dict[str, str] | None = None) -> SimResponse:
    if payload is None:
        return SimResponse(status, b"", dict(headers or {}))
    body = json.dumps(payload, default=json_default).encode()
    return SimResponse(status, body, {"content-type": MEDIA_TYPE, **(headers or {})})


def error_body(status: int, detail: str, pointer: str | None = None) -> Record:
    error: Record = {"status": str(status), "title": TITLES.get(status, "Error"), "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


def refuse(status: int, detail: str, pointer: str | None = None) -> Refused:
    return Refused(jsonapi(status, error_body(status, detail, pointer)))


def invalid(pointer: str, detail: str) -> Refused:
    """422 naming the field by its JSON pointer (`/data/attributes/order_lines/0/quantity`) and in the detail."""
    field = pointer.removeprefix("/data/").replace("/", ".")
    return refuse(422, f"{field} {detail}", pointer)


def not_found(kind: str, raw: object) -> Refused:
    return refuse(404, f"{kind} {raw} not found")


def id_param(raw: str, kind: str) -> int:
    """An id from the path; a non-number names nothing that exists, so it is a 404 as an unknown one is."""
    if not raw.isdigit():
        raise not_found(kind, raw)
    return int(raw)


def body_of(request: SimRequest) -> Record:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.body.strip() and media and media not in ACCEPTED_BODY_TYPES:
        raise refuse(415, f"Content-Type must be {MEDIA_TYPE}")
    try:
        body = request.json()
    except ValueError:
        raise refuse(400, "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise refuse(400, "The body must be a JSON:API document")
    return body


def resource_of(request: SimRequest, kind: str) -> tuple[Record, Record]:
    """The `attributes` and `relationships` of the document's `data`, whose `type` must be `kind`."""
    data = body_of(request).get("data")
    if not isinstance(data, dict):
        raise invalid("/data", "must be a resource object")
    if data.get("type") != kind:
        raise refuse(409, f"data.type must be {kind}", "/data/type")
    attributes = data.get("attributes", {})
    relationships = data.get("relationships", {})
    if not isinstance(attributes, dict):
        raise invalid("/data/attributes", "must be an object")
    if not isinstance(relationships, dict):
        raise invalid("/data/relationships", "must be an object")
    return attributes, relationships


def to_id(value: Any) -> int | None:
    """Ids come in as numbers or strings (seen W6 sends numbers, the spec shows strings); None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def related_id(relationships: Record, name: str, kind: str, *, required: bool = False) -> int | None:
    """The id in `relationships.<name>.data`, of type `kind`; 422 naming the pointer when it is malformed."""
    pointer = f"/data/relationships/{name}"
    link = relationships.get(name)
    if link is None:
        if required:
            raise invalid(pointer, "is required")
        return None
    data = link.get("data") if isinstance(link, dict) else None
    if data is None and isinstance(link, dict) and "data" in link and not required:
        return None  # an explicit null clears a to-one relationship
    if not isinstance(data, dict) or data.get("type") != kind:
        raise invalid(pointer, f"must be {{data: {{type: {kind}, id}}}}")
    found = to_id(data.get("id"))
    if found is None:
        raise invalid(pointer + "/data/id", "must be an id")
    return found


def text(value: Any, pointer: str, *, required: bool = False, max_length: int = 255) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid(pointer, "is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise invalid(pointer, "must be a string")
    if len(value) > max_length:
        raise invalid(pointer, f"must be at most {max_length} characters")
    return value


def number(value: Any, pointer: str, *, minimum: float | None = None) -> float | None:
    """A JSON number (never a bool or a string); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(pointer, "must be a number")
    if minimum is not None and value < minimum:
        raise invalid(pointer, f"must be at least {minimum:g}")
    return value


def choice(value: Any, pointer: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise invalid(pointer, f"must be one of {', '.join(allowed)}")
    return str(value)


def flag(value: Any, pointer: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise invalid(pointer, "must be true or false")
