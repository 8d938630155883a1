"""The connection's Shopify account: the shop, where its Admin API answers, and the app it installed."""

from __future__ import annotations

from crossdock.connections.model import Account


class ShopifyAccount(Account):
    shop_domain: str
    # Per connection so the same client talks to the real shop or to a simulator.
    api_base: str | None = None
    # The Shopify app the shop installs (OAuth); its client secret is the SHOPIFY_APP_SECRET secret.
    client_id: str | None = None

    @property
    def identity(self) -> str:
        return self.shop_domain

    @property
    def base_url(self) -> str:
        return self.api_base or f"https://{self.shop_domain}"
