"""HTTP client for the Shopify Admin GraphQL API (reference/shopify.md, "Versions and API style", "Rate limits").

Shopify limits an app per shop with a leaky bucket of cost points and reports the bucket on every response
(`extensions.cost.throttleStatus`). The client remembers that report and, before a call, waits until the bucket
has refilled enough for the call's expected cost, so throttled answers stay rare; a THROTTLED answer (HTTP 200 or
429) is waited out and repeated, a few times at most, then raised as `RateLimited` whose `retry_after` is the
bucket's restore time for the call (the workflow or queue waits that long, not a schedule of its own). Other
failures become the error taxonomy: 5xx and timeouts are `RetryableError`, a refused token is
`PermanentError(auth)`, a GraphQL error in our own document is a bug.
The access token travels only in its header and never appears in an error.

Expiring offline tokens: the client asks its token source for the token before each call, and when Shopify answers
401 it asks once for a replacement (the token may have expired or been refreshed elsewhere) and repeats the call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from crossdock import pacing, retry_after
from crossdock.connectors.shopify.webhooks import API_VERSION
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError, repeat_transient

TIMEOUT = httpx.Timeout(15.0, connect=3.0)
THROTTLED_ATTEMPTS = 6
READ_ATTEMPTS = 3


class AccessTokens(Protocol):
    """Where a client gets the shop's access token (see `connections.shopify_tokens`)."""

    def current(self) -> str:
        """A token to use now (refreshed first when it is about to expire)."""
        ...

    def replace_rejected(self, rejected: str) -> str | None:
        """A token to use instead of `rejected`, which Shopify answered with 401; None when there is none."""
        ...


class FixedToken:
    """A non-expiring token: nothing replaces it when Shopify refuses it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    def replace_rejected(self, rejected: str) -> str | None:
        return None


@dataclass
class Bucket:
    """What Shopify last told us about this shop's cost bucket, and when."""

    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    seen_at: float | None = None

    def predicted(self, now: float) -> float:
        if self.seen_at is None:
            return self.maximum
        return min(self.maximum, self.available + (now - self.seen_at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` points are available (0 when they are now)."""
        return retry_after.restore_seconds(min(cost, self.maximum), self.predicted(now), self.restore_rate)


class ShopifyAdmin:
    def __init__(
        self,
        api_base: str,
        shop_domain: str,
        access_token: str | AccessTokens,
        transport: httpx.BaseTransport | None = None,
    ):
        self.shop_domain = shop_domain
        self._tokens = FixedToken(access_token) if isinstance(access_token, str) else access_token
        self._http = httpx.Client(
            base_url=api_base.rstrip("/"),
            transport=transport,
            timeout=TIMEOUT,
            headers={"Content-Type": "application/json"},
        )
        self._url = f"/admin/api/{API_VERSION}/graphql.json"
        self._bucket = Bucket()
        self._lock = threading.Lock()
        self.calls = 0
        self.throttled = 0

    def close(self) -> None:
        self._http.close()

    def run(self, document: str, variables: dict[str, Any] | None = None, *, expected_cost: float = 10.0) -> Any:
        """The `data` of one operation. Queries meeting a 5xx are repeated at once (reads are safe); mutations
        are not repeated here: callers make them idempotent (look first, or an `@idempotent` key) and retry."""
        is_mutation = document.lstrip().startswith("mutation")
        return repeat_transient(
            lambda: self._run_paced(document, variables or {}, expected_cost), 1 if is_mutation else READ_ATTEMPTS
        )

    def _run_paced(self, document: str, variables: dict[str, Any], expected_cost: float) -> Any:
        for _ in range(THROTTLED_ATTEMPTS):
            with self._lock:
                wait = self._bucket.wait_for(expected_cost, pacing.clock.monotonic())
            if wait > 0:
                pacing.clock.sleep(wait)
            body = self._post(document, variables)
            if not _is_throttled(body):
                return _data(body)
            self.throttled += 1
            expected_cost = max(expected_cost, _requested_cost(body))
        # Shopify's own word on when the call fits: the throttle status of its last answer, refilled at its rate.
        with self._lock:
            restored = self._bucket.wait_for(expected_cost, pacing.clock.monotonic())
        raise RateLimited(f"Shopify kept throttling {self.shop_domain}", retry_after=restored)

    def _post(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        token = self._tokens.current()
        response = self._send(document, variables, token)
        if response.status_code == 401:
            # Expired, or already refreshed by another container: one more try with the replacement, if any.
            replacement = self._tokens.replace_rejected(token)
            if replacement is not None and replacement != token:
                response = self._send(document, variables, replacement)
        status = response.status_code
        if status in (401, 403):
            raise PermanentError(
                f"Shopify refused the access token of {self.shop_domain} ({status})", FailureClass.AUTH
            )
        if status >= 500:
            raise RetryableError(f"Shopify answered {status} for {self.shop_domain}")
        try:
            body = response.json()
        except ValueError as garbled:
            raise RetryableError(f"Shopify sent a body that is not JSON ({status})") from garbled
        if status == 429 and not _is_throttled(body):
            body = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], **body}
        elif status >= 400:
            raise PermanentError(f"Shopify answered {status} for {self.shop_domain}", FailureClass.BUG)
        self._remember(body)
        return body if isinstance(body, dict) else {}

    def _send(self, document: str, variables: dict[str, Any], token: str) -> httpx.Response:
        self.calls += 1
        try:
            return self._http.post(
                self._url,
                json={"query": document, "variables": variables},
                headers={"X-Shopify-Access-Token": token},
            )
        except httpx.TimeoutException as timeout:
            raise RetryableError(f"Shopify timed out for {self.shop_domain}") from timeout
        except httpx.TransportError as lost:
            raise RetryableError(f"Shopify connection failed for {self.shop_domain}: {type(lost).__name__}") from lost

    def _remember(self, body: Any) -> None:
        status = (((body or {}).get("extensions") or {}).get("cost") or {}).get("throttleStatus")
        if not status:
            return
        with self._lock:
            self._bucket = Bucket(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                seen_at=pacing.clock.monotonic(),
            )


def _is_throttled(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
    )


def _requested_cost(body: dict[str, Any]) -> float:
    cost = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost")
    return float(cost) if isinstance(cost, int | float) else 0.0


def _data(body: dict[str, Any]) -> Any:
    errors = body.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, dict) else str(first)
        code = ((first.get("extensions") or {}).get("code")) if isinstance(first, dict) else None
        if code == "ACCESS_DENIED":
            # The token lacks a scope (a custom app the merchant made without ticking it): theirs to fix, not ours.
            raise PermanentError(f"Shopify refused the request: {message} ({code})", FailureClass.AUTH)
        raise PermanentError(f"Shopify refused the request: {message} ({code})", FailureClass.BUG)
    return body.get("data")
