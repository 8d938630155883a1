"""The password grant: a bearer token for the merchant's Webshipper user (reference/webshipper.md "Auth").

`POST /v2/oauth/token?grant_type=password&username=<email>&password=<pw>` answers `{"access_token"}` [seen W5]; the
credentials sit in the query string, so no message of this module quotes the URL. Used by the install (to prove the
e-mail and password before anything is saved) and by `tokens` when a grant's token has expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from crossdock.connectors.webshipper import wire
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError

LOGIN_TIMEOUT = httpx.Timeout(15.0, connect=3.0)


class LoginRefused(PermanentError):
    """Webshipper refused the e-mail and password: the message names neither."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, FailureClass.AUTH)


@dataclass(frozen=True)
class Grant:
    access_token: str = field(repr=False)
    # [guess] Doorkeeper's seconds (the simulator says 7200); informational only — a 401 is what renews.
    expires_in: int | None = None


def authenticate(api_base: str, username: str, password: str, *, transport: httpx.BaseTransport | None = None) -> Grant:
    """A token for `username`; `LoginRefused` for a wrong e-mail or password (OAuth's 400 `invalid_grant`, or a
    401/403/422 — the error shape is not documented)."""
    wire.guard_httpx_log()
    with httpx.Client(base_url=api_base.rstrip("/") + "/", transport=transport, timeout=LOGIN_TIMEOUT) as http:
        try:
            response = http.post(
                "oauth/token",
                params={"grant_type": "password", "username": username, "password": password},
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as lost:
            # `from None`: the exception may carry the URL, which carries the password.
            raise RetryableError(f"Webshipper could not be reached to log in: {type(lost).__name__}") from None
    status = response.status_code
    if status == 429:
        raise RateLimited("Webshipper throttled the login", wire.retry_after_seconds(response))
    if status >= 500:
        raise RetryableError(f"Webshipper answered {status} to the login")
    if status in (400, 401, 403, 422):
        raise LoginRefused(f"Webshipper refused the login of {username} ({status}): {_oauth_reason(response)}")
    if status not in (200, 201):
        raise PermanentError(f"Webshipper answered {status} to the login: {wire.error_message(response)}")
    answer = wire.body(response)
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise RetryableError("Webshipper's login answer carried no access_token")
    expires = answer.get("expires_in")
    return Grant(token, expires if isinstance(expires, int) and not isinstance(expires, bool) else None)


def _oauth_reason(response: httpx.Response) -> str:
    """OAuth's `error` code (RFC 6749 §5.2) when given, else the JSON:API detail."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return wire.scrub(answer["error"])
    return wire.error_message(response)
