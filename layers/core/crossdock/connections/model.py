"""A connection: one configured integration between two accounts (SPEC, top)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from crossdock.connections.settings import RackbeatShopifySettings


class ConnectionState(StrEnum):
    INSTALLING = "installing"
    ACTIVE = "active"
    PAUSED = "paused"
    UNINSTALLED = "uninstalled"


class Connection(BaseModel):
    """What every flow needs to know about a connection; secrets are kept apart (see `store.secrets`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str = "rackbeat_shopify"
    state: ConnectionState = ConnectionState.ACTIVE
    shop_domain: str
    rackbeat_account_id: int | None = None
    # Base URLs are per connection so the same client talks to the real service or to a simulator.
    shopify_api_base: str | None = None
    rackbeat_api_base: str = "https://app.rackbeat.com/api/"
    settings: RackbeatShopifySettings
    settings_version: int = 1

    @property
    def shopify_base_url(self) -> str:
        return self.shopify_api_base or f"https://{self.shop_domain}"
