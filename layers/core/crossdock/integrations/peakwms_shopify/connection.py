"""A `peakwms_shopify` connection: one Shopify shop and the PeakWMS account that keeps its stock (SPEC §4).

The shop is claimed (one connection of this kind per shop: two would each create every order in PeakWMS). The
PeakWMS account is not: several shops may share one PeakWMS stock, and exactly one of them is its `main_shop`
(`install` keeps that rule).

The merchant gives the shop as `web_url` (`web_url.shop_domain_of` turns it into the account's `shop_domain`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from crossdock.connections.model import Accounts, Connection
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings

KIND: Literal["peakwms_shopify"] = "peakwms_shopify"


class PeakwmsShopifyAccounts(Accounts):
    claimed: ClassVar[frozenset[str]] = frozenset({"shopify"})

    peakwms: PeakwmsAccount
    shopify: ShopifyAccount


class PeakwmsShopifyConnection(Connection):
    kind: Literal["peakwms_shopify"] = KIND
    accounts: PeakwmsShopifyAccounts
    settings: PeakwmsShopifySettings

    @property
    def shop_domain(self) -> str:
        return self.accounts.shopify.shop_domain

    @property
    def peakwms_account(self) -> str:
        return self.accounts.peakwms.account
