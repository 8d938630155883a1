"""Logging in to Shopbox with the merchant's e-mail and password, and the companies (clients) a login may act for
(reference/shopbox.md "Auth" [seen S1, S3]). Used by the install (before anything is saved) and by `tokens` when a
login token has expired.
"""

from __future__ import annotations

import httpx

from crossdock.connectors.shopbox import wire
from crossdock.connectors.shopbox.shapes import ClientChoice, Login
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError

LOGIN_TIMEOUT = httpx.Timeout(15.0, connect=3.0)


class LoginRefused(PermanentError):
    """Shopbox refused the e-mail and password (or the token): the message names neither."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, FailureClass.AUTH)


def _http(api_base: str, transport: httpx.BaseTransport | None) -> httpx.Client:
    wire.guard_httpx_log()  # `my_clients` sends the token in the URL, which httpx logs
    return httpx.Client(
        base_url=api_base.rstrip("/") + "/",
        transport=transport,
        timeout=LOGIN_TIMEOUT,
        headers={"Accept": "application/json"},
    )


def _failed(what: str, response: httpx.Response) -> Exception:
    status = response.status_code
    if status == 429:
        return RateLimited(f"Shopbox throttled {what}", wire.retry_after_seconds(response))
    if status >= 500:
        return RetryableError(f"Shopbox answered {status} to {what}")
    if status in (400, 401, 403, 422):
        return LoginRefused(f"Shopbox refused {what} ({status}): {wire.error_message(response)}")
    return PermanentError(f"Shopbox answered {status} to {what}: {wire.error_message(response)}")


def authenticate(api_base: str, username: str, password: str, *, transport: httpx.BaseTransport | None = None) -> Login:
    """A login token for `username`; `LoginRefused` for a wrong e-mail or password."""
    with _http(api_base, transport) as http:
        try:
            response = http.post(
                "authenticate/credentials",
                params={"lang": "da"},
                json={"username": username, "password": password, "remember_me": None},
            )
        except httpx.TransportError as lost:
            raise RetryableError(f"Shopbox could not be reached to log in: {type(lost).__name__}") from lost
    if response.status_code not in (200, 201):
        raise _failed(f"the login of {username}", response)
    answer = wire.unwrap(wire.body(response))
    token = answer.get("accessToken") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise RetryableError("Shopbox's login answer carried no accessToken")
    account = answer.get("account") if isinstance(answer.get("account"), dict) else {}
    uid = account.get("uid")
    return Login(
        access_token=token, account_uid=None if uid is None else str(uid), username=account.get("username", username)
    )


def my_clients(
    api_base: str, token: str, *, api_token: bool = False, transport: httpx.BaseTransport | None = None
) -> list[ClientChoice]:
    """The companies the login (or API token) may act for, every page."""
    credential = {"api-token" if api_token else "accessToken": token}
    found: list[ClientChoice] = []
    page = 1
    with _http(api_base, transport) as http:
        while True:
            try:
                response = http.get("clients/myclients", params={**credential, "page": page, "per-page": 100})
            except httpx.TransportError as lost:
                # `from None`: the request URL (which httpx may name) carries the token.
                raise RetryableError(f"Shopbox could not be reached: {type(lost).__name__}") from None
            if response.status_code != 200:
                raise _failed("the list of clients", response)
            answer = wire.body(response)
            rows = wire.rows(answer)
            found.extend(ClientChoice.model_validate(row) for row in rows)
            if not rows or wire.last_page(answer, page, 100, len(rows)):
                return found
            page += 1
