"""The connection's Shopbox account: which client (tenant) it acts for, and where the API answers."""

from __future__ import annotations

from crossdock.connections.model import Account

SHOPBOX_API = "https://api.shopbox.com/api/v3"


class ShopboxAccount(Account):
    # Per connection so the same client talks to the real service, its sandbox or a simulator.
    api_base: str = SHOPBOX_API
    # The Shopbox client (company) uid chosen after login (`/clients/myclients`): it travels as `client=` on every
    # call and names the tenant, so it is the account's identity.
    client_uid: str
    client_name: str | None = None
    # The login e-mail; None when the connection uses a long-lived API token instead of a login.
    username: str | None = None

    @property
    def identity(self) -> str:
        return self.client_uid
