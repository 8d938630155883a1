"""A `rackbeat_shopbox` connection: one Shopbox client (company) and one Rackbeat account, with this kind's settings."""

from __future__ import annotations

from typing import ClassVar, Literal

from crossdock.connections.model import Accounts, Connection
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

KIND: Literal["rackbeat_shopbox"] = "rackbeat_shopbox"


class RackbeatShopboxAccounts(Accounts):
    # A Shopbox client's sales go to one Rackbeat account only (two connections would each transfer every basket);
    # a Rackbeat account may have a Shopbox connection next to its Shopify shops.
    claimed: ClassVar[frozenset[str]] = frozenset({"shopbox"})

    rackbeat: RackbeatAccount
    shopbox: ShopboxAccount


class RackbeatShopboxConnection(Connection):
    kind: Literal["rackbeat_shopbox"] = KIND
    accounts: RackbeatShopboxAccounts
    settings: RackbeatShopboxSettings

    @property
    def client_uid(self) -> str:
        # The Shopbox client is what operators, logs and Shopbox's own calls (`client=<uid>`) name the connection by.
        return self.accounts.shopbox.client_uid
