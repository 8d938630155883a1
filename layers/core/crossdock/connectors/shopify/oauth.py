"""Shopify app install: the OAuth authorization-code grant and expiring offline tokens (reference/shopify.md,
"App install").

Shopify signs the install request and the callback with the app's client secret (hex HMAC-SHA256 over the sorted
query); both are checked in constant time and only within a short timestamp window, so a captured link cannot be
replayed later. The shop domain is checked against Shopify's own pattern before any URL is built from it: a request
naming another host must never make Crossdock call that host (SSRF).

Codes, client secrets and tokens travel only in request bodies; no error raised here contains one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from crossdock import retry_after
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError

SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
# "reject timestamps older than ~90 s"; the same margin the other way absorbs clock skew without allowing links
# minted in advance.
TIMESTAMP_WINDOW = 90.0
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
_SIGNATURE_PARAMS = frozenset({"hmac", "signature"})


def is_shop_domain(shop: str | None) -> bool:
    return bool(shop) and SHOP_DOMAIN.fullmatch(shop or "") is not None


def query_signature(params: Mapping[str, str], secret: str) -> str:
    """Shopify's hex HMAC over a request's query: `hmac` and `signature` dropped, the rest sorted, `k=v` joined."""
    message = "&".join(f"{key}={params[key]}" for key in sorted(params) if key not in _SIGNATURE_PARAMS)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def query_is_signed(params: Mapping[str, str], secrets: Iterable[str]) -> bool:
    """True when `params["hmac"]` was made with one of `secrets` (old and new during a rotation)."""
    given = params.get("hmac", "")
    if not given:
        return False
    valid = False
    for secret in secrets:
        # No early exit: the time taken must not reveal which secret matched.
        # As bytes: compare_digest refuses a str with non-ASCII characters, and `hmac` is whatever the query says.
        valid |= hmac.compare_digest(
            query_signature(params, secret).encode(), given.lower().encode("utf-8", "surrogatepass")
        )
    return valid


def timestamp_is_fresh(timestamp: str | None, now: float, window: float = TIMESTAMP_WINDOW) -> bool:
    try:
        stamped = float(timestamp or "")
    except ValueError:
        return False
    return abs(now - stamped) <= window


# -- scopes ----------------------------------------------------------------------------------------------------------


def missing_scopes(required: Iterable[str], granted: str) -> list[str]:
    """The required scopes the granted list (Shopify's comma-separated `scope`) does not cover, sorted."""
    have = {scope.strip() for scope in granted.split(",") if scope.strip()}
    return sorted(scope for scope in required if scope not in have and not covered_by_write(scope, have))


def covered_by_write(scope: str, scopes: Iterable[str]) -> bool:
    return scope.startswith("read_") and "write_" + scope.removeprefix("read_") in set(scopes)


def authorize_url(base_url: str, client_id: str, scopes: Iterable[str], redirect_uri: str, state: str) -> str:
    """Where the shop owner approves the app (offline access: no `grant_options[]=per-user`)."""
    query = urlencode(
        {"client_id": client_id, "scope": ",".join(sorted(scopes)), "redirect_uri": redirect_uri, "state": state}
    )
    return f"{base_url.rstrip('/')}/admin/oauth/authorize?{query}"


# -- the token endpoint ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrant:
    """What Shopify's token endpoint granted. Expiring offline tokens carry a refresh token and expiry times
    (epoch seconds); non-expiring ones carry neither. Secrets stay out of `repr`, so a logged grant leaks nothing."""

    access_token: str = field(repr=False)
    scope: str
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_at: float | None = None


class GrantRefused(PermanentError):
    """Shopify answered the token request with a 4xx: the code or refresh token is not (or no longer) valid, or the
    client credentials are wrong. Repeating the same request cannot help."""

    def __init__(self, shop_domain: str, grant_type: str, status: int, error: str) -> None:
        super().__init__(
            f"Shopify refused the {grant_type} grant for {shop_domain} ({status} {error})", FailureClass.AUTH
        )
        self.error = error


class ShopifyOAuth:
    """Shopify's token endpoint for one shop and one app."""

    def __init__(
        self,
        base_url: str,
        shop_domain: str,
        client_id: str,
        client_secret: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.shop_domain = shop_domain
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def exchange_code(self, code: str, now: float) -> TokenGrant:
        return self._grant("authorization_code", {"code": code}, now)

    def refresh(self, refresh_token: str, now: float) -> TokenGrant:
        """A new access token and a new refresh token. Shopify keeps accepting `refresh_token` until the new one is
        used, so when this answer is lost, asking again with the same one is safe."""
        return self._grant("refresh_token", {"grant_type": "refresh_token", "refresh_token": refresh_token}, now)

    def _grant(self, grant_type: str, fields: dict[str, str], now: float) -> TokenGrant:
        body = {"client_id": self._client_id, "client_secret": self._client_secret, **fields}
        try:
            response = self._http.post("/admin/oauth/access_token", json=body, headers={"Accept": "application/json"})
        except httpx.TimeoutException as timeout:
            raise RetryableError(f"Shopify's token endpoint timed out for {self.shop_domain}") from timeout
        except httpx.TransportError as lost:
            raise RetryableError(
                f"Shopify's token endpoint failed for {self.shop_domain}: {type(lost).__name__}"
            ) from lost
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"Shopify's token endpoint is rate limiting {self.shop_domain}",
                retry_after=retry_after.parse(response.headers.get("Retry-After"), now),
            )
        if status >= 500:
            raise RetryableError(f"Shopify's token endpoint answered {status} for {self.shop_domain}")
        answer = _json_object(response)
        if status >= 400:
            raise GrantRefused(self.shop_domain, grant_type, status, str(answer.get("error") or "no error code"))
        return _token_grant(answer, now, self.shop_domain)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _token_grant(answer: dict[str, Any], now: float, shop_domain: str) -> TokenGrant:
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentError(f"Shopify's token answer for {shop_domain} has no access_token", FailureClass.BUG)

    def at(seconds: Any) -> float | None:
        return now + float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None

    refresh = answer.get("refresh_token")
    return TokenGrant(
        access_token=token,
        scope=str(answer.get("scope") or ""),
        expires_at=at(answer.get("expires_in")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_token_expires_at=at(answer.get("refresh_token_expires_in")),
    )
