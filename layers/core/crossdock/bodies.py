"""Reading an inbound body (a webhook's, a queued event's payload) as a JSON object, or saying exactly why not.

Every way a signed body can still be unreadable ends here as `UnreadableBody` (a `ValueError`, so a caller's
`except ValueError` keeps working), never as another exception: bytes that are not UTF-8, text that is not JSON,
JSON nested deeper than the parser's recursion allows (`RecursionError` is a `RuntimeError`, which nothing above
would catch: a 10,000-level body once made ingest answer 502), the non-JSON constants `NaN` and `Infinity` that
Python's parser accepts, and a document that is not an object. Kept free of pydantic: ingest imports it.
"""

from __future__ import annotations

import json
from typing import Any


class UnreadableBody(ValueError):
    """The body cannot be read as a JSON object; the message says why (the position, the byte), never the body."""


def utf8_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as garbled:
        raise UnreadableBody(
            f"body is not UTF-8: byte 0x{raw[garbled.start]:02x} at position {garbled.start} ({garbled.reason})"
        ) from None


def _refuse_constant(name: str) -> Any:
    raise UnreadableBody(f"body is not valid JSON: {name} is not a JSON value")


# Made once: `json.loads` with a keyword builds a new decoder (and its scanner) on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def json_object(text: str | bytes) -> dict[str, Any]:
    """The body as a JSON object; bytes must be UTF-8 (JSON's only encoding on the wire, RFC 8259 §8.1)."""
    if isinstance(text, bytes):
        text = utf8_text(text)
    try:
        value = _DECODER.decode(text)
    except UnreadableBody:
        raise
    except RecursionError:
        raise UnreadableBody("body is not valid JSON: it is nested too deeply") from None
    except ValueError as garbled:
        raise UnreadableBody(f"body is not valid JSON: {garbled}") from None
    if not isinstance(value, dict):
        raise UnreadableBody("body must be a JSON object")
    return value
