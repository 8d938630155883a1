"""What every connector's HTTP wire needs alike: a platform's credentials kept out of httpx's request log, and an
answer's JSON body read with a garbled one treated as passing (a proxy's HTML error page, a cut-off body).

httpx logs every request at INFO with its full URL; a platform that carries a credential in the query string
(Shopbox's `accessToken`, Webshipper's password grant) would put it in the function's logs. Each connector gives
its own scrub (which names are secret is the platform's); the filter rewrites a record before any handler sees it
and leaves other lines as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from crossdock.errors import RetryableError


class ScrubCredentials(logging.Filter):
    """httpx's log lines with one platform's credentials scrubbed."""

    def __init__(self, system: str, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.system = system
        self._scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self._scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def guard_httpx_log(system: str, scrub: Callable[[str], str]) -> None:
    """Puts `system`'s `ScrubCredentials` on httpx's logger, once (each client calls it when it is made)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, ScrubCredentials) and existing.system == system for existing in logger.filters):
        logger.addFilter(ScrubCredentials(system, scrub))


def json_body(response: httpx.Response, system: str) -> Any:
    """The answer's JSON (None when it has no body); a body that is not JSON is a passing failure."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise RetryableError(f"{system} sent a body that is not JSON ({response.status_code})") from None
