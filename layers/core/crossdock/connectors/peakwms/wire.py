"""What every PeakWMS answer shares (reference/peakwms.md "Errors", "Auth and transport"): the error body read
leniently, ids kept as text, numbers as Decimals, and the credentials scrubbed out of anything we print.

Credentials: the API key travels only as `Authorization: Bearer …`; the per-connection webhook key travels in the
addresses we register (`…?key=…`), which PeakWMS may echo in an error message or a webhook listing.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from crossdock import http_wire, pacing, retry_after

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_KEY_PARAM = re.compile(r"(?<![A-Za-z0-9_])(key|apiKey|api_key)=[^&\s\"']*", re.IGNORECASE)
_JSON_SECRETS = re.compile(r'("(?:apiKey|api_key|key|token)"\s*:\s*)"[^"]*"', re.IGNORECASE)
DETAIL_LIMIT = 300


def scrub(text: str) -> str:
    """`text` with every credential replaced by `***`."""
    text = _BEARER.sub(lambda match: f"{match.group(1)}***", text)
    text = _KEY_PARAM.sub(lambda match: f"{match.group(1)}=***", text)
    return _JSON_SECRETS.sub(lambda match: f'{match.group(1)}"***"', text)


def guard_httpx_log() -> None:
    """Keeps PeakWMS's credentials out of httpx's request log (`crossdock.http_wire`), once."""
    http_wire.guard_httpx_log("PeakWMS", scrub)


def body(response: httpx.Response) -> Any:
    return http_wire.json_body(response, "PeakWMS")


def retry_after_seconds(response: httpx.Response) -> float | None:
    return retry_after.parse(response.headers.get("retry-after"), pacing.clock.time())


def error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(`errorCode`, message) of a refusal. [seen P1] `{message, messageKey, parameters, errorCode,
    translateParams}`; [guess] errorCode as a number or a string (kept as text), and an ASP.NET problem body
    (`{title, errors: {field: [..]}}`) or a plain text body read as the message."""
    try:
        answer = response.json()
    except ValueError:
        text = response.text.strip()
        return None, scrub(text[:DETAIL_LIMIT]) if text else f"HTTP {response.status_code}"
    if not isinstance(answer, dict):
        return None, f"HTTP {response.status_code}"
    code = text_id(answer.get("errorCode"))
    said = [str(answer[key]) for key in ("message", "title", "detail") if isinstance(answer.get(key), str)]
    problems = answer.get("errors")
    if isinstance(problems, dict):  # [guess] validation errors per field
        for field, found in problems.items():
            words = "; ".join(str(one) for one in found) if isinstance(found, list) else str(found)
            said.append(f"{field}: {words}")
    if not said and isinstance(answer.get("messageKey"), str):
        said.append(answer["messageKey"])
    message = scrub(" — ".join(said)[:DETAIL_LIMIT]) if said else f"HTTP {response.status_code}"
    return code, message


def text_id(value: Any) -> str | None:
    """Ids come as strings in the sheet's examples and may come as numbers [guess]; kept as text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def wire_id(value: str) -> int | str:
    """An internal id sent back as the number it is (PeakWMS's internal ids are ints [seen P1])."""
    return int(value) if value.isdigit() else value


def number(value: Any) -> Decimal | None:
    """A JSON number (or its text [guess]) as a Decimal; None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        found = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def whole(value: Any) -> int | None:
    found = number(value)
    return int(found) if found is not None else None


def flag(value: Any) -> bool | None:
    """A boolean, or its text ("true"/"false") [guess]."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    shown = str(value).strip()
    return shown or None


def json_number(value: Decimal | int | float) -> int | float:
    """A number for a JSON body: whole numbers as ints, others as floats (amounts have at most 4 decimals)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def rows(answer: Any) -> list[dict[str, Any]]:
    """The records of a list answer: a keyset page's `data` [seen P1, P3], or a bare list [guess]."""
    found = answer.get("data") if isinstance(answer, dict) else answer
    if isinstance(found, list):
        return [row for row in found if isinstance(row, dict)]
    return []
