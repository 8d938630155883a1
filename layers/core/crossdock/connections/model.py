"""A connection: one configured integration between two accounts (SPEC, top)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings


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
    # The Shopify app the shop installs (OAuth); its client secret is the SHOPIFY_APP_SECRET secret.
    shopify_client_id: str | None = None
    settings: RackbeatShopifySettings
    settings_version: int = 1
    # When the current version was saved (event-log stamp); an event received before it is handled with the
    # version that was in force when it arrived.
    settings_saved_at: str | None = None

    @property
    def shopify_base_url(self) -> str:
        return self.shopify_api_base or f"https://{self.shop_domain}"
