"""A connection's Webshipper bearer token for a call, and a new one when Webshipper answers 401.

A connection holds either a stored API token (never renewed: a 401 with it is the merchant's to fix) or the user's
password and the current password-grant token. The grant's lifetime is not documented [guess: 2 h, the
simulator's default]; a 401 is the sign. The new grant is single-flight per connection across containers, as the
Shopbox login is (`crossdock.login_tokens`), so a burst of 401s does not become a burst of grants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.login import LoginRefused, authenticate
from crossdock.connectors.webshipper.secret_names import ACCESS_TOKEN, API_TOKEN, PASSWORD
from crossdock.login_tokens import LoginFailed, LoginSecrets, LoginTokens
from crossdock.ports import Leases, Secrets


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    renewable: bool  # a grant's token (renewed on 401), not a stored API token


class WebshipperTokens(LoginTokens[Token]):
    """The token of one connection's Webshipper client (one per connection and container)."""

    system = "Webshipper"
    secret_names = LoginSecrets(API_TOKEN, ACCESS_TOKEN, PASSWORD)
    lease_prefix = "webshipper-token"
    reconnect_hint = "the user may have been deleted or its password changed; the merchant must reconnect"

    def __init__(
        self,
        connection_id: str,
        account: WebshipperAccount,
        secrets: Secrets,
        leases: Leases,
        *,
        holder: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            connection_id, secrets, leases, holder=holder, username=account.username, owner=f"account {account.account}"
        )
        self._api_base = account.api_base
        self._transport = transport

    def api_token(self, value: str) -> Token:
        return Token(value, renewable=False)

    def login_token(self, value: str) -> Token:
        return Token(value, renewable=True)

    def renewable(self, credential: Token) -> bool:
        return credential.renewable

    def value(self, credential: Token) -> str:
        return credential.value

    def log_in(self, username: str, password: str) -> str:
        try:
            return authenticate(self._api_base, username, password, transport=self._transport).access_token
        except LoginRefused as refused:
            raise LoginFailed(refused.reason) from None
