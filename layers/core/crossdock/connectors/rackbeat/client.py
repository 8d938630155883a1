"""HTTP client for the Rackbeat API (reference/rackbeat.md).

Translates every transport outcome into the error taxonomy: 429 and 5xx and timeouts are `RetryableError`
(with the server's `Retry-After`), 401/403 are `PermanentError(auth)`, 422 is `PermanentError(validation)` naming
the fields Rackbeat named. The API key travels only in the Authorization header and never appears in an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from crossdock import pacing, retry_after
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError, repeat_transient
from crossdock.pacing import Pacer

USER_AGENT = "Crossdock/1.0 (integrations@crossdock.example)"
# The deployment sets it (template parameter RackbeatTimeoutSeconds → RACKBEAT_TIMEOUT_SECONDS, read by each function).
DEFAULT_READ_TIMEOUT = 10.0
# A 429 without Retry-After still holds every caller on the account back this long.
DEFAULT_BACK_OFF_SECONDS = 1.0


def _timeout(seconds: float) -> httpx.Timeout:
    """A Rackbeat that has not answered in time is treated like a 5xx: the workflow retries with backoff, which
    costs less than holding the Lambda."""
    return httpx.Timeout(seconds, connect=min(3.0, seconds))


READ_ATTEMPTS = 3


class NotFound(PermanentError):
    def __init__(self, path: str) -> None:
        super().__init__(f"Rackbeat has no {path}", FailureClass.VALIDATION)


class Unprocessable(PermanentError):
    """422: Rackbeat refused the request; `errors` maps field paths to messages."""

    def __init__(self, path: str, errors: dict[str, list[str]]) -> None:
        detail = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in errors.items())
        super().__init__(f"Rackbeat refused {path}: {detail}", FailureClass.VALIDATION)
        self.errors = errors


def item_path(number: str) -> str:
    """Item numbers go into URLs encoded (`products/ABC%2F123`)."""
    return quote(number, safe="")


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after.parse(response.headers.get("retry-after"), pacing.clock.time())


class RackbeatClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        *,
        pacer: Pacer | None = None,
        timeout_seconds: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        # With a pacer every call waits for its slot, and a 429 holds back every caller sharing it: work runs at
        # Rackbeat's rate instead of into its 429s. The pacer is given (shared per account, see
        # `connections.clients`); this package knows nothing of where its state lives.
        self._pacer = pacer
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            transport=transport,
            timeout=_timeout(timeout_seconds),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                "API-Version": "latest",
            },
        )
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    def expecting(self, calls: int) -> contextlib.AbstractContextManager[None]:
        """The caller makes `calls` calls in a row in this block (a page's items): the pacer plans for them (the
        account's limiter claims their slots a lease at a time, `store.rate_limits`)."""
        return pacing.expecting(self._pacer, calls)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """One call. A read that meets a 5xx or a broken connection is repeated at once, twice at most, as
        Rackbeat's own client does: reads are safe to repeat, and a stage with several calls should not restart
        for one transient error. Writes are never repeated here; the workflow retries the whole idempotent stage.
        """
        attempts = READ_ATTEMPTS if method == "GET" else 1
        return repeat_transient(lambda: self._request_once(method, path, params=params, json=json), attempts)

    def _request_once(self, method: str, path: str, *, params: dict[str, Any] | None, json: Any) -> Any:
        if self._pacer is not None:
            self._pacer.wait_turn()
        self.calls += 1
        try:
            response = self._http.request(method, path.lstrip("/"), params=params, json=json)
        except httpx.TimeoutException as timeout:
            raise RetryableError(f"Rackbeat timed out on {method} {path}") from timeout
        except httpx.TransportError as lost:
            # For a write this means "maybe committed": callers look before they create again.
            raise RetryableError(f"Rackbeat connection failed on {method} {path}: {type(lost).__name__}") from lost
        return self._answer(method, path, response)

    def _answer(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 429:
            hint = _retry_after(response)
            if self._pacer is not None:
                # Clamped: one absurd header must not hold every caller on the account back for hours.
                self._pacer.back_off(retry_after.seconds(hint, DEFAULT_BACK_OFF_SECONDS))
            raise RateLimited(f"Rackbeat throttled {method} {path}", hint)
        if status >= 500:
            raise RetryableError(f"Rackbeat answered {status} on {method} {path}", retry_after=_retry_after(response))
        if status in (401, 403):
            raise PermanentError(f"Rackbeat refused the API key ({status}) on {method} {path}", FailureClass.AUTH)
        if status == 404:
            raise NotFound(path)
        if status == 422:
            body = _json(response)
            raise Unprocessable(path, body.get("errors", {}) if isinstance(body, dict) else {})
        if status >= 400:
            raise PermanentError(f"Rackbeat answered {status} on {method} {path}")
        return _json(response)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, params=params or None, json=body if body is not None else {})

    def put(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PUT", path, params=params or None, json=body)

    def delete(self, path: str, **params: Any) -> Any:
        return self.request("DELETE", path, params=params or None)

    def find_one(self, path: str, plural: str, field: str, value: str) -> dict[str, Any] | None:
        """The record whose `field` equals `value` exactly, or None.

        Tries `simple_filter[field]` first; where Rackbeat says the property is not filterable, falls back to a
        free-text `search` and compares exactly on our side (the fact sheet lists both as possible).
        """
        try:
            rows = self.get(path, **{f"simple_filter[{field}]": value, "limit": 50})[plural]
        except Unprocessable:
            rows = list(self.iterate(path, plural, search=value))
        matches = [row for row in rows if str(row.get(field, "")).lower() == value.lower()]
        return matches[0] if matches else None

    def iterate(self, path: str, plural: str, **params: Any) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self.get(path, **params, page=page, limit=1000)
            yield from body[plural]
            if page >= int(body.get("pages", 1)):
                return
            page += 1


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as garbled:
        raise RetryableError(f"Rackbeat sent a body that is not JSON ({response.status_code})") from garbled
