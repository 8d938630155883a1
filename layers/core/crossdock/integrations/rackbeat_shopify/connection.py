"""A `rackbeat_shopify` connection: one Shopify shop and one Rackbeat account, with this kind's settings."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import model_validator

from crossdock.connections.model import Accounts, Connection
from crossdock.connectors.rackbeat.account import RACKBEAT_API, RackbeatAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings

KIND: Literal["rackbeat_shopify"] = "rackbeat_shopify"

# How releases before the generic connection stored the accounts: flat fields on the connection item. Such items
# (and in-flight workflow inputs built from them) still load: the fields are lifted into `accounts`.
_LEGACY_SHOPIFY = {"shop_domain": "shop_domain", "shopify_api_base": "api_base", "shopify_client_id": "client_id"}
_LEGACY_RACKBEAT = {"rackbeat_account_id": "account_id", "rackbeat_api_base": "api_base"}


class RackbeatShopifyAccounts(Accounts):
    # A shop is in one connection of this kind; a Rackbeat account may serve several shops (SPEC §1.1).
    claimed: ClassVar[frozenset[str]] = frozenset({"shopify"})

    shopify: ShopifyAccount
    rackbeat: RackbeatAccount = RackbeatAccount()


class RackbeatShopifyConnection(Connection):
    kind: Literal["rackbeat_shopify"] = KIND
    accounts: RackbeatShopifyAccounts
    settings: RackbeatShopifySettings

    @model_validator(mode="before")
    @classmethod
    def _lift_legacy_accounts(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "accounts" in data:
            return data
        fields = dict(data)
        shopify = {new: fields.pop(old) for old, new in _LEGACY_SHOPIFY.items() if old in fields}
        rackbeat = {new: fields.pop(old) for old, new in _LEGACY_RACKBEAT.items() if old in fields}
        if rackbeat.get("api_base") is None:
            rackbeat["api_base"] = RACKBEAT_API
        fields.setdefault("kind", KIND)
        return {**fields, "accounts": {"shopify": shopify, "rackbeat": rackbeat}}

    @property
    def shop_domain(self) -> str:
        # The shop is what operators, logs and the Shopify app call this connection by.
        return self.accounts.shopify.shop_domain
