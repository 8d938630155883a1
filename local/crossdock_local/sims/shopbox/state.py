"""What the Shopbox simulator remembers: logins, tokens and one `ClientState` per company (tenant).

The bottom of the package: every other module reads and writes these records and this module imports none of
them. Records are plain dicts shaped as the API shows them, plus `_private` keys the rendering leaves out; money is
kept as integer øre, as Shopbox sends it. Every uid comes from one series (`ShopboxState.next_uid`), so a product
uid is never also a variance or branch uid and a client mixing them up is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Record = dict[str, Any]
StockKey = tuple[int, int, int | None]  # (branch, product, product_variance or None)


@dataclass
class Login:
    """A Shopbox user (an e-mail and a password) and the clients (companies) it may act for."""

    uid: int
    username: str
    password: str = field(repr=False)
    first_name: str = ""
    last_name: str = ""
    lang: str = "da"
    clients: list[int] = field(default_factory=list)

    def account(self) -> Record:
        """The `account` of a log-in's answer."""
        return {
            "uid": self.uid,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "lang": self.lang,
        }


@dataclass
class Token:
    """A token a caller puts in the query string: a login's `accessToken` (expires) or a client's `api-token`.

    The value is a secret, so it stays out of `repr` (and so out of logs and assertion messages)."""

    value: str = field(repr=False)
    kind: Literal["login", "api"]
    login: int | None  # the login's uid (login tokens)
    client: int | None  # the one client an API token belongs to
    issued_at: float
    expires_at: float | None  # on the simulator's clock; None never expires

    def live(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass
class ClientState:
    """One Shopbox client (company): its branches and their cash registers, tags, products, stock and baskets."""

    uid: int
    name: str
    branches: dict[int, Record] = field(default_factory=dict)
    registers: dict[int, Record] = field(default_factory=dict)  # cash registers, each naming its `branch`
    tags: dict[int, Record] = field(default_factory=dict)
    products: dict[int, Record] = field(default_factory=dict)
    inventories: dict[StockKey, Record] = field(default_factory=dict)
    baskets: dict[int, Record] = field(default_factory=dict)
    # Where the optional stock-delta push goes (push.py); its secret travels in the URL, so never shown.
    push_url: str | None = field(default=None, repr=False)

    def stock(self, key: StockKey) -> int:
        """The quantity of (branch, product, variance); 0 where it never had a row."""
        row = self.inventories.get(key)
        return int(row["quantity"]) if row is not None else 0

    def set_stock(self, key: StockKey, quantity: int, new_uid: Callable[[], int]) -> Record:
        """Set the quantity of (branch, product, variance), making its row on first use (stock rows are shared by
        the inventory API and the sales at the till, which draw from them)."""
        row = self.inventories.get(key)
        if row is None:
            branch, product, variance = key
            row = {"uid": new_uid(), "branch": branch, "product": product, "product_variance": variance}
            self.inventories[key] = row
        row["sku_code"] = self._sku_of(key)
        row["quantity"] = quantity
        return row

    def _sku_of(self, key: StockKey) -> str | None:
        product = self.products.get(key[1])
        if product is None:
            return None
        for variance in product["product_variances"]:
            if variance["uid"] == key[2]:
                sku: str | None = variance.get("sku_code")
                return sku
        return product.get("sku_code")


@dataclass
class ShopboxState:
    logins: dict[str, Login] = field(default_factory=dict)  # by lower-cased username
    clients: dict[int, ClientState] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict, repr=False)
    last_uid: int = 100

    def next_uid(self) -> int:
        self.last_uid += 1
        return self.last_uid

    def basket(self, uid: int) -> tuple[ClientState, Record] | None:
        """The client and basket of a basket uid (uids are unique across clients), or None."""
        for client in self.clients.values():
            if uid in client.baskets:
                return client, client.baskets[uid]
        return None
