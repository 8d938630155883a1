"""Shopbox sales as the tests of the `rackbeat_shopbox` sales path see them: baskets in the wire shape of the fact
sheet (reference/shopbox.md: list rows without lines, the detail with its lines under `sales`, integer øre incl.
VAT), read through the Shopbox connector's own shapes; a Shopbox client that pages a basket list the way the API
does (newest first, or oldest first, rows shifting while sales arrive, page 1 answering 500); a connection of the
kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.shapes import Basket, BasketRow
from crossdock.errors import RetryableError
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

CLIENT_UID = "4711"
BRANCH = 55  # "Strøget"
REGISTER = 551
OTHER_BRANCH = 56  # "Aarhus C"
OTHER_REGISTER = 561


def connection(connection_id: str = "c-shopbox", **settings: Any) -> RackbeatShopboxConnection:
    values: dict[str, Any] = {
        "uid_field_id": "7",
        "variant_field_id": "8",
        "locations": {str(BRANCH): "L1"},
        "sales": {"customer_number": 900},
        **settings,
    }
    return RackbeatShopboxConnection(
        id=connection_id,
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=1), shopbox=ShopboxAccount(client_uid=CLIENT_UID)
        ),
        settings=RackbeatShopboxSettings.model_validate(values),
    )


def wire_basket(
    uid: int,
    at: int,
    *,
    lines: list[dict[str, Any]] | None = None,
    branch: int = BRANCH,
    register: int = REGISTER,
    canceled: bool = False,
    changed: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """A basket's detail as `GET /baskets/{uid}` sends it (the list row is its first six fields)."""
    sold = lines if lines is not None else [sale_line(812, None, "MUG-1", 1, 7900)]
    return {
        "uid": uid,
        "crdate": at,
        "tstamp": at if changed is None else changed,
        "canceled": canceled,
        "branch": branch,
        "cash_register": register,
        "total": sum(line["quantity"] * line["selling_price"] - line["discount"] for line in sold)
        if total is None
        else total,
        "currency": "DKK",
        "customer": None,
        "payments": [{"payment_type": "cash", "amount": 7900}],
        "sales": sold,
    }


def sale_line(
    product: int | None,
    variant: int | None,
    sku: str | None,
    quantity: int,
    price: int,
    discount: int = 0,
    vat_rate: int = 25,
    name: str = "Mug",
) -> dict[str, Any]:
    return {
        "uid": 10_000 + (product or 0),
        "product": product,
        "product_variance": variant,
        "sku_code": sku,
        "name": name,
        "quantity": quantity,
        "selling_price": price,
        "discount": discount,
        "vat_rate": vat_rate,
    }


ROW_FIELDS = ("uid", "crdate", "tstamp", "canceled", "branch", "cash_register")


@dataclass
class PagedBaskets:
    """Shopbox's `GET /baskets` as the connector pages it: a page is cut from the list as it is when asked for, so
    a sale made between two page reads shifts the rows of the later pages."""

    baskets: dict[int, dict[str, Any]] = field(default_factory=dict)
    newest_first: bool = True
    # Runs before page `n` (1-based) is read: a sale arriving mid-walk, a crash.
    before_page: Callable[[int], None] | None = None
    first_page_fails: int = 0  # page 1 answers 500 this many more times
    pages_read: list[int] = field(default_factory=list)

    def add(self, basket: dict[str, Any]) -> None:
        self.baskets[basket["uid"]] = basket

    def cancel(self, uid: int, at: int) -> None:
        self.baskets[uid] = {**self.baskets[uid], "canceled": True, "tstamp": at}

    def basket_pages(self, per_page: int = 100) -> Iterator[list[BasketRow]]:
        page = 1
        while True:
            if self.before_page is not None:
                self.before_page(page)
            if page == 1 and self.first_page_fails:
                self.first_page_fails -= 1
                raise RetryableError("Shopbox answered 500 on GET /baskets")
            self.pages_read.append(page)
            listed = sorted(self.baskets.values(), key=lambda b: (b["crdate"], b["uid"]), reverse=self.newest_first)
            rows = listed[(page - 1) * per_page : page * per_page]
            if not rows:
                return
            yield [BasketRow.model_validate({name: row[name] for name in ROW_FIELDS}) for row in rows]
            if page * per_page >= len(listed):
                return
            page += 1

    def basket(self, uid: str) -> Basket | None:
        found = self.baskets.get(int(uid))
        return None if found is None else Basket.model_validate(found)


@dataclass
class Clients:
    """`ConnectionClients` as the stream and the stages use it."""

    shopbox_client: Any = None
    rackbeat_client: Any = None

    def shopbox(self, connection: Any) -> Any:
        return self.shopbox_client

    def rackbeat(self, connection: Any, *, paced: bool = True) -> Any:
        return self.rackbeat_client
