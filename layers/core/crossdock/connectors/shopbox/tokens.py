"""A connection's Shopbox credential for a call, and a new login token when Shopbox answers 401.

A connection holds either a long-lived `api-token` (never refreshed: a 401 with it is the merchant's to fix) or the
login's password and its current login token. Shopbox does not document how long a login token lives [guess: the
simulator expires it after 24 h]; a 401 is the sign. The new login is single-flight per connection across
containers (`crossdock.login_tokens`, as the Shopify token refresh is).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.login import LoginRefused, authenticate
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.login_tokens import LoginFailed, LoginSecrets, LoginTokens
from crossdock.ports import Leases, Secrets


@dataclass(frozen=True)
class Credential:
    """The query parameter a call carries: `accessToken` (a login token) or `api-token`."""

    parameter: str
    value: str = field(repr=False)

    @property
    def renewable(self) -> bool:
        return self.parameter == "accessToken"


class ShopboxTokens(LoginTokens[Credential]):
    """The credential of one connection's Shopbox client (one per connection and container)."""

    system = "Shopbox"
    secret_names = LoginSecrets(SHOPBOX_API_TOKEN, SHOPBOX_ACCESS_TOKEN, SHOPBOX_PASSWORD)
    lease_prefix = "shopbox-token"
    reconnect_hint = "the merchant must give the new password"

    def __init__(
        self,
        connection_id: str,
        account: ShopboxAccount,
        secrets: Secrets,
        leases: Leases,
        *,
        holder: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            connection_id,
            secrets,
            leases,
            holder=holder,
            username=account.username,
            owner=f"client {account.client_uid}",
        )
        self._api_base = account.api_base
        self._transport = transport

    def api_token(self, value: str) -> Credential:
        return Credential("api-token", value)

    def login_token(self, value: str) -> Credential:
        return Credential("accessToken", value)

    def renewable(self, credential: Credential) -> bool:
        return credential.renewable

    def value(self, credential: Credential) -> str:
        return credential.value

    def log_in(self, username: str, password: str) -> str:
        try:
            return authenticate(self._api_base, username, password, transport=self._transport).access_token
        except LoginRefused as refused:
            raise LoginFailed(refused.reason) from None
