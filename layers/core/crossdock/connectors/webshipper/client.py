"""HTTP client for the Webshipper API v2 (reference/webshipper.md): JSON:API documents with a bearer token.

Outcomes in Crossdock's error taxonomy (`RetryableError` is the contract's "TransientError"):
- 401 → one new token (`tokens`, single-flight per connection) and the call again; a second 401 → `PermanentError`
  AUTH. A stored API token is never renewed.
- 429 and 503 → waited out here per `Retry-After`, a few times and never long (`WAIT_LIMIT_SECONDS` each); after
  that `RateLimited` (429) or `RetryableError` (503) for the caller's backoff. Both refuse before any work
  [guess: the sheet documents no limit; the simulator's 429 and outage do], so writes are repeated too.
- other 5xx, timeouts and lost connections → `RetryableError` (a read answering 500/502 is repeated once first). A
  write whose answer is lost may have committed: callers look before they create again (`orders.create_order`).
- 422 → `WebshipperRejected` with Webshipper's raw `errors`; 404 → `WebshipperNotFound`; 403 and other 4xx →
  `PermanentError` with Webshipper's detail.
No message, log line or exception of this module carries a token, an e-mail or a password (`wire.scrub`).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from typing import Any

import httpx

from crossdock import retry_after
from crossdock.connectors.webshipper import wire
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.tokens import Token, WebshipperTokens
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.pacing import Pacer

DEFAULT_TIMEOUT_SECONDS = 10.0
# Doc W1: every list answers fixed pages of 30 rows, `page[number]` from 1, with no page-size parameter.
PAGE_SIZE = 30
# A list longer than this many pages is a paging loop (a `links.next` that never ends), not data.
MAX_PAGES = 10_000
# 429/503 waited out here at most this many times, each for at most this long; a longer hint goes to the caller.
WAITS = 3
WAIT_LIMIT_SECONDS = 10.0
# A 429/503 without Retry-After [guess: the simulator always sends one] waits this long.
DEFAULT_WAIT_SECONDS = 1.0


class WebshipperRejected(PermanentError):
    """422: Webshipper refused the document (validation, or a duplicate `ext_ref` in the channel [doc W1]).
    `errors` is Webshipper's own list of JSON:API error objects, unparsed [guess: the shape is not documented]."""

    def __init__(self, reason: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(reason, FailureClass.VALIDATION)
        self.errors = errors

    def about(self, field: str) -> bool:
        """Whether an error names `field` (by its pointer or in its words), e.g. `ext_ref`."""
        for error in self.errors:
            source = error.get("source")
            pointer = str(source.get("pointer", "")) if isinstance(source, dict) else ""
            if pointer.rstrip("/").endswith("/" + field) or field in str(error.get("detail", "")):
                return True
        return False


class WebshipperUnavailable(RetryableError):
    """503: Webshipper is down for a moment (an outage answers before any work); waited out like a 429."""


IN_PLACE = retry_after.InPlace(
    waits=WAITS,
    wait_limit_seconds=WAIT_LIMIT_SECONDS,
    default_wait_seconds=DEFAULT_WAIT_SECONDS,
    later=(RateLimited, WebshipperUnavailable),
)


class WebshipperNotFound(PermanentError):
    """404: what the path names does not exist (or the account's subdomain does not answer)."""


class WebshipperClient:
    def __init__(
        self,
        account: WebshipperAccount,
        tokens: WebshipperTokens,
        *,
        pacer: Pacer | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.account = account
        self._tokens = tokens
        self.pacer = pacer  # shared with every client of the account (`ConnectionClients.webshipper`)
        wire.guard_httpx_log()
        self._http = httpx.Client(
            base_url=account.api_base.rstrip("/") + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)),
            # Doc W1: JSON:API both ways (one client sends plain JSON and works [seen W5]).
            headers={"Accept": wire.MEDIA_TYPE, "Content-Type": wire.MEDIA_TYPE},
        )
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    # ---- the verbs -----------------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._document(self.request("GET", path, params=params), "GET", path)

    def post(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        return self._document(self.request("POST", path, json=document), "POST", path)

    def patch(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        return self._document(self.request("PATCH", path, json=document), "PATCH", path)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every resource of a list, page after page (lazily: the caller may stop early). [guess] the spec shows no
        paging links: a page with `links` but no `links.next` is the last, and so is a short or empty page
        whatever the links say."""
        number = 1
        while number <= MAX_PAGES:
            answer = self.get(path, {**(params or {}), "page[number]": number})
            rows = answer.get("data")
            rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
            yield from rows
            links = answer.get("links")
            if len(rows) < PAGE_SIZE or (isinstance(links, dict) and links and not links.get("next")):
                return
            number += 1
        raise PermanentError(f"Webshipper's list {path} did not end after {MAX_PAGES} pages", FailureClass.BUG)

    # ---- the wire ------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        return retry_after.call_in_place(IN_PLACE, method, lambda: self._authorised(method, path, params or {}, json))

    def _authorised(self, method: str, path: str, params: dict[str, Any], json: Any) -> Any:
        response = self._tokens.sent(lambda token: self._send(method, path, params, json, token), f"{method} {path}")
        return self._answer(method, path, response)

    def _send(self, method: str, path: str, params: dict[str, Any], json: Any, token: Token) -> httpx.Response:
        if self.pacer is not None:
            self.pacer.wait_turn()
        self.calls += 1
        content = None if json is None else jsonlib.dumps(json).encode()
        try:
            return self._http.request(
                method,
                path.lstrip("/"),
                params=params,
                content=content,
                headers={"Authorization": f"Bearer {token.value}"},
            )
        except httpx.TimeoutException:
            raise RetryableError(f"Webshipper timed out on {method} {path}") from None
        except httpx.TransportError as lost:
            # For a write this means "maybe committed": callers look before they create again.
            raise RetryableError(f"Webshipper connection failed on {method} {path}: {type(lost).__name__}") from None

    def _answer(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        where = f"{method} {path}"
        if status == 429:
            hint = wire.retry_after_seconds(response)
            if self.pacer is not None:
                self.pacer.back_off(hint if hint is not None else DEFAULT_WAIT_SECONDS)
            raise RateLimited(f"Webshipper throttled {where}", hint)
        if status == 503:
            raise WebshipperUnavailable(
                f"Webshipper is unavailable (503) on {where}", retry_after=wire.retry_after_seconds(response)
            )
        if status >= 500:
            raise RetryableError(
                f"Webshipper answered {status} on {where}", retry_after=wire.retry_after_seconds(response)
            )
        if status == 422:
            raise WebshipperRejected(
                f"Webshipper refused {where} (422): {wire.error_message(response)}", wire.errors(response)
            )
        if status == 404:
            raise WebshipperNotFound(f"Webshipper has no {path.strip('/')} ({where}: 404)")
        if status == 403:
            raise PermanentError(
                f"Webshipper refused account {self.account.account} (403) on {where}: {wire.error_message(response)}",
                FailureClass.AUTH,
            )
        if status >= 400:
            raise PermanentError(f"Webshipper refused {where} ({status}): {wire.error_message(response)}")
        return wire.body(response)

    @staticmethod
    def _document(answer: Any, method: str, path: str) -> dict[str, Any]:
        if answer is None:
            return {}
        if not isinstance(answer, dict):
            raise RetryableError(f"Webshipper's answer to {method} {path} is not a JSON:API document")
        return answer
