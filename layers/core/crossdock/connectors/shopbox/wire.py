"""What every Shopbox answer shares: the envelopes (`data` and `meta.pagination`, bare or wrapped single objects), the
three error shapes, and scrubbing the credentials that travel in the query string out of anything we print.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from crossdock import http_wire, pacing, retry_after

# The query-string credentials (reference/shopbox.md "Auth" [seen S1, S2, S3]); S3 scrubs exactly these from its logs.
_SECRET_PARAMS = re.compile(r"(accessToken|api-token|password)=[^&\s]*", re.IGNORECASE)


def scrub(text: str) -> str:
    """`text` with every query-string credential replaced by `***`."""
    return _SECRET_PARAMS.sub(lambda match: f"{match.group(1)}=***", text)


def guard_httpx_log() -> None:
    """Keeps Shopbox's credentials out of httpx's request log (`crossdock.http_wire`), once."""
    http_wire.guard_httpx_log("Shopbox", scrub)


def body(response: httpx.Response) -> Any:
    return http_wire.json_body(response, "Shopbox")


def unwrap(answer: Any) -> Any:
    """A single object bare or as `{"data": …}` — both were seen [seen S1, S3]."""
    if isinstance(answer, dict) and set(answer) <= {"data", "meta"} and "data" in answer:
        return answer["data"]
    return answer


def rows(answer: Any) -> list[Any]:
    """The rows of a list answer: `{"data": [...]}`, or a bare list."""
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict) and isinstance(answer.get("data"), list):
        return list(answer["data"])
    return []


def last_page(answer: Any, page: int, per_page: int, count: int) -> bool:
    """Stop when `current_page >= total_pages`, else on a short page [seen S1]."""
    meta = answer.get("meta") if isinstance(answer, dict) else None
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if isinstance(pagination, dict) and "total_pages" in pagination:
        current = int(pagination.get("current_page") or page)
        return current >= int(pagination["total_pages"])
    return per_page < 0 or count < per_page


def error_message(response: httpx.Response) -> str:
    """`error.message`, then `message`, then a string `error` [seen S1]; the status otherwise."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict) and error.get("message"):
            return scrub(str(error["message"]))
        if isinstance(answer.get("message"), str):
            return scrub(answer["message"])
        if isinstance(error, str):
            return scrub(error)
    return f"HTTP {response.status_code}"


def retry_after_seconds(response: httpx.Response) -> float | None:
    return retry_after.parse(response.headers.get("retry-after"), pacing.clock.time())
