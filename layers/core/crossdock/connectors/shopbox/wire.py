"""What every Shopbox answer shares: the envelopes (`data` and `meta.pagination`, bare or wrapped single objects), the
three error shapes, and scrubbing the credentials that travel in the query string out of anything we print.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from crossdock import pacing, retry_after
from crossdock.errors import RetryableError

# The query-string credentials (reference/shopbox.md "Auth" [seen S1, S2, S3]); S3 scrubs exactly these from its logs.
_SECRET_PARAMS = re.compile(r"(accessToken|api-token|password)=[^&\s]*", re.IGNORECASE)


def scrub(text: str) -> str:
    """`text` with every query-string credential replaced by `***`."""
    return _SECRET_PARAMS.sub(lambda match: f"{match.group(1)}=***", text)


class ScrubCredentials(logging.Filter):
    """httpx logs every request at INFO with its full URL (`HTTP Request: GET https://…?accessToken=…`); with a
    Shopbox URL that line would carry the credential into the function's logs. The filter rewrites the record
    before any handler sees it; other URLs pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def guard_httpx_log() -> None:
    """Puts `ScrubCredentials` on httpx's logger, once (the client calls it when it is made)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, ScrubCredentials) for existing in logger.filters):
        logger.addFilter(ScrubCredentials())


def body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as garbled:
        raise RetryableError(f"Shopbox sent a body that is not JSON ({response.status_code})") from garbled


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
