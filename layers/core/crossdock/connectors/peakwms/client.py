"""HTTP client for the PeakWMS integration API v1 (reference/peakwms.md): camelCase JSON with a static bearer key.

Outcomes in Crossdock's error taxonomy (`RetryableError` is the contract's "TransientError"):
- 429 → the shared pacer backs off, then the call is waited out here per `Retry-After`, a few times and never long
  (`WAIT_LIMIT_SECONDS` each); after that `RateLimited` for the caller's backoff. [guess] a 429 refuses before any
  work (the simulator's does), so writes are repeated too. [guess] `Retry-After` is sent (the simulator: 15 s);
  without one `DEFAULT_WAIT_SECONDS`.
- 5xx, timeouts and lost connections → `RetryableError` (a read answering 500/502/503 is repeated once first). A
  write whose answer is lost may have committed: callers look before they create again (`sales_orders`,
  `products`).
- 401 → `PermanentError` AUTH naming the account, never the key; 403 likewise.
- 404 → `PeakwmsNotFound`; other 4xx → `PeakwmsRejected` with PeakWMS's `errorCode` and message [seen P1].
No message, log line or exception of this module carries the API key or a webhook key (`wire.scrub`).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from typing import Any

import httpx

from crossdock import retry_after
from crossdock.connectors.peakwms import wire
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.pacing import Pacer

DEFAULT_TIMEOUT_SECONDS = 10.0
# [seen P1] PageSize ≤ 250 on every keySet list.
MAX_PAGE_SIZE = 250
# A list longer than this many pages is a paging loop, not data (30,000 variants are 120 pages).
MAX_PAGES = 100_000
# 429 waited out here at most this many times, each for at most this long; a longer hint goes to the caller.
# [guess] the simulator's Retry-After is 15 s, so the limit must be above it or no wait would ever be taken here.
WAITS = 3
WAIT_LIMIT_SECONDS = 20.0
# A 429 without Retry-After [guess: the header is not documented] waits this long: a quarter of the minute the
# 240/min limit is counted in.
DEFAULT_WAIT_SECONDS = 15.0
IN_PLACE = retry_after.InPlace(
    waits=WAITS, wait_limit_seconds=WAIT_LIMIT_SECONDS, default_wait_seconds=DEFAULT_WAIT_SECONDS
)


class PeakwmsRejected(PermanentError):
    """PeakWMS refused the call: `status`, its `errorCode` (text; None when the body had none) and its message
    [seen P1: prefer errorCode, fall back to message]."""

    def __init__(
        self,
        reason: str,
        *,
        status: int,
        error_code: str | None,
        message: str,
        failure_class: FailureClass = FailureClass.VALIDATION,
    ) -> None:
        super().__init__(reason, failure_class)
        self.status = status
        self.error_code = error_code
        self.message = message


class PeakwmsNotFound(PeakwmsRejected):
    """404: what the path names does not exist (a product, a sales order, a webhook)."""


class PeakwmsClient:
    def __init__(
        self,
        account: PeakwmsAccount,
        api_key: str,
        *,
        pacer: Pacer | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.account = account
        self.pacer = pacer  # shared with every client of the PeakWMS account (`ConnectionClients.peakwms`)
        wire.guard_httpx_log()
        self._http = httpx.Client(
            base_url=account.api_base.rstrip("/") + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)),
            # [seen P1] bearer key, JSON both ways.
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    # ---- the verbs -----------------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def ping(self) -> Any:
        """[seen P1] `GET /ping` checks the key: returns PeakWMS's answer; 401 raises `PermanentError` AUTH."""
        return self.get("ping")

    def key_set(
        self, path: str, page_size: int = MAX_PAGE_SIZE, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record of a keyset list (`product`, `stock`, or the full `…/keySet` path), lazily.

        [seen P1] `GET /{path}/keySet?LastId=&PageSize=` (≤ 250) answers `{page, pageSize, totalRecords, data}`;
        the next `LastId` is the largest internal `id` on the page; an empty page (P1) or a short one (P3) is the
        last. [guess] a bare list is read as the page. A full page whose ids do not move on is a paging loop and
        is refused rather than read for ever.
        """
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        list_path = path.rstrip("/") if path.rstrip("/").lower().endswith("keyset") else f"{path.rstrip('/')}/keySet"
        last: int | None = None
        for _ in range(MAX_PAGES):
            query = {**(params or {}), "PageSize": size}
            if last is not None:
                query["LastId"] = last
            page = wire.rows(self.get(list_path, query))
            yield from page
            if len(page) < size:
                return
            ids = [found for found in (wire.whole(row.get("id")) for row in page) if found is not None]
            following = max(ids) if ids else None
            if following is None or (last is not None and following <= last):
                raise PermanentError(
                    f"PeakWMS's list {list_path} does not move on after id {last} (a full page without higher ids)",
                    FailureClass.BUG,
                )
            last = following
        raise PermanentError(f"PeakWMS's list {list_path} did not end after {MAX_PAGES} pages", FailureClass.BUG)

    # ---- the wire ------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        # The pacer's turn comes before each try, outside it: its own RateLimited (its next slot is beyond its
        # `max_wait`) goes straight to the caller's backoff. A paced client waits a 429 out in its pacer, which the
        # 429 backed off; an unpaced one sleeps here.
        return retry_after.call_in_place(
            IN_PLACE,
            method,
            lambda: self._answer(method, path, self._send(method, path, params or {}, json)),
            before_each=None if self.pacer is None else self.pacer.wait_turn,
            sleep=self.pacer is None,
        )

    def _send(self, method: str, path: str, params: dict[str, Any], json: Any) -> httpx.Response:
        self.calls += 1
        content = None if json is None else jsonlib.dumps(json).encode()
        try:
            return self._http.request(method, path.lstrip("/"), params=params, content=content)
        except httpx.TimeoutException:
            raise RetryableError(f"PeakWMS timed out on {method} {path}") from None
        except httpx.TransportError as lost:
            # For a write this means "maybe committed": callers look before they create again.
            raise RetryableError(f"PeakWMS connection failed on {method} {path}: {type(lost).__name__}") from None

    def _answer(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        where = f"{method} {wire.scrub(path)}"
        if status == 429:
            hint = wire.retry_after_seconds(response)
            if self.pacer is not None:
                self.pacer.back_off(hint if hint is not None else DEFAULT_WAIT_SECONDS)
            raise RateLimited(f"PeakWMS throttled {where} (account {self.account.account})", hint)
        if status >= 500:
            hint = wire.retry_after_seconds(response)
            raise RetryableError(f"PeakWMS answered {status} on {where}", retry_after=hint)
        if status in (401, 403):
            raise PermanentError(
                f"PeakWMS refused the API key of account {self.account.account} ({status}) on {where}",
                FailureClass.AUTH,
            )
        if status >= 400:
            code, message = wire.error_fields(response)
            shown = f" errorCode {code}" if code else ""
            kind = PeakwmsNotFound if status == 404 else PeakwmsRejected
            raise kind(
                f"PeakWMS refused {where} ({status}{shown}): {message}", status=status, error_code=code, message=message
            )
        return wire.body(response)
